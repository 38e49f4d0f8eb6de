// Plain-data forms of frames and faces for transport (the services put them into proto messages):
// a frame as JPEG, and a face's geometry as one flat float list, because the Face message carries
// "landmarks, flattened x0, y0, x1, y1, ...". The list holds the 68 iBUG landmarks first, then the
// 478 mesh points (468 + 10 iris), so a reader that only knows the 68-point layout still finds them first.
import sharp from 'sharp';
import type { Frame } from './decode.js';
import type { Point } from './types.js';

export const LANDMARK_COUNT = 68;
export const MESH_COUNT = 478;

export function packFaceGeometry(face: {
  landmarks: readonly Point[];
  mesh: readonly (readonly number[])[];
}): number[] {
  const out: number[] = [];
  for (const p of face.landmarks) out.push(p.x, p.y);
  for (const p of face.mesh) out.push(p[0], p[1]);
  return out;
}

/** Inverse of packFaceGeometry; mesh z comes back as 0 (the AU measures use x and y only). */
export function unpackFaceGeometry(flat: readonly number[]): {
  landmarks: Point[];
  mesh: [number, number, number][];
} {
  if (flat.length !== 2 * (LANDMARK_COUNT + MESH_COUNT)) {
    throw new Error(
      `face geometry: expected ${2 * (LANDMARK_COUNT + MESH_COUNT)} floats (68 landmarks + 478 mesh points), got ${flat.length}`,
    );
  }
  const landmarks: Point[] = [];
  for (let i = 0; i < LANDMARK_COUNT; i++) landmarks.push({ x: flat[2 * i], y: flat[2 * i + 1] });
  const mesh: [number, number, number][] = [];
  for (let i = LANDMARK_COUNT; i < LANDMARK_COUNT + MESH_COUNT; i++)
    mesh.push([flat[2 * i], flat[2 * i + 1], 0]);
  return { landmarks, mesh };
}

export function encodeFrameJpeg(frame: Frame, quality = 85): Promise<Buffer> {
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** The largest image decodeImage accepts, in pixels (a 4K frame is 8.3 million). */
export const MAX_IMAGE_PIXELS = 50_000_000;

/**
 * Any image sharp reads (JPEG, PNG, WebP...) as an RGB frame, turned upright by its EXIF orientation.
 * Images above MAX_IMAGE_PIXELS are refused before they are decoded.
 */
export async function decodeImage(bytes: Uint8Array, index = 0, timeS = 0): Promise<Frame> {
  const { data, info } = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    index,
    timeS,
    width: info.width,
    height: info.height,
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/**
 * Whether the file at `path` is an image that decodeImage reads (JPEG, PNG, WebP...; an animation is
 * read as its first frame), and not a video: sharp reads the header only, and refuses video containers.
 */
export async function isStillImage(path: string): Promise<boolean> {
  try {
    await sharp(path, { limitInputPixels: false }).metadata();
    return true;
  } catch {
    return false;
  }
}
