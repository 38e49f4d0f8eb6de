// Stage 6: results/demo/report.md: what each stage did and how long it took, the evaluation table, the
// five answers, the loss-curve PNG, the peak-frame PNGs with their AUs drawn, and where the traces are.
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { lossCurvesPng } from '@emoverse/plots';
import type { DatasetResult } from './dataset.js';
import type { EvalRow, EvaluationResult } from './evaluation.js';
import type { DemoProfile } from './options.js';
import type { PublishedRelease } from './release.js';
import type { ServingResult } from './serving.js';
import type { TraceTarget } from './traces.js';
import type { TrainingResult } from './training.js';
import type { VideoResult } from './vision.js';

export interface StageTiming {
  stage: string;
  seconds: number;
  summary: string;
}

export interface ReportInput {
  profile: DemoProfile;
  startedAt: Date;
  stages: StageTiming[];
  dataset: DatasetResult;
  vision: VideoResult[];
  training: TrainingResult;
  serving: ServingResult;
  evaluation: EvaluationResult;
  /** The release artifact served instead of the demo's own model (full demo). */
  release?: PublishedRelease;
  trace: TraceTarget;
  /** One request's trace, as lines of a tree. */
  traceTree: string[];
}

/** Writes the loss-curve PNG; returns its file name. */
export async function writeLossPng(outDir: string, training: TrainingResult): Promise<string | undefined> {
  if (training.losses.length === 0) return undefined;
  const png = await lossCurvesPng(training.losses, {
    title: `${training.recipeName}: training loss per task (run ${training.runId})`,
    stageBoundaries: training.stageStarts.filter((s) => s.step > 0),
    smooth: training.losses.length > 400 ? 5 : 1,
  });
  writeFileSync(join(outDir, 'loss-curves.png'), png);
  return 'loss-curves.png';
}

const pct = (x?: number) => (x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(1));
const row = (r: EvalRow) =>
  `| ${r.name} | ${pct(r.erAcc)} | ${pct(r.erWf1)} | ${pct(r.acc2NonNeg)} | ${pct(r.acc2NegPos)} | ${pct(r.ecpeF1)} |`;
/** A table cell: one line, pipes escaped, long model output cut (a barely trained model repeats itself). */
const cell = (s: string, max = 200) => {
  const one = s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
};

/** Says plainly whether the model beat the majority class on each metric. */
function verdict(e: EvaluationResult): string {
  const cmp = (label: string, m?: number, b?: number) =>
    m === undefined || b === undefined
      ? []
      : [`${label} ${m > b + 1e-9 ? 'above' : m < b - 1e-9 ? 'below' : 'equal to'} the baseline`];
  const parts = [
    ...cmp('ER WF1', e.model.erWf1, e.baseline.erWf1),
    ...cmp('Acc-2 (neg / non-neg)', e.model.acc2NonNeg, e.baseline.acc2NonNeg),
    ...cmp('ECPE F1', e.model.ecpeF1, e.baseline.ecpeF1),
  ];
  return `In this run: ${parts.join(', ')}. Equal to the majority class means the model answers the majority label (neutral) for nearly every utterance.`;
}

