// npm run bench:au [-- --seconds 6]
// End-to-end frames per second of the AU pipeline on 640×360 video with one face and with three faces,
// next to a named peer measured in the same run on the same frames. CPU time includes ffmpeg (a reaped
// child), so fps per core is frames / CPU seconds of everything that ran.
// - ours (analyzeVideo, then scoreAus): ffmpeg decode; @vladmandic/human's mesh and
//   iris on every frame, its detector only on the first frame, at least every 0.3 s and whenever a face
//   may have been lost or a frame has no face (else human follows each face by its previous mesh box;
//   policy in packages/video/src/private/face-tracking.ts); face-api's 68-landmark net and its expression
//   net each only for faces whose mesh moved in the parts that net depends on or whose last result from
//   it is older than 0.4 s (else that result is carried over; policy in landmark-reuse.ts); person
//   tracking; AUs and peaks.
// - peer "human-only": ffmpeg decode, then human's detector, mesh and iris on every letterboxed frame
//   (human's default of this repo: no frame skipping, no caching), and nothing else (no face-api, no AUs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type FrameGeometry, scoreAus } from '@emoverse/facs';
import { analyzeVideo, decodeFrames, loadFaceModels } from '@emoverse/video';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '6' } } });
const seconds = Number(values.seconds);
const shared = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../shared');
const tmp = mkdtempSync(join(tmpdir(), 'emoverse-bench-'));

/** CPU seconds of this process and its reaped children (ffmpeg), from /proc. */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime, cstime are fields 14–17 of stat, i.e. 11–14 after the command name.
  return [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i]), 0) / 100;
}

interface Run {
  frames: number;
  faces: number;
  wallS: number;
  cpuS: number;
}

async function measure(fn: () => Promise<{ frames: number; faces: number }>): Promise<Run> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const r = await fn();
  return { ...r, wallS: (performance.now() - t0) / 1000, cpuS: cpuSeconds() - c0 };
}

async function ours(path: string) {
  const frames: FrameGeometry[] = [];
  let faces = 0;
  for await (const f of analyzeVideo(path)) {
    frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
    faces += f.faces.length;
  }
  scoreAus(frames);
  return { frames: frames.length, faces };
}

async function humanOnly(path: string) {
  const { tf, human } = await loadFaceModels();
  let frames = 0;
  let faces = 0;
  for await (const f of decodeFrames(path)) {
    const image = tf.tensor3d(f.rgb, [f.height, f.width, 3], 'int32');
    const side = Math.max(f.width, f.height);
    const square = tf.pad(image, [
      [0, side - f.height],
      [0, side - f.width],
      [0, 0],
    ]);
    const r = await human.detect(square);
    faces += r.face.length;
    frames++;
    square.dispose();
    image.dispose();
  }
  return { frames, faces };
}

const line = (name: string, r: Run) =>
  `${name.padEnd(34)} frames=${r.frames} faces/frame=${(r.faces / r.frames).toFixed(2)} fps=${(r.frames / r.wallS).toFixed(2)} cpu_cores=${(r.cpuS / r.wallS).toFixed(2)} fps_per_core=${(r.frames / r.cpuS).toFixed(2)}`;

try {
  const one = join(tmp, 'one-face.mp4');
  const three = join(tmp, 'three-faces.mp4');
  const ff = (...a: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...a]);
  ff(
    '-i',
    join(shared, 'data/faces/WolfgangLanger_Pexels.mp4'),
    '-t',
    String(seconds),
    '-an',
    '-vf',
    'fps=15',
    '-c:v',
    'mpeg4',
    '-q:v',
    '2',
    one,
  );
  ff(
    '-i',
    join(shared, 'data/openface/samples/multi_face.avi'),
    '-t',
    String(seconds),
    '-an',
    '-vf',
    'fps=15,scale=480:360,pad=640:360:80:0',
    '-c:v',
    'mpeg4',
    '-q:v',
    '2',
    three,
  );
  await loadFaceModels();
  await ours(one); // warm-up: wasm compilation, first inference of every net
  console.log(
    `bench:au  ${seconds} s of 640×360 at 15 fps; peer = human-only (decode + detector + mesh + iris)`,
  );
  for (const [label, clip] of [
    ['1 face', one],
    ['3 faces', three],
  ] as const) {
    const peer = await measure(() => humanOnly(clip));
    const full = await measure(() => ours(clip));
    console.log(line(`ours (full AU pipeline), ${label}`, full));
    console.log(line(`peer human-only, ${label}`, peer));
    console.log(
      `ratio ours/peer, ${label}: fps=${(full.frames / full.wallS / (peer.frames / peer.wallS)).toFixed(3)} fps_per_core=${(full.frames / full.cpuS / (peer.frames / peer.cpuS)).toFixed(3)}`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
