// The CI end-to-end test of `npm run demo -- --quick`: the same runDemo on the quick profile, on a local
// stack of a real nats-server and the five services as processes, with assertions on each stage's output,
// the report and its PNGs, the traces, and that no process is left behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readSpanFile } from '@emoverse/telemetry';
import { sharedDir } from '@emoverse/testing';
import { type DemoResult, PROFILES, runDemo } from './index.js';
import { isAlive } from './private/stack.js';

const dir = mkdtempSync(join(tmpdir(), 'emoverse-demo-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const isPng = (path: string) =>
  readFileSync(path)
    .subarray(0, 8)
    .equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));

test('npm run demo -- --quick: every stage, the report, the traces, and a clean shutdown', async () => {
  const log: string[] = [];
  const outDir = join(dir, 'out');
  // No OTLP endpoint in CI: traces go to <out>/traces.jsonl.
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const r: DemoResult = await runDemo({
    profile: PROFILES.quick,
    sharedDir: sharedDir(),
    outDir,
    workDir: join(dir, 'work'),
    out: { write: (t: string) => void log.push(t), isTTY: false },
  });
  const text = log.join('');

  // 1. the stack: five services on loopback, all stopped now
  assert.deepEqual(Object.keys(r.stack.addresses).sort(), [
    'au-scorer',
    'caption-generator',
    'frame-extractor',
    'gateway',
    'trainer',
  ]);
  // 2. the dataset: EMT from MELD + ECF with test splits for the evaluation
  assert.ok(r.dataset.manifest.total > 10_000, `EMT has ${r.dataset.manifest.total} records`);
  for (const task of ['msa', 'er', 'ecpe'] as const)
    assert.ok((r.dataset.counts[task]?.test ?? 0) > 100, `${task} test split`);

  // 2b. the smile clip: a peak frame with AUs, and a FER caption that names AU12 (measured, and in the joy list)
  const smile = r.vision[0];
  assert.equal(smile.video.path, 'data/faces/single_face.mp4');
  assert.ok(smile.peak && smile.peak.sF > 0, 'single_face.mp4 has a peak frame');
  assert.ok(smile.peak.aus.AU12 >= 1, `AU12 at the peak of a smile: ${smile.peak.aus.AU12}`);
  assert.ok(smile.caption && smile.caption.length > 5, `FER caption: ${smile.caption}`);
  assert.ok(smile.captionAus.includes('AU12'), `caption AUs: ${smile.captionAus.join(',')}`);
  assert.ok(smile.peakPng && isPng(join(outDir, smile.peakPng)), 'peak-frame PNG');

  // 3. training through the trainer service: a published model and finite losses
  const t = r.training!;
  assert.ok(t.model.version.length > 0 && t.model.modelId.length > 0);
  assert.ok(t.losses.length > 0 && t.losses.every((p) => Number.isFinite(p.loss)), 'loss values');

  // 4. the gateway serves that version; the five tasks answer with valid structures
  const s = r.serving!;
  assert.equal(s.version, t.model.version);
  assert.deepEqual(
    s.answers.map((a) => a.task),
    ['MSA', 'ER', 'FER', 'ERI', 'ECPE', 'MSA', 'ER'],
  );
  for (const a of s.answers)
    assert.ok(a.model.endsWith(`@${t.model.version}`), `${a.task} answered by ${a.model}`);
  assert.match(s.answers[0].answer, /^(positive|negative|neutral)\b/);
  assert.match(s.answers[5].answer, /^(positive|negative|neutral)\b/);
  assert.match(s.answers[6].answer, /^(neutral|joy|surprise|anger|sadness|disgust|fear)\b/);
  assert.match(s.answers[1].answer, /^(neutral|joy|surprise|anger|sadness|disgust|fear)\b/);
  const fer = s.answers[2];
  assert.ok(fer.peak, 'the FER answer carries the peak frame');
  assert.ok(Array.isArray(fer.activeAus));

  // 5. the evaluation table over MELD/ECF test subsets
  const e = r.evaluation!;
  assert.deepEqual(e.n, PROFILES.quick.evalPerTask);
  assert.equal(e.failures, 0);
  for (const v of [e.model.erAcc, e.model.erWf1, e.model.acc2NonNeg, e.model.ecpeF1])
    assert.ok(v !== undefined && v >= 0 && v <= 1, `metric ${v}`);
  assert.ok(e.baseline.erAcc !== undefined && e.baseline.erAcc > 0);
  // the bag-of-words row beside the model (trained on the quick profile's few train utterances)
  for (const v of [e.bagOfWords.erWf1, e.bagOfWords.acc2NonNeg])
    assert.ok(v !== undefined && v > 0 && v <= 1);

  // 6. the report with the table and both PNGs; answers printed; progress lines readable without a TTY
  const report = readFileSync(r.reportPath!, 'utf8');
  assert.match(report, /\| model \| ER Acc \| ER WF1 \|/);
  assert.match(report, /\| bag-of-words LR \(trained on 400 train utterances\)/);
  assert.match(report, /!\[training loss per task\]\(loss-curves\.png\)/);
  assert.match(report, /!\[peak frame of data\/faces\/single_face\.mp4\]\(peak-single_face\.png\)/);
  assert.ok(r.lossPng && isPng(r.lossPng));
  assert.match(text, /Evaluation \(MELD test/);
  assert.match(text, /training .*done/);
  assert.doesNotMatch(text, /\r/);

  // traces: one file from every process; the Analyze request is one trace across gateway and au-scorer
  const spans = readSpanFile(r.tracePath!);
  const services = new Set(spans.map((x) => x.service));
  for (const name of ['demo', 'gateway', 'au-scorer', 'frame-extractor', 'caption-generator', 'trainer'])
    assert.ok(services.has(name), `spans from ${name} (have ${[...services].join(', ')})`);
  const analyzeCall = spans.find((x) => x.service === 'demo' && x.name.includes('GatewayService/Analyze'));
  assert.ok(analyzeCall);
  const trace = new Set(spans.filter((x) => x.traceId === analyzeCall.traceId).map((x) => x.service));
  assert.ok(trace.has('gateway') && trace.has('au-scorer'), `Analyze trace: ${[...trace].join(', ')}`);
  assert.match(text, /playground: http:\/\/127\.0\.0\.1:\d+\//);
  assert.ok(existsSync(join(outDir, 'logs', 'gateway.log')));

  // 7. shutdown: nats-server, the five services, and whatever they started (training workers): all gone, none forced
  assert.ok(r.stack.pids.length >= 6, `pids ${r.stack.pids.join(',')}`);
  assert.deepEqual(
    r.stack.leftBehind,
    [],
    `processes that outlived the graceful shutdown:\n${text
      .split('\n')
      .filter((l) => l.startsWith('warning'))
      .join('\n')}`,
  );
  for (const pid of r.stack.pids)
    assert.equal(isAlive(pid), false, `process ${pid} is still running after the demo`);
});
