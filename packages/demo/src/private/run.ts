// The demo, stage by stage: stack -> dataset -> vision -> training -> serving -> evaluation -> report.
// Each stage is a span (its gRPC calls are child spans in the services), prints a progress bar and
// returns plain data that the CI test asserts on. The stack is always stopped, also on failure or abort.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, connectBus } from '@emoverse/bus';
import { readRecords } from '@emoverse/emt';
import { parseEcpeQuery, type Turn } from '@emoverse/serving';
import { initTelemetry, withSpan } from '@emoverse/telemetry';
import { buildDataset, type DatasetResult } from './dataset.js';
import { type EvaluationResult, runEvaluation } from './evaluation.js';
import type { DemoOptions } from './options.js';
import { progress } from './progress.js';
import { publishRelease } from './release.js';
import { renderReport, type StageTiming, writeLossPng } from './report.js';
import { gatewayClient, runServing, type ServingResult } from './serving.js';
import { cmdline, isAlive, type LocalStack, SERVICE_NAMES, startLocalStack } from './stack.js';
import { findTrace, traceTarget, traceTree } from './traces.js';
import { runTraining, type TrainingResult } from './training.js';
import { runVision, type VideoResult } from './vision.js';

/** The repository root (release artifacts are named relative to it). */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

export interface DemoResult {
  stages: StageTiming[];
  /**
   * Addresses, and the pids of every process the run started (nats-server, the services and their own
   * children), filled in when the stack is stopped; leftBehind = those that had to be SIGKILLed after it.
   */
  stack: { natsUrl: string; addresses: Record<string, string>; pids: number[]; leftBehind: number[] };
  dataset: DatasetResult;
  vision: VideoResult[];
  /** Unset only when the run stopped earlier (options.until). */
  training?: TrainingResult;
  serving?: ServingResult;
  evaluation?: EvaluationResult;
  reportPath?: string;
  lossPng?: string;
  tracePath?: string;
  seconds: number;
}

