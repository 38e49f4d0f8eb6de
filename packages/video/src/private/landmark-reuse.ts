// Carries face-api's 68 landmarks and its expression of a face to later frames while the face mesh shows
// the parts of the face they depend on unchanged, so the two face-api nets run only on faces that moved
// those parts (each net on its own: a talking mouth re-runs the expression net, not the landmark net).
//
// Policy: a face of this frame continues the face of the previous frame it overlaps most (box IoU at least
// MIN_IOU). Each of its two face-api results (landmarks; expression) is reused when all of these hold,
// else that net runs on the face again:
// - the result is younger than MAX_AGE_S seconds of video;
// - after the best similarity (shift, scale, in-plane rotation) from the mesh of the frame the net ran on
//   to this frame's mesh, fitted on rigid points (forehead, nose, eye corners, face sides), the scale
//   changed by less than MAX_SCALE_CHANGE and no expressive group of mesh points that result depends on
//   moved by more than its limit (RMS over the group, in inter-ocular distances, but at least MIN_MOVE_PX
//   pixels): brows (BROW_MOVE) and eyelids (FEATURE_MOVE) for the landmarks, which are used for brows;
//   those and the lips and chin, each by EXPRESSION_MOVE, for the expression (a slower signal: it picks the
//   neutral frames of a person's baseline).
// Reused landmarks are the old ones mapped through that similarity; a reused expression is kept as it was.
import type { Point } from './types.js';

export const MIN_IOU = 0.5;
export const MAX_AGE_S = 0.4;
export const BROW_MOVE = 0.035;
export const FEATURE_MOVE = 0.06;
export const EXPRESSION_MOVE = 0.1;
export const MAX_SCALE_CHANGE = 0.05;
/** human rounds mesh points to whole pixels: on a small face that alone moves a group by about 1 px. */
export const MIN_MOVE_PX = 1.5;

type Mesh = readonly (readonly number[])[];

// MediaPipe mesh indices.
const RIGID = [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 133, 362, 263, 234, 454, 127, 356, 93, 323];
// Expressive groups and the largest RMS move (inter-ocular distances) each may make before face-api runs
// again: brows are what its landmarks are used for; the mouth and eyes also change its expression. The
// mesh itself jitters by 0.01–0.03 from frame to frame on a large face, by a pixel on any face.
interface Group {
  points: number[];
  maxMove: number;
}
const LIPS_AND_CHIN = [0, 13, 14, 17, 61, 291, 78, 308, 152];
const LANDMARK_GROUPS: Group[] = [
  { points: [70, 63, 105, 66, 107, 46, 53, 52, 65, 55], maxMove: BROW_MOVE }, // right brow
  { points: [300, 293, 334, 296, 336, 276, 283, 282, 295, 285], maxMove: BROW_MOVE }, // left brow
  { points: [159, 145, 158, 153, 160, 144], maxMove: FEATURE_MOVE }, // right eyelids
  { points: [386, 374, 385, 380, 387, 373], maxMove: FEATURE_MOVE }, // left eyelids
];
const EXPRESSION_GROUPS: Group[] = [...LANDMARK_GROUPS.map((g) => g.points), LIPS_AND_CHIN].map((points) => ({
  points,
  maxMove: EXPRESSION_MOVE,
}));

/** x' = a·x − b·y + tx, y' = b·x + a·y + ty. */
interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity taking `from`'s rigid points onto `to`'s. */
export function fitSimilarity(from: Mesh, to: Mesh): Similarity {
  let fx = 0;
  let fy = 0;
  let gx = 0;
  let gy = 0;
  for (const i of RIGID) {
    fx += from[i][0];
    fy += from[i][1];
    gx += to[i][0];
    gy += to[i][1];
  }
  const n = RIGID.length;
  [fx, fy, gx, gy] = [fx / n, fy / n, gx / n, gy / n];
  let sa = 0;
  let sb = 0;
  let ss = 0;
  for (const i of RIGID) {
    const x = from[i][0] - fx;
    const y = from[i][1] - fy;
    const u = to[i][0] - gx;
    const v = to[i][1] - gy;
    sa += x * u + y * v;
    sb += x * v - y * u;
    ss += x * x + y * y;
  }
  const a = ss > 0 ? sa / ss : 1;
  const b = ss > 0 ? sb / ss : 0;
  return { a, b, tx: gx - a * fx + b * fy, ty: gy - b * fx - a * fy };
}

function apply(s: Similarity, x: number, y: number): [number, number] {
  return [s.a * x - s.b * y + s.tx, s.b * x + s.a * y + s.ty];
}