export function renderReport(r: ReportInput, lossPng?: string): string {
  const total = r.stages.reduce((s, x) => s + x.seconds, 0);
  const e = r.evaluation;
  const lines = [
    `# EmoVerse demo report (${r.profile.name === 'quick' ? '`--quick`' : 'full run'})`,
    '',
    `Run started ${r.startedAt.toISOString()}; ${total.toFixed(0)} s in all, on ${r.stages.length} stages. ` +
      'Every stage below went through the services of a local stack (nats-server with JetStream and the five ' +
      'services as separate processes) over gRPC and NATS.',
    '',
    '## Evaluation',
    '',
    `MELD test (ER: ${e.n.er} utterances, MSA: ${e.n.msa}) and ECF test (ECPE: ${e.n.ecpe} target utterances), ` +
      'a random subset (the first records of the EMT test shards, shuffled with seed 0), answered by the gateway. ' +
      'Numbers in %.',
    '',
    '| model | ER Acc | ER WF1 | Acc-2 (neg / non-neg) | Acc-2 (neg / pos) | ECPE F1 |',
    '|---|---|---|---|---|---|',
    row(e.model),
    row(e.bagOfWords),
    row(e.baseline),
    row(e.paper),
    '',
    verdict(e),
    '',
    ...(r.release
      ? [
          `The served model is the release artifact \`${r.profile.release}\` (recipe \`${r.release.release.recipe}\`, seed ` +
            `${r.release.release.seed}, commit \`${r.release.release.commit}\`, every file checked against its SHA-256 in ` +
            `RELEASE.json), published as version \`${r.release.published.version}\` after the demo's own training run. ` +
            `Reproduce it with \`${r.release.release.command}\`; on the full test sets it gave: \`${r.release.release.result}\`.`,
          '',
        ]
      : []),
    `${e.failures} failed calls. emoverse-nano is a tiny model trained from scratch on CPU in minutes; the paper's ` +
      'EmoVerse starts from a pretrained 4B model, so its numbers are a reference point, not a target here.',
    '',
    '## The five tasks through the gateway',
    '',
    `Model \`${r.serving.answers[0]?.model ?? '?'}\`, served ${r.serving.reloadSeconds.toFixed(1)} s after \`model.published\` (hot reload). ` +
      'One Analyze request answered all five (the video analysed once); ms is each stage of it, several running at once.',
    '',
    '| task | input | answer | ms |',
    '|---|---|---|---|',
    ...r.serving.answers.map(
      (a) =>
        `| ${a.task} | ${cell(a.input)} | ${cell(a.answer)}${a.peak ? ` — peak frame ${a.peak.frameIndex} at ${a.peak.timeS.toFixed(2)} s (S_f ${a.peak.sF.toFixed(2)}), AUs used: ${a.activeAus?.join(', ') || 'none'}` : ''} | ${a.ms.toFixed(0)} |`,
    ),
    '',
    '## Peak frames and FER captions (frame-extractor → au-scorer → caption-generator)',
    '',
  ];
  for (const v of r.vision) {
    lines.push(
      `### ${v.video.path} (${v.video.emotion}: ${v.video.note})`,
      '',
      `${v.frames} frames sampled at ${r.profile.fps} fps, ${v.faces} faces, ${v.people} ${v.people === 1 ? 'person' : 'people'}; ` +
        (v.peak
          ? `peak (eq. 2) in frame ${v.peak.frameIndex} at ${v.peak.timeS.toFixed(2)} s, person ${v.peak.trackId}, S_f = ${v.peak.sF.toFixed(2)}.`
          : 'no usable face.'),
      '',
      v.caption
        ? `FER caption (AU_common of the peak frame and the ${v.video.emotion} list): **${v.caption}** — AUs: ${v.captionAus.join(', ') || 'none'}`
        : `No FER record: ${v.dropped}`,
      '',
      ...(v.peakPng ? [`![peak frame of ${v.video.path}](${v.peakPng})`, ''] : []),
    );
  }
  const t = r.training;
  lines.push(
    '## Training',
    '',
    `Recipe \`${t.recipeName}\` (M2SE: stage 1 MSA+ER+FER, stage 2 MSA+ER+ERI+ECPE, LoRA r=8 α=32, task sampling ` +
      `rates, dynamic loss weights) on the EMT build, run \`${t.runId}\` by the trainer service on CPU: ${t.steps} steps ` +
      `in ${t.seconds.toFixed(0)} s${t.finalLoss !== undefined ? `, final loss ${t.finalLoss.toFixed(3)}` : ''}` +
      `${t.tokensPerS ? `, ${Math.round(t.tokensPerS)} tokens/s` : ''}. Published as \`${t.model.modelId}\` version \`${t.model.version}\`.` +
      (t.droppedTasks.length
        ? ` Left out for want of train records: ${t.droppedTasks.map((d) => `${d.task} in ${d.stage} (rate ${d.rate})`).join(', ')}; the stage's other rates were scaled up. (MELD's videos are not in the shared folder, so EMT has no FER train records; the sample clips' FER records above are shown, not trained on.)`
        : ''),
    '',
    ...(r.profile.pretrainingSamples
      ? [
          `To fit the ≤ 15-minute CPU budget, the LM pre-training pass reads ${r.profile.pretrainingSamples} samples instead of the recipe's "all", and each M2SE stage ${r.profile.stageSamples ?? 'its recipe budget of'} samples: this run shows the trainer working. The model that learned emotion is the one \`npm run experiment -- m2se\` trains (results/ablation.md).`,
          '',
        ]
      : []),
    ...(lossPng ? [`![training loss per task](${lossPng})`, ''] : ['(no loss values were reported)', '']),
    '## Dataset (EMT from MELD + ECF)',
    '',
    `${r.dataset.manifest.total} records (built in ${r.dataset.seconds.toFixed(1)} s); dropped by quality control: ` +
      `${JSON.stringify(r.dataset.dropped)}.`,
    '',
    '| task | train | dev | test |',
    '|---|---|---|---|',
    ...Object.entries(r.dataset.counts).map(
      ([task, c]) => `| ${task} | ${c?.train ?? 0} | ${c?.dev ?? 0} | ${c?.test ?? 0} |`,
    ),
    '',
    '## Stages',
    '',
    '| stage | seconds | what |',
    '|---|---|---|',
    ...r.stages.map((s) => `| ${s.stage} | ${s.seconds.toFixed(1)} | ${cell(s.summary)} |`),
    '',
    '## Traces',
    '',
    `Every process (the demo and the five services) exported its spans to ${r.trace.file ? `\`${basename(r.trace.file)}\` beside this report (JSON lines, one span a line; set OTEL_EXPORTER_OTLP_ENDPOINT to send them to an OTLP collector instead)` : r.trace.where}. ` +
      'The Analyze request above, as one trace across processes:',
    '',
    '```',
    ...(r.traceTree.length ? r.traceTree : ['(not available: spans went to the OTLP endpoint)']),
    '```',
    '',
  );
  return lines.join('\n');
}