/** Rejects as soon as `signal` aborts (the work itself is stopped by the stack shutdown). */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted (interrupt)'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** An ECPE sample input: the first short ECF test conversation of the build, and its target. */
async function ecpeSample(datasetDir: string): Promise<{ conversation: Turn[]; target: number }> {
  let seen = 0;
  for await (const r of readRecords(datasetDir, { task: 'ecpe', split: 'test' })) {
    const q = parseEcpeQuery(r.query);
    if (q && q.conversation.length <= 8) return q;
    if (++seen >= 50) break;
  }
  throw new Error('no short ECF test conversation in the EMT build');
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const startedAt = new Date();
  const out = o.out ?? process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  mkdirSync(o.outDir, { recursive: true });
  mkdirSync(o.workDir, { recursive: true });
  const trace = traceTarget(o.outDir);
  if (trace.file) rmSync(trace.file, { force: true });
  const telemetry = initTelemetry({
    serviceName: 'demo',
    exporter: trace.exporter,
    defaultMetrics: false,
    logLevel: 'warn',
  });
  const stages: StageTiming[] = [];
  const stage = async <T>(name: string, f: () => Promise<T>, summary: (r: T) => string): Promise<T> => {
    const s0 = performance.now();
    const work = withSpan(`demo.${name}`, () => f(), { tracer: 'emoverse.demo' });
    // Starting the stack is not cut short by Ctrl-C: what it started must be known to be stopped (the
    // next stage then sees the abort).
    const r = name === 'start stack' ? await work : await abortable(work, o.signal);
    stages.push({ stage: name, seconds: (performance.now() - s0) / 1000, summary: summary(r) });
    return r;
  };

  // --until: stop after a stage (development and partial runs); early = no trainer or gateway needed.
  const order = ['stack', 'dataset', 'vision', 'training', 'serving', 'evaluation', 'report'] as const;
  const stopAfter = (name: (typeof order)[number]) =>
    o.until !== undefined && order.indexOf(o.until) <= order.indexOf(name);
  const early = stopAfter('vision');
  say(`EmoVerse demo (${o.profile.name}): data from ${o.sharedDir}, report in ${o.outDir}`);
  say(`traces: ${trace.where}`);
  let stack: LocalStack | undefined;
  let bus: Bus | undefined;
  const stopped: number[] = [];
  const leftBehind: number[] = [];
  const cleanup = async () => {
    const c0 = performance.now();
    await bus?.close().catch(() => {});
    // Everything this run started, grandchildren included (e.g. the trainer's worker processes).
    const tree = stack?.processTree() ?? [];
    await stack?.stop();
    // Give exiting processes a moment, then make sure nothing is left behind.
    for (let i = 0; i < 20 && tree.some(isAlive); i++) await new Promise((r) => setTimeout(r, 250));
    const left = tree.filter(isAlive);
    for (const pid of left)
      say(`warning: process ${pid} outlived the shutdown: ${cmdline(pid).slice(0, 160)}`);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    if (left.length) say(`warning: ${left.length} process(es) killed with SIGKILL after the shutdown`);
    stopped.push(...tree);
    leftBehind.push(...left);
    if (stack) {
      mkdirSync(join(o.outDir, 'logs'), { recursive: true });
      stack.saveLogs(join(o.outDir, 'logs'));
    }
    await telemetry.shutdown().catch(() => {});
    if (stack)
      say(
        `stack stopped in ${((performance.now() - c0) / 1000).toFixed(1)} s (service logs in ${join(o.outDir, 'logs')})`,
      );
  };
  try {
    // 1. The local stack: nats-server with JetStream, then the five services as separate processes.
    stack = await stage(
      'start stack',
      async () => {
        const bar = progress('starting services', SERVICE_NAMES.length + 1, out);
        let ready = 0;
        try {
          const s = await startLocalStack({
            env: {
              EMOVERSE_TRACE_EXPORTER: trace.exporter,
              EMOVERSE_LOG_LEVEL: 'info',
              // Where the gateway keeps fetched model versions and the trainer its work.
              EMOVERSE_MODEL_CACHE: join(o.workDir, 'gateway-cache'),
              EMOVERSE_TRAINER_CACHE: join(o.workDir, 'trainer'),
            },
            services: early ? ['frame-extractor', 'au-scorer', 'caption-generator'] : undefined,
            serviceEnv: {
              gateway: {
                EMOVERSE_ALLOW_MEDIA_PATHS: 'true',
                EMOVERSE_MODEL_ID: 'emoverse-nano',
                EMOVERSE_PLAYGROUND: 'true',
              },
              // debug: the trainer logs its training worker's output (logs/trainer.log)
              trainer: { EMOVERSE_LOG_LEVEL: 'debug' },
            },
            echo: o.verbose,
            onReady: (name) => bar.update(++ready, { status: `${name} up` }),
          });
          bar.finish();
          return s;
        } catch (e) {
          bar.fail((e as Error).message.split('\n')[0]);
          throw e;
        }
      },
      (s) => `nats-server ${s.nats.url}; ${SERVICE_NAMES.map((n) => `${n} ${s.addresses[n]}`).join(', ')}`,
    );
    const addresses = stack.addresses;
    if (!early) say(`playground: http://${addresses.gateway}/ (answers once the gateway has loaded a model)`);
    bus = await connectBus({ ...stack.nats.client(), name: 'demo' });

    // 2. The dataset, then the sample videos through the vision services.
    const dataset = await stage(
      'dataset',
      () => buildDataset(o.sharedDir, join(o.workDir, 'emt'), out),
      (d) => `EMT from MELD + ECF: ${d.manifest.total} records in ${d.manifest.shards.length} shards`,
    );
    const vision = await stage(
      'vision',
      () =>
        runVision(o.profile.videos, {
          sharedDir: o.sharedDir,
          outDir: o.outDir,
          addresses: {
            frameExtractor: addresses['frame-extractor'],
            auScorer: addresses['au-scorer'],
            captionGenerator: addresses['caption-generator'],
          },
          bus: bus!,
          fps: o.profile.fps,
          maxFrames: o.profile.maxFrames,
          out,
        }),
      (v) =>
        v
          .map(
            (x) =>
              `${x.video.path.split('/').pop()}: peak frame ${x.peak?.frameIndex ?? '-'} (S_f ${x.peak?.sF.toFixed(2) ?? '-'}), "${x.caption ?? x.dropped}"`,
          )
          .join('; '),
    );

    if (stopAfter('vision')) {
      const partial = {
        stages,
        stack: { natsUrl: stack.nats.url, addresses, pids: stopped, leftBehind },
        dataset,
        vision,
        seconds: (performance.now() - t0) / 1000,
      };
      say(
        `stopped after ${o.until}: ${stages.map((s) => `${s.stage} ${s.seconds.toFixed(1)} s`).join(', ')}`,
      );
      return partial;
    }

    // 3. Training through the trainer service, which publishes the model.
    const training = await stage(
      'training',
      () =>
        runTraining(o.profile, {
          trainerAddress: addresses.trainer,
          datasetDir: dataset.dir,
          trainCounts: Object.fromEntries(Object.entries(dataset.counts).map(([t, c]) => [t, c?.train ?? 0])),
          out,
          signal: o.signal,
        }),
      (t) => `${t.recipeName}: ${t.steps} steps, published ${t.model.modelId}@${t.model.version}`,
    );

    // 3b. The full demo serves the release artifact the project stores (a model trained by the experiment).
    const release = o.profile.release
      ? await stage(
          'release',
          () =>
            publishRelease(bus!, {
              releaseDir: join(REPO, o.profile.release!),
              workDir: o.workDir,
              modelId: training.model.modelId,
            }),
          (r) =>
            `${r.release.recipe} seed ${r.release.seed} (commit ${r.release.commit}): ${r.release.result}`,
        )
      : undefined;

    // 4. Serving: the gateway hot-reloads the published version; the five tasks.
    await abortable(stack.gatewayReady(300_000), o.signal);
    const serving = await stage(
      'serving',
      async () =>
        runServing({
          gatewayAddress: addresses.gateway,
          published: release?.published ?? training.model,
          videoPath: join(o.sharedDir, o.profile.videos[0].path),
          ecpe: await ecpeSample(dataset.dir),
          out,
        }),
      (s) => s.answers.map((a) => `${a.task}: ${a.answer}`).join('; '),
    );

    // 5. Evaluation on MELD/ECF test subsets through the gateway.
    const gw = gatewayClient(addresses.gateway);
    const evaluation = await stage(
      'evaluation',
      () =>
        runEvaluation(gw, {
          datasetDir: dataset.dir,
          perTask: o.profile.evalPerTask,
          bowTrainRecords: o.profile.bowTrainRecords,
          out,
        }).finally(() => gw.close()),
      (e) =>
        `ER acc ${e.model.erAcc?.toFixed(3)} wf1 ${e.model.erWf1?.toFixed(3)}, Acc-2 ${e.model.acc2NonNeg?.toFixed(3)}, ECPE F1 ${e.model.ecpeF1?.toFixed(3)}`,
    );

    // 6. The report (after the services flushed their spans, so the FER trace is complete).
    const reportPath = join(o.outDir, 'report.md');
    let lossPng: string | undefined;
    await stage(
      'report',
      async () => {
        const bar = progress('report', 0, out);
        lossPng = await writeLossPng(o.outDir, training);
        writeFileSync(
          join(o.outDir, 'answers.jsonl'),
          evaluation.answers.map((a) => `${JSON.stringify(a)}\n`).join(''),
        );
        const spans = trace.file ? findTrace(trace.file, 'GatewayService/Analyze') : [];
        writeFileSync(
          reportPath,
          renderReport(
            {
              profile: o.profile,
              startedAt,
              stages: [...stages],
              dataset,
              vision,
              training,
              serving,
              evaluation,
              release,
              trace,
              traceTree: traceTree(spans),
            },
            lossPng,
          ),
        );
        bar.finish(reportPath);
      },
      () => reportPath,
    );
    const result: DemoResult = {
      stages,
      stack: { natsUrl: stack.nats.url, addresses, pids: stopped, leftBehind },
      dataset,
      vision,
      training,
      serving,
      evaluation,
      reportPath,
      lossPng: lossPng && join(o.outDir, lossPng),
      tracePath: trace.file,
      seconds: (performance.now() - t0) / 1000,
    };
    printSummary(result, say);
    return result;
  } finally {
    await cleanup();
  }
}