function interOcular(mesh: Mesh): number {
  const cx = (i: number, j: number, k: 0 | 1) => (mesh[i][k] + mesh[j][k]) / 2;
  return Math.hypot(cx(33, 133, 0) - cx(362, 263, 0), cx(33, 133, 1) - cx(362, 263, 1)) || 1;
}

/** Whether one of `groups` moved by more than it may between the meshes, after `s`. */
function groupsMoved(from: Mesh, to: Mesh, s: Similarity, groups: Group[]): boolean {
  const iod = interOcular(to);
  return groups.some(({ points, maxMove }) => {
    let sq = 0;
    for (const i of points) {
      const [x, y] = apply(s, from[i][0], from[i][1]);
      sq += (x - to[i][0]) ** 2 + (y - to[i][1]) ** 2;
    }
    return Math.sqrt(sq / points.length) > Math.max(maxMove * iod, MIN_MOVE_PX);
  });
}

/** Landmarks or expression as face-api gave them, with the mesh and time of that frame. */
export interface Part<T> {
  value: T;
  mesh: Mesh;
  timeS: number;
}

/** A face's last landmarks and expression (each perhaps from a different frame). */
export interface FaceApiMemory<E> {
  landmarks: Part<Point[]>;
  expression: Part<E>;
}

/** What can be carried to this frame: landmarks mapped onto it, the expression as it was. */
export interface Carried<E> {
  /** The landmarks mapped to this frame, and the part they come from. */
  landmarks?: { points: Point[]; source: Part<Point[]> };
  expression?: Part<E>;
}

type Box = readonly [number, number, number, number];

function iou(a: Box, b: Box): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  const inter = Math.max(0, w) * Math.max(0, h);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** The similarity from `part`'s frame to `mesh` when `part` may be reused on it (file header), else null. */
function reuseMap<T>(part: Part<T>, mesh: Mesh, timeS: number, groups: Group[]): Similarity | null {
  if (timeS - part.timeS >= MAX_AGE_S || timeS < part.timeS) return null;
  if (part.mesh.length < 468 || mesh.length < 468) return null;
  const s = fitSimilarity(part.mesh, mesh);
  if (Math.abs(Math.hypot(s.a, s.b) - 1) >= MAX_SCALE_CHANGE) return null;
  return groupsMoved(part.mesh, mesh, s, groups) ? null : s;
}

/** Per-sequence memory of the face-api results of every face of the previous frame. */
export class LandmarkReuse<E> {
  private previous: { box: Box; memory: FaceApiMemory<E> }[] = [];
  /** Faces seen, and how many times each net ran (for tests and benchmarks). */
  faces = 0;
  landmarkRuns = 0;
  expressionRuns = 0;

  /** For each face of this frame, the memory of the previous frame's face it continues, if any. */
  private continued(boxes: readonly Box[]): (FaceApiMemory<E> | undefined)[] {
    const pairs: { i: number; j: number; o: number }[] = [];
    boxes.forEach((b, i) => {
      this.previous.forEach((p, j) => {
        const o = iou(b, p.box);
        if (o >= MIN_IOU) pairs.push({ i, j, o });
      });
    });
    pairs.sort((x, y) => y.o - x.o);
    const out: (FaceApiMemory<E> | undefined)[] = boxes.map(() => undefined);
    const used = new Set<number>();
    for (const { i, j } of pairs) {
      if (out[i] || used.has(j)) continue;
      out[i] = this.previous[j].memory;
      used.add(j);
    }
    return out;
  }

  /** What each face of this frame may reuse (file header); what is missing, face-api has to compute. */
  reusable(faces: readonly { box: Box; mesh: Mesh }[], timeS: number): Carried<E>[] {
    const old = this.continued(faces.map((f) => f.box));
    return faces.map((f, i) => {
      const m = old[i];
      if (!m) return {};
      const out: Carried<E> = {};
      const s = reuseMap(m.landmarks, f.mesh, timeS, LANDMARK_GROUPS);
      if (s) {
        const points = m.landmarks.value.map((p) => {
          const [x, y] = apply(s, p.x, p.y);
          return { x, y };
        });
        out.landmarks = { points, source: m.landmarks };
      }
      if (reuseMap(m.expression, f.mesh, timeS, EXPRESSION_GROUPS)) out.expression = m.expression;
      return out;
    });
  }

  /** Records this frame's faces, each with the parts face-api gave now or the ones reused. */
  remember(
    faces: readonly {
      box: Box;
      memory: FaceApiMemory<E>;
      ran: { landmarks: boolean; expression: boolean };
    }[],
  ): void {
    this.faces += faces.length;
    this.landmarkRuns += faces.filter((f) => f.ran.landmarks).length;
    this.expressionRuns += faces.filter((f) => f.ran.expression).length;
    this.previous = faces.map((f) => ({ box: f.box, memory: f.memory }));
  }
}
