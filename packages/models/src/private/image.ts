// Image preprocessing as the HF image processors do it for SigLIP and CLIP:
// resize (bicubic; CLIP resizes the shortest edge then center-crops), scale to [0,1],
// normalise with the processor's mean/std, lay out as CHW float32.
// The numbers come from preprocessor_config.json when the checkpoint has one.

export interface RgbImage {
  width: number;
  height: number;
  /** interleaved RGB (3 bytes per pixel), row-major */
  data: Uint8Array;
}

export interface ImageProcessorConfig {
  /** 'squash' resizes to size x size (SigLIP); 'shortest-edge-crop' resizes the short side then crops (CLIP) */
  mode: 'squash' | 'shortest-edge-crop';
  size: number;
  cropSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  rescaleFactor: number;
}

export const SIGLIP_IMAGE: ImageProcessorConfig = {
  mode: 'squash',
  size: 224,
  cropSize: 224,
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  rescaleFactor: 1 / 255,
};

export const CLIP_IMAGE: ImageProcessorConfig = {
  mode: 'shortest-edge-crop',
  size: 224,
  cropSize: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  rescaleFactor: 1 / 255,
};

/** preprocessor_config.json (+ the tower's image size) -> our settings. */
export function imageProcessorFromHf(
  arch: 'siglip' | 'clip',
  imageSize: number,
  pre: Record<string, unknown> = {},
): ImageProcessorConfig {
  const base = arch === 'clip' ? CLIP_IMAGE : SIGLIP_IMAGE;
  const size = pre.size as { height?: number; shortest_edge?: number } | number | undefined;
  const crop = pre.crop_size as { height?: number } | number | undefined;
  const s = typeof size === 'number' ? size : (size?.shortest_edge ?? size?.height ?? imageSize);
  const c = typeof crop === 'number' ? crop : (crop?.height ?? (arch === 'clip' ? imageSize : s));
  return {
    mode: base.mode,
    size: s,
    cropSize: c,
    mean: (pre.image_mean as [number, number, number]) ?? base.mean,
    std: (pre.image_std as [number, number, number]) ?? base.std,
    rescaleFactor: (pre.rescale_factor as number) ?? base.rescaleFactor,
  };
}

/** One image -> pixel_values [3, S, S] where S is the crop size. */
export function preprocessImage(img: RgbImage, cfg: ImageProcessorConfig): Float32Array {
  let w: number;
  let h: number;
  if (cfg.mode === 'squash') {
    w = cfg.size;
    h = cfg.size;
  } else {
    const short = Math.min(img.width, img.height);
    w = Math.round((img.width * cfg.size) / short);
    h = Math.round((img.height * cfg.size) / short);
  }
  const resized = resizeBicubic(img, w, h);
  const S = cfg.cropSize;
  const top = Math.max(0, Math.round((h - S) / 2));
  const left = Math.max(0, Math.round((w - S) / 2));
  const out = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const sy = Math.min(h - 1, y + top);
        const sx = Math.min(w - 1, x + left);
        const v = resized[(sy * w + sx) * 3 + c] * cfg.rescaleFactor;
        out[c * S * S + y * S + x] = (v - cfg.mean[c]) / cfg.std[c];
      }
    }
  }
  return out;
}

// Keys' cubic with a = -0.5, as PIL's BICUBIC.
function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

// Separable resampling in the manner of PIL: when shrinking, the kernel is widened by the
// scale so that every source pixel contributes (antialiasing). Values stay in 0..255, clamped.
function resample1d(src: Float32Array, n: number, stride: number, count: number, outN: number): Float32Array {
  const scale = n / outN;
  const support = 2 * Math.max(scale, 1);
  const fscale = Math.max(scale, 1);
  const out = new Float32Array(outN * count);
  for (let o = 0; o < outN; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(n, Math.ceil(center + support));
    const weights: number[] = [];
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const wgt = cubic((i + 0.5 - center) / fscale);
      weights.push(wgt);
      total += wgt;
    }
    for (let k = 0; k < count; k++) {
      let acc = 0;
      for (let i = lo; i < hi; i++) acc += weights[i - lo] * src[i * stride + k];
      out[o * count + k] = Math.min(255, Math.max(0, acc / total));
    }
  }
  return out;
}

function resizeBicubic(img: RgbImage, w: number, h: number): Float32Array {
  const src = Float32Array.from(img.data);
  if (img.width === w && img.height === h) return src;
  // rows: for each row, resample along x (treat the row as n=width pixels of 3 channels)
  const rows = new Float32Array(img.height * w * 3);
  for (let y = 0; y < img.height; y++) {
    const line = src.subarray(y * img.width * 3, (y + 1) * img.width * 3);
    rows.set(resample1d(line, img.width, 3, 3, w), y * w * 3);
  }
  // columns: resample along y, each "pixel" is a whole row of w*3 values
  return resample1d(rows, img.height, w * 3, w * 3, h);
}
