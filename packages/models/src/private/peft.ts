// LoRA adapters in PEFT's own on-disk format, so they move both ways between this project and
// Python: adapter_config.json + adapter_model.safetensors with tensors named
// base_model.model.<module>.lora_A.weight [r, in] and ...lora_B.weight [out, r].
// The update a module gets is  W' = W + (alpha / r) * B A  (alpha / sqrt(r) with rsLoRA).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from '@emoverse/safetensors';

export interface LoraSettings {
  r: number;
  alpha: number;
  dropout: number;
  /** Module name suffixes (PEFT's target_modules): 'q_proj', 'qkv_proj', 'gate_up_proj', ... */
  targetModules: string[];
  useRslora: boolean;
}

export const DEFAULT_LORA: LoraSettings = {
  r: 8,
  alpha: 32,
  dropout: 0,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  useRslora: false,
};

export interface LoraPair {
  /** [r, in] row-major */
  A: Float32Array;
  /** [out, r] row-major */
  B: Float32Array;
  r: number;
  inFeatures: number;
  outFeatures: number;
  /** alpha for this module (PEFT's alpha_pattern may override lora_alpha) */
  alpha: number;
}

export interface LoraAdapter {
  settings: LoraSettings;
  /** module path (e.g. model.layers.0.self_attn.q_proj) -> its A and B */
  modules: Map<string, LoraPair>;
  /** the Python class the adapter was made for, kept for the round trip */
  baseModelClass?: string;
}

export function loraScale(p: { alpha: number; r: number }, useRslora: boolean): number {
  return useRslora ? p.alpha / Math.sqrt(p.r) : p.alpha / p.r;
}

/** Whether PEFT would wrap `modulePath` given target_modules (a list of suffixes, or a regex string). */
export function isTarget(modulePath: string, targets: string[] | string): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(modulePath);
  return targets.some((t) => modulePath === t || modulePath.endsWith(`.${t}`));
}

const PREFIX = 'base_model.model.';

export function readPeftAdapter(dir: string): LoraAdapter {
  const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  if (cfg.peft_type !== 'LORA') throw new Error(`${dir}: peft_type ${String(cfg.peft_type)} is not LORA`);
  if (cfg.use_dora) throw new Error(`${dir}: DoRA adapters are not supported`);
  if (cfg.fan_in_fan_out) throw new Error(`${dir}: fan_in_fan_out (Conv1D) adapters are not supported`);
  if (cfg.bias && cfg.bias !== 'none')
    throw new Error(`${dir}: LoRA bias "${String(cfg.bias)}" is not supported`);
  const targets = cfg.target_modules as string[] | string;
  const settings: LoraSettings = {
    r: Number(cfg.r),
    alpha: Number(cfg.lora_alpha),
    dropout: Number(cfg.lora_dropout ?? 0),
    targetModules: Array.isArray(targets) ? [...targets].sort() : [targets],
    useRslora: cfg.use_rslora === true,
  };
  const alphaPattern = (cfg.alpha_pattern ?? {}) as Record<string, number>;
  const file = SafetensorsFile.open(join(dir, 'adapter_model.safetensors'));
  const modules = new Map<string, LoraPair>();
  try {
    for (const name of file.names()) {
      const m = /^(.*)\.lora_A(?:\.default)?\.weight$/.exec(name);
      if (!m) continue;
      const bName = name.replace('.lora_A', '.lora_B');
      if (!file.tensors.has(bName)) throw new Error(`${dir}: ${name} has no matching ${bName}`);
      const a = file.readF32(name);
      const b = file.readF32(bName);
      const path = m[1].startsWith(PREFIX) ? m[1].slice(PREFIX.length) : m[1];
      const [r, inFeatures] = a.shape;
      const [outFeatures, rB] = b.shape;
      if (rB !== r) throw new Error(`${dir}: ${bName} has rank ${rB} but ${name} has rank ${r}`);
      const key = Object.keys(alphaPattern).find((k) => path === k || path.endsWith(`.${k}`));
      modules.set(path, {
        A: a.data,
        B: b.data,
        r,
        inFeatures,
        outFeatures,
        alpha: key ? alphaPattern[key] : settings.alpha,
      });
    }
  } finally {
    file.close();
  }
  const auto = cfg.auto_mapping as { base_model_class?: string } | null;
  return { settings, modules, baseModelClass: auto?.base_model_class };
}

export function writePeftAdapter(dir: string, adapter: LoraAdapter): void {
  mkdirSync(dir, { recursive: true });
  const s = adapter.settings;
  const alphaPattern: Record<string, number> = {};
  const rankPattern: Record<string, number> = {};
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [path, p] of adapter.modules) {
    if (p.alpha !== s.alpha) alphaPattern[path] = p.alpha;
    if (p.r !== s.r) rankPattern[path] = p.r;
    tensors[`${PREFIX}${path}.lora_A.weight`] = { dtype: 'F32', shape: [p.r, p.inFeatures], data: p.A };
    tensors[`${PREFIX}${path}.lora_B.weight`] = { dtype: 'F32', shape: [p.outFeatures, p.r], data: p.B };
  }
  const config = {
    alpha_pattern: alphaPattern,
    auto_mapping: adapter.baseModelClass ? { base_model_class: adapter.baseModelClass } : null,
    base_model_name_or_path: null,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: s.r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: s.targetModules,
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: s.useRslora,
  };
  writeFileSync(join(dir, 'adapter_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
}
