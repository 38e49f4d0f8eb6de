// npm run eval:au -- --video <file> --openface <OpenFace CSV> [--out <file.csv>] [--fps <n>]
// Runs the whole pipeline (ffmpeg → faces → landmarks → AUs → peaks) on a video and compares it frame by
// frame with an OpenFace output of the same video. Last line: mean_r=<x> peak_delta_s=<y>.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  AU_NAMES,
  CLAIMED_AUS,
  compareWithOpenFace,
  type FrameGeometry,
  mainFaceId,
  openFacePeak,
  readOpenFaceCsv,
  scoreAus,
  toOpenFaceRows,
  writeOpenFaceCsv,
} from '@emoverse/facs';
import { analyzeVideo } from '@emoverse/video';

const { values } = parseArgs({
  options: {
    video: { type: 'string' },
    openface: { type: 'string' },
    out: { type: 'string' },
    fps: { type: 'string' },
  },
});
if (!values.video || !values.openface) {
  console.error(
    'usage: npm run eval:au -- --video <file> --openface <OpenFace CSV> [--out <file.csv>] [--fps <n>]',
  );
  process.exit(2);
}

/** Bad input ends the run with one clear line and exit code 1, not a stack trace. */
function fail(what: string, err: unknown): never {
  console.error(`eval:au: ${what}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

let reference: ReturnType<typeof readOpenFaceCsv>;
try {
  reference = readOpenFaceCsv(readFileSync(values.openface, 'utf8'));
} catch (err) {
  fail(`cannot read OpenFace CSV ${values.openface}`, err);
}
const t0 = performance.now();
const frames: FrameGeometry[] = [];
try {
  for await (const f of analyzeVideo(values.video, { fps: values.fps ? Number(values.fps) : undefined })) {
    frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
  }
} catch (err) {
  fail(`cannot analyse ${values.video}`, err);
}
const seconds = (performance.now() - t0) / 1000;
const analysis = scoreAus(frames);
const rows = toOpenFaceRows(analysis.frames, frames);
if (values.out) writeFileSync(values.out, writeOpenFaceCsv(rows));

// OpenFace's FeatureExtraction follows one face: compare its most-seen face with our most-seen person
// (the two tools number people independently).
const main = mainFaceId(rows);
const refFace = mainFaceId(reference);
const people = new Set(rows.filter((r) => r.success).map((r) => r.face_id)).size;
const cmp = compareWithOpenFace(rows, reference, { ours: main, reference: refFace });

console.log(
  `video: ${values.video}  frames: ${frames.length}  people: ${people}  time: ${seconds.toFixed(1)} s`,
);
console.log(`compared: our person ${main} vs OpenFace face ${refFace}, ${cmp.matchedFrames} matched frames`);
console.log('AU     r      MAE   claimed');
for (const a of cmp.perAu) {
  const claimed = CLAIMED_AUS.includes(a.au) ? 'yes' : '';
  console.log(
    `${a.au}  ${Number.isNaN(a.r) ? '  n/a' : a.r.toFixed(3).padStart(6)}  ${a.mae.toFixed(3)}  ${claimed}`,
  );
}
const claimedR = cmp.perAu.filter((a) => CLAIMED_AUS.includes(a.au) && Number.isFinite(a.r));
const meanR = claimedR.reduce((s, a) => s + a.r, 0) / (claimedR.length || 1);
console.log(
  `claimed AUs: ${CLAIMED_AUS.join(' ')} (${claimedR.length} with a defined r; not claimed: ${AU_NAMES.filter((a) => !CLAIMED_AUS.includes(a)).join(' ')})`,
);
const refPeak = openFacePeak(reference);
const ours = analysis.peak;
for (const p of analysis.peaks) {
  console.log(
    `person ${p.personId}: peak frame ${p.index + 1} at ${p.timeS.toFixed(3)} s, S_f=${p.S_f.toFixed(2)} (${p.usableFrames} usable frames)`,
  );
}
console.log(
  `peak (eq. 2): ours frame ${ours ? ours.index + 1 : 'none'} at ${ours ? ours.timeS.toFixed(3) : 'n/a'} s (person ${ours?.personId ?? '-'}); OpenFace frame ${refPeak?.frame ?? 'none'} at ${refPeak ? refPeak.timestamp.toFixed(3) : 'n/a'} s`,
);
const delta = ours && refPeak ? ours.timeS - refPeak.timestamp : Number.NaN;
console.log(`mean_r=${meanR.toFixed(3)} peak_delta_s=${delta.toFixed(3)}`);