function printSummary(r: DemoResult, say: (l: string) => void): void {
  if (!r.serving || !r.evaluation) return;
  say('');
  say('Answers of the five tasks:');
  for (const a of r.serving.answers) {
    say(`  ${a.task.padEnd(5)} ${a.input}`);
    say(`        -> ${a.answer.length > 200 ? `${a.answer.slice(0, 200)}…` : a.answer}`);
    if (a.peak)
      say(
        `        peak frame ${a.peak.frameIndex} at ${a.peak.timeS.toFixed(2)} s, AUs used: ${a.activeAus?.join(', ') || 'none'}`,
      );
  }
  const e = r.evaluation;
  const f = (x?: number) => (x === undefined ? '   –  ' : (100 * x).toFixed(1).padStart(6));
  say('');
  say(`Evaluation (MELD test: ER n=${e.n.er}, MSA n=${e.n.msa}; ECF test: ECPE n=${e.n.ecpe}), in %:`);
  say('  model                                      ER Acc  ER WF1  Acc-2nn Acc-2np ECPE F1');
  for (const row of [e.model, e.bagOfWords, e.baseline, e.paper])
    say(
      `  ${row.name.slice(0, 42).padEnd(42)} ${f(row.erAcc)}  ${f(row.erWf1)}  ${f(row.acc2NonNeg)}  ${f(row.acc2NegPos)}  ${f(row.ecpeF1)}`,
    );
  say('');
  say(`report: ${r.reportPath}`);
  if (r.tracePath) say(`traces: ${r.tracePath}`);
  say(
    `total: ${r.seconds.toFixed(0)} s (${r.stages.map((s) => `${s.stage} ${s.seconds.toFixed(0)} s`).join(', ')})`,
  );
}
