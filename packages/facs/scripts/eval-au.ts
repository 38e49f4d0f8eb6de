// npm run eval:au [-- --video <file> --openface <OpenFace CSV>] [--out <file.csv>] [--no-cache]
// Runs the whole pipeline (ffmpeg → faces → landmarks → AUs → peaks) on the six clips with a real OpenFace
// reference (or on one video given), and compares it frame by frame: every AU's r and MAE (claimed or
// not), the r of our S_f series with OpenFace's (sf_r), the peak delta, and the largest estimated AU at
// each peak. Last line, over the clips not used to fit any constant (FIT_CLIPS):
// mean_r=<x> sf_r=<y> peak_delta_s=<z> (mean |delta|). Before it, the largest estimated AU at every
// person's peak in every other video and still image of ../shared/data/faces and openface/samples.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  AU_NAMES,
  type AuAnalysis,
  CLAIMED_AUS,
  type ClipEvaluation,
  evaluateAgainstOpenFace,
  FIT_CLIPS,
  type FrameGeometry,
  readOpenFaceCsv,
  scoreAus,
  toOpenFaceRows,
  writeOpenFaceCsv,
} from '@emoverse/facs';
import { analyzeFrames, decodeImage } from '@emoverse/video';
import { CLIPS, type Clip, clipGeometry, SHARED } from './clips.js';

const { values } = parseArgs({
  options: {
    video: { type: 'string' },
    openface: { type: 'string' },
    out: { type: 'string' },
    'no-cache': { type: 'boolean', default: false },
  },
});
if (Boolean(values.video) !== Boolean(values.openface)) {
  console.error('usage: npm run eval:au [-- --video <file> --openface <OpenFace CSV>] [--out <file.csv>]');
  process.exit(2);
}
const cacheDir = values['no-cache'] ? undefined : join(import.meta.dirname, '../../../.cache/facs-geometry');

/** Bad input ends the run with one clear line and exit code 1, not a stack trace. */
function fail(what: string, err: unknown): never {
  console.error(`eval:au: ${what}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const estimated = AU_NAMES.filter((a) => !CLAIMED_AUS.includes(a));

async function evaluate(clip: Clip): Promise<ClipEvaluation> {
  let reference: ReturnType<typeof readOpenFaceCsv>;
  try {
    reference = readOpenFaceCsv(readFileSync(clip.openface, 'utf8'));
  } catch (err) {
    fail(`cannot read OpenFace CSV ${clip.openface}`, err);
  }
  const t0 = performance.now();
  let frames: Awaited<ReturnType<typeof clipGeometry>>;
  try {
    frames = await clipGeometry(clip.video, cacheDir);
  } catch (err) {
    fail(`cannot analyse ${clip.video}`, err);
  }
  const seconds = (performance.now() - t0) / 1000;
  const analysis = scoreAus(frames);
  if (values.out) writeFileSync(values.out, writeOpenFaceCsv(toOpenFaceRows(analysis.frames, frames)));
  const e = evaluateAgainstOpenFace(frames, analysis, reference, CLAIMED_AUS);
  const set = FIT_CLIPS.includes(clip.name) ? 'fit' : 'held-out';
  console.log(`\n== ${clip.name} (${set}): ${clip.video}`);
  console.log(
    `frames: ${frames.length}  people: ${analysis.peaks.length}  time: ${seconds.toFixed(1)} s; our person ${e.person} vs the face OpenFace followed, ${e.matchedFrames} matched frames`,
  );
  console.log('AU     r      MAE   claimed');
  for (const a of e.perAu)
    console.log(`${a.au}  ${fmt(a.r).padStart(6)}  ${fmt(a.mae)}  ${a.claimed ? 'yes' : ''}`);
  const p = e.ourPeak;
  const worst = p ? estimated.reduce((w, a) => (p.aus[a] > p.aus[w] ? a : w), estimated[0]) : undefined;
  console.log(
    `peak: ours frame ${p ? p.index + 1 : 'none'} at ${p ? p.timeS.toFixed(3) : 'n/a'} s, OpenFace frame ${e.referencePeak?.frame ?? 'none'} at ${e.referencePeak ? e.referencePeak.timestamp.toFixed(3) : 'n/a'} s; largest estimated AU at our peak: ${worst && p ? `${worst} ${p.aus[worst].toFixed(2)}` : 'n/a'}`,
  );
  console.log(
    `clip=${clip.name} set=${set} mean_r=${fmt(e.meanR)} sf_r=${fmt(e.sfR)} peak_delta_s=${fmt(e.peakDeltaS)}`,
  );
  return e;
}

const clips: Clip[] = values.video
  ? [{ name: values.video.split('/').pop() ?? values.video, video: values.video, openface: values.openface! }]
  : [...CLIPS];
const results: { clip: Clip; e: ClipEvaluation }[] = [];
for (const clip of clips) results.push({ clip, e: await evaluate(clip) });

console.log(`\nclaimed AUs: ${CLAIMED_AUS.join(' ')}; estimated: ${estimated.join(' ')}`);
console.log(`data: ${SHARED}/data; fit clips: ${FIT_CLIPS.join(', ')}`);
console.log('\n| clip | set | frames | mean r (claimed) | sf_r | peak Δ (s) |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const { clip, e } of results) {
  const set = FIT_CLIPS.includes(clip.name) ? 'fit' : 'held out';
  console.log(
    `| ${clip.name} | ${set} | ${e.matchedFrames} | ${fmt(e.meanR)} | ${fmt(e.sfR)} | ${fmt(e.peakDeltaS, 2)} |`,
  );
}
// Every other face media: the largest estimated AU at any person's peak.
if (!values.video) {
  const dirs = ['faces', 'openface/samples'].map((d) => join(SHARED, 'data', d));
  const others = dirs.flatMap((d) =>
    readdirSync(d)
      .filter((f) => /\.(jpe?g|png|wmv|avi|mp4|mov)$/i.test(f))
      .map((f) => join(d, f)),
  );
  const largest = (a: AuAnalysis) => {
    let best = { au: '-', v: 0, person: -1 };
    for (const p of a.peaks)
      for (const au of estimated) if (p.aus[au] > best.v) best = { au, v: p.aus[au], person: p.personId };
    return best;
  };
  console.log("\nlargest estimated AU at any person's peak, every face media:");
  for (const path of others) {
    let frames: FrameGeometry[];
    if (/\.(jpe?g|png)$/i.test(path)) {
      frames = [];
      for await (const f of analyzeFrames([await decodeImage(readFileSync(path))]))
        frames.push({ index: f.index, timeS: f.timeS, faces: f.faces });
    } else frames = await clipGeometry(path, cacheDir);
    const a = scoreAus(frames);
    const w = largest(a);
    console.log(`${path.slice(SHARED.length + 6)}: ${a.peaks.length} people; ${w.au} ${w.v.toFixed(2)}`);
  }
}

const heldOut = results.filter((r) => !FIT_CLIPS.includes(r.clip.name));
const over = heldOut.length > 0 ? heldOut : results;
const avg = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  return ok.length > 0 ? ok.reduce((s, x) => s + x, 0) / ok.length : Number.NaN;
};
console.log(
  `\nlast line: the mean over ${over.map((r) => r.clip.name).join(', ')} (peak delta: mean |delta|)`,
);
console.log(
  `mean_r=${fmt(avg(over.map((r) => r.e.meanR)))} sf_r=${fmt(avg(over.map((r) => r.e.sfR)))} peak_delta_s=${fmt(avg(over.map((r) => Math.abs(r.e.peakDeltaS))))}`,
);
