// LoRA (Hu et al. 2021) on any named linear module, fused ones included (Phi-3's qkv_proj and
// gate_up_proj are single matrices, adapted as PEFT adapts them). The base stays frozen:
// only A [r, in] and B [out, r] are trainable graph inputs; y = x W^T + (alpha/r) x A^T B^T.
import type { GraphBuilder, Tensor } from '@emoverse/onnx';
import type { LoraBranch } from './layers.js';
import { isTarget, type LoraAdapter, type LoraPair, type LoraSettings, loraScale } from './peft.js';
import { seededRandom } from './sampling.js';
import type { WeightSource } from './weights.js';

/** How LoRA enters a graph: which modules, and whether A/B are trainable inputs or fixed values. */
export interface LoraInGraph {
  settings: LoraSettings;
  /** trainable: A and B are graph inputs named <module>.lora_A.weight / .lora_B.weight */
  trainable: boolean;
  /** fixed values (inference with an unmerged adapter) */
  adapter?: LoraAdapter;
}

interface HasModules {
  linearModules(): Map<string, [number, number]>;
}

/** Module paths of `model` that `settings.targetModules` selects (as PEFT would). */
export function loraModules(model: HasModules, settings: LoraSettings): string[] {
  return [...model.linearModules().keys()].filter((p) => isTarget(p, settings.targetModules));
}

export function loraBinder(
  g: GraphBuilder,
  model: HasModules,
  l: LoraInGraph,
  provided: Readonly<Record<string, Tensor>> = {},
): { branch: (path: string) => LoraBranch | undefined; inputs: { name: string; shape: number[] }[] } {
  const modules = model.linearModules();
  const made = new Map<string, LoraBranch>();
  const inputs: { name: string; shape: number[] }[] = [];
  const branch = (path: string): LoraBranch | undefined => {
    const done = made.get(path);
    if (done) return done;
    if (!isTarget(path, l.settings.targetModules)) return undefined;
    const dims = modules.get(path);
    if (!dims) return undefined;
    const [out, inp] = dims;
    let A: Tensor;
    let B: Tensor;
    let scale = loraScale(l.settings, l.settings.useRslora);
    if (l.trainable) {
      const r = l.settings.r;
      const an = `${path}.lora_A.weight`;
      const bn = `${path}.lora_B.weight`;
      A = provided[an] ?? g.input(an, 'float32', [r, inp]);
      B = provided[bn] ?? g.input(bn, 'float32', [out, r]);
      inputs.push({ name: an, shape: [r, inp] }, { name: bn, shape: [out, r] });
    } else {
      const pair = l.adapter?.modules.get(path);
      if (!pair) return undefined;
      checkPair(path, pair, out, inp);
      A = g.initializer(`${path}.lora_A.weight`, pair.A, [pair.r, inp]);
      B = g.initializer(`${path}.lora_B.weight`, pair.B, [out, pair.r]);
      scale = loraScale(pair, l.settings.useRslora);
    }
    const b = { A, B, scale, dropout: l.settings.dropout };
    made.set(path, b);
    return b;
  };
  return { branch, inputs };
}

function checkPair(path: string, pair: LoraPair, out: number, inp: number): void {
  if (pair.inFeatures !== inp || pair.outFeatures !== out) {
    throw new Error(
      `LoRA ${path}: adapter is [${pair.outFeatures}, ${pair.inFeatures}] but the module is [${out}, ${inp}]`,
    );
  }
}

/**
 * A fresh adapter as PEFT initialises one: A ~ kaiming-uniform (bound 1/sqrt(in)), B = 0, so
 * the adapted model starts equal to the base.
 */
export function initLora(model: HasModules, settings: LoraSettings, seed = 0): LoraAdapter {
  const random = seededRandom(seed);
  const modules = new Map<string, LoraPair>();
  for (const path of loraModules(model, settings)) {
    const [out, inp] = model.linearModules().get(path)!;
    const bound = 1 / Math.sqrt(inp);
    const A = new Float32Array(settings.r * inp).map(() => (random() * 2 - 1) * bound);
    modules.set(path, {
      A,
      B: new Float32Array(out * settings.r),
      r: settings.r,
      inFeatures: inp,
      outFeatures: out,
      alpha: settings.alpha,
    });
  }
  if (modules.size === 0)
    throw new Error(
      `LoRA: no linear module matches target_modules ${JSON.stringify(settings.targetModules)}`,
    );
  return { settings, modules };
}

/** The adapter's matrices as named trainable values (the graph input names of loraBinder). */
export function loraTensors(adapter: LoraAdapter): Map<string, { shape: number[]; data: Float32Array }> {
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [path, p] of adapter.modules) {
    m.set(`${path}.lora_A.weight`, { shape: [p.r, p.inFeatures], data: p.A });
    m.set(`${path}.lora_B.weight`, { shape: [p.outFeatures, p.r], data: p.B });
  }
  return m;
}

/** Rebuilds an adapter from trained named values (as loraTensors names them). */
export function adapterFromTensors(
  template: LoraAdapter,
  values: (name: string) => Float32Array,
): LoraAdapter {
  const modules = new Map<string, LoraPair>();
  for (const [path, p] of template.modules) {
    modules.set(path, { ...p, A: values(`${path}.lora_A.weight`), B: values(`${path}.lora_B.weight`) });
  }
  return { ...template, modules };
}

/**
 * Merges the adapter into the base for serving: W' = W + scale * B A. Returns a weight source
 * that serves merged matrices (computed when read) and the base for everything else.
 */
export function mergeLora(base: WeightSource, adapter: LoraAdapter): WeightSource {
  const byWeight = new Map<string, LoraPair>();
  for (const [path, p] of adapter.modules) byWeight.set(`${path}.weight`, p);
  return {
    has: (n) => base.has(n),
    shape: (n) => base.shape(n),
    readF32: (n) => {
      const w = base.readF32(n);
      const p = byWeight.get(n);
      if (!p) return w;
      const [out, inp] = base.shape(n);
      checkPair(n, p, out, inp);
      const merged = Float32Array.from(w);
      const scale = loraScale(p, adapter.settings.useRslora);
      for (let o = 0; o < out; o++) {
        for (let k = 0; k < p.r; k++) {
          const b = p.B[o * p.r + k] * scale;
          if (b === 0) continue;
          const row = o * inp;
          const a = k * inp;
          for (let i = 0; i < inp; i++) merged[row + i] += b * p.A[a + i];
        }
      }
      return merged;
    },
  };
}
