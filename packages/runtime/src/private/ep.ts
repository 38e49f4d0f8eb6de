// Execution-provider probing and selection. ORT does not fall back on its own: a session
// asked for 'cuda' on a machine without the CUDA provider library just fails. So each EP
// in the preference list is tried on a one-node model, and the reason for every failure
// is kept, to be shown to the user.

import { GraphBuilder, toModelProto } from '@emoverse/onnx';
import * as ort from 'onnxruntime-node';

export type EpName = 'cuda' | 'webgpu' | 'cpu';
/** Every EP this project runs on, in the order messages list them; the one list of valid names. */
export const EP_NAMES: readonly EpName[] = ['cpu', 'webgpu', 'cuda'];
/** Preference order when nothing is asked for: the fastest that opens. */
export const DEFAULT_EP_ORDER: readonly EpName[] = ['cuda', 'webgpu', 'cpu'];

/** Whether text names an EP of EP_NAMES (for checking env variables, flags and requests). */
export function isEpName(text: string): text is EpName {
  return (EP_NAMES as readonly string[]).includes(text);
}

export interface EpProbe {
  ep: EpName;
  available: boolean;
  /** Why the EP cannot be used (absent when available). */
  reason?: string;
}

const cache = new Map<EpName, Promise<EpProbe>>();

/** ORT's execution-provider config for one of our EP names. */
export function epConfig(ep: EpName, deviceId = 0): ort.InferenceSession.ExecutionProviderConfig {
  if (ep === 'cuda') return { name: 'cuda', deviceId };
  if (ep === 'webgpu') return { name: 'webgpu' } as ort.InferenceSession.ExecutionProviderConfig;
  return 'cpu';
}

function probeModel(): Uint8Array {
  const g = new GraphBuilder('probe');
  const x = g.input('x', 'float32', [4]);
  g.output(g.add(x, x), 'y');
  return toModelProto(g).model;
}

async function probeOnce(ep: EpName): Promise<EpProbe> {
  const backends = ort.listSupportedBackends();
  const entry = backends.find((b) => b.name === ep);
  if (!entry) return { ep, available: false, reason: `this onnxruntime-node build has no ${ep} backend` };
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(probeModel(), {
      executionProviders: [epConfig(ep)],
      logSeverityLevel: 3,
    });
    const y = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
    const data = y.y.data as Float32Array;
    if (data[3] !== 8) return { ep, available: false, reason: `${ep} ran a test Add but returned ${data}` };
    return { ep, available: true };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    const hint =
      ep === 'cuda' && !entry.bundled
        ? ' (the CUDA provider libraries are not in the npm package: add libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so from NuGet Microsoft.ML.OnnxRuntime.Gpu.Linux, with CUDA 12 and cuDNN 9)'
        : ep === 'webgpu'
          ? ' (WebGPU needs a Vulkan driver: libvulkan1 plus an ICD via VK_ICD_FILENAMES/VK_DRIVER_FILES, e.g. lavapipe from scripts/setup-lavapipe.sh, or the NVIDIA driver)'
          : '';
    return { ep, available: false, reason: `${msg}${hint}` };
  } finally {
    await session?.release();
  }
}

/** Probes one EP (cached per process). */
export function probeExecutionProvider(ep: EpName): Promise<EpProbe> {
  let p = cache.get(ep);
  if (!p) {
    p = probeOnce(ep);
    cache.set(ep, p);
  }
  return p;
}

/**
 * The first available EP of `order` (default cuda → webgpu → cpu), with every probe made,
 * so the caller can log why the ones before were skipped.
 */
export async function selectExecutionProvider(
  order: readonly EpName[] = DEFAULT_EP_ORDER,
): Promise<{ ep: EpName; probes: EpProbe[] }> {
  const probes: EpProbe[] = [];
  for (const ep of order) {
    const probe = await probeExecutionProvider(ep);
    probes.push(probe);
    if (probe.available) return { ep, probes };
  }
  throw new Error(
    `no execution provider of [${order.join(', ')}] is available:\n${probes.map((p) => `  ${p.ep}: ${p.reason}`).join('\n')}`,
  );
}

/** Parses an EP list such as 'webgpu,cpu' (env vars, CLI flags). */
export function parseEpList(text: string): EpName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) if (!isEpName(n)) throw new Error(`unknown execution provider '${n}'`);
  return names as EpName[];
}
