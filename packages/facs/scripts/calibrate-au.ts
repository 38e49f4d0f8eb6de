// npm run calibrate:au — fits the gain of each estimated (unclaimed) AU on the fit clips (FIT_CLIPS) and
// rewrites src/private/calibration.ts. The gain is the factor g in [0, 1] (steps of 0.01) that minimises
// the mean squared error of clamp(g · AU, 0, 5) against real OpenFace output over every matched frame
// of those clips; eval:au then reports the other clips as held out. It also writes the population's neutral
// face (POPULATION_BASELINE): the median of each AU's measure over the fit clips' frames that the
// expression model calls neutral, the baseline of a person seen in too few frames (a still image).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AU_NAMES,
  AU_RULES,
  CLAIMED_AUS,
  evaluateAgainstOpenFace,
  FIT_CLIPS,
  faceMeasures,
  readOpenFaceCsv,
  ruleValue,
  scoreAus,
} from '@emoverse/facs';
import { CLIPS, clipGeometry } from './clips.js';

const cacheDir = join(import.meta.dirname, '../../../.cache/facs-geometry');
const estimated = AU_NAMES.filter((a) => !CLAIMED_AUS.includes(a));
const pairs = new Map(estimated.map((a) => [a, [] as [number, number][]]));
const neutral = new Map(AU_NAMES.map((a) => [a, [] as number[]]));
for (const clip of CLIPS.filter((c) => FIT_CLIPS.includes(c.name))) {
  const frames = await clipGeometry(clip.video, cacheDir);
  const reference = readOpenFaceCsv(readFileSync(clip.openface, 'utf8'));
  const analysis = scoreAus(frames, { gain: {} });
  const { person } = evaluateAgainstOpenFace(frames, analysis, reference, CLAIMED_AUS);
  const ref = new Map(reference.filter((r) => r.success).map((r) => [r.frame, r.aus]));
  for (const f of frames)
    for (const face of f.faces) {
      if (face.personId !== person || (face.expression?.neutral ?? 0) < 0.5) continue;
      const m = faceMeasures(face);
      for (const a of AU_NAMES) neutral.get(a)!.push(ruleValue(AU_RULES[a], m));
    }
  for (const f of analysis.frames) {
    const theirs = ref.get(f.index + 1);
    if (f.personId !== person || !theirs) continue;
    for (const a of estimated) pairs.get(a)!.push([f.aus[a], theirs[a]]);
  }
}
const gain: Record<string, number> = {};
for (const [au, xy] of pairs) {
  let best = { g: 1, mse: Infinity };
  for (let k = 0; k <= 100; k++) {
    const g = k / 100;
    const mse = xy.reduce((s, [x, y]) => s + (Math.min(5, g * x) - y) ** 2, 0) / xy.length;
    if (mse < best.mse - 1e-12) best = { g, mse };
  }
  gain[au] = best.g;
  console.log(
    `${au} gain ${best.g.toFixed(2)} RMSE ${Math.sqrt(best.mse).toFixed(3)} over ${xy.length} frames`,
  );
}
const file = join(import.meta.dirname, '../src/private/calibration.ts');
const old = readFileSync(file, 'utf8');
const head = old.slice(0, old.indexOf('export const ESTIMATE_GAIN'));
const body = estimated.map((a) => `  ${a}: ${gain[a]},`).join('\n');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};
console.log(`population baseline: ${neutral.get('AU12')!.length} neutral frames`);
const base = AU_NAMES.map((a) => `  ${a}: ${median(neutral.get(a)!).toFixed(4)},`).join('\n');
writeFileSync(
  file,
  `${head}export const ESTIMATE_GAIN: Partial<Record<AuName, number>> = {\n${body}\n};\n\n` +
    `/** The neutral value of each AU's measure over the fit clips' neutral frames (see AU_RULES). */\n` +
    `export const POPULATION_BASELINE: Record<AuName, number> = {\n${base}\n};\n`,
);
console.log(`wrote ${file}`);
