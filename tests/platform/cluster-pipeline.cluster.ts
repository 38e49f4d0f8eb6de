// Videos through frame-extractor → au-scorer → caption-generator on a real three-node JetStream cluster (R3 streams): SIGKILL of a node, then of a second once the first caught up, and the loss of quorum; every job completes exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { type Bus, BusUnavailableError, connectBus, events, type PublishOptions } from '@emoverse/bus';
import { EmtRecordSchema, Split, Task } from '@emoverse/proto';
import {
  checkHealth,
  type NatsCluster,
  type ServiceProcess,
  startNatsCluster,
  startService,
} from '@emoverse/testing';
import { eventually, makeTestVideo, storedMessages } from './support.js';

const JOBS_PER_ROUND = 4;
let cluster: NatsCluster;
let bus: Bus;
let dir: string;
let video: string;
const services: ServiceProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emoverse-cluster-'));
  video = makeTestVideo(join(dir, 'pattern.mp4'));
  cluster = await startNatsCluster();
  const env = {
    EMOVERSE_STREAM_REPLICAS: '3',
    EMOVERSE_GRPC_HOST: '127.0.0.1',
    // A message whose worker died comes back after 8 s (longer than an election, so the heartbeats of a
    // handler that is still running are not lost to one); a publish nobody stores fails after 5 s.
    EMOVERSE_BUS_ACK_WAIT_MS: '8000',
    EMOVERSE_BUS_PUBLISH_RETRY_MS: '5000',
    // Records are built only once their clip's AU scores arrived: they prove the whole path ran.
    CAPTION_AU_WAIT_MS: '120000',
  };
  bus = await connectBus({ ...cluster.client(), name: 'tests', replicas: 3 });
  for (const name of ['frame-extractor', 'au-scorer', 'caption-generator'])
    services.push(await startService(name, { nats: cluster, env, timeoutMs: 120_000 }));
});

after(async () => {
  await Promise.all(services.map((s) => s.stop('SIGTERM')));
  await bus?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Submits a job's video (a client that retries uses the same Nats-Msg-Id). */
function submitVideo(job: string, options: PublishOptions = {}) {
  return bus.publish(
    events.videoSubmitted,
    { jobId: job, source: { case: 'path', value: video }, spans: [{ startS: 0, endS: 1, id: 'utt' }] },
    { ...options, msgId: `video:${job}` },
  );
}

/** Submits jobs `round-<k>` (or the jobs named) with one video each and the source record that waits for its AU scores. */
async function submit(round: string, count: number, named?: string[]): Promise<string[]> {
  const jobs = named ?? Array.from({ length: count }, (_, k) => `${round}-${k}`);
  for (const job of jobs) {
    await submitVideo(job);
    await bus.publish(
      events.sourceRecord,
      {
        id: `meld/test/${job}`,
        source: 'meld',
        split: Split.TEST,
        jobId: job,
        span: { startS: 0, endS: 1, id: 'utt' },
        text: 'Well, that went better than I expected!',
        emotion: 'joy',
        sentiment: 'positive',
        tasks: [Task.ER, Task.MSA, Task.FER],
      },
      { msgId: `source:${job}` },
    );
  }
  return jobs;
}

/** Asks JetStream, again while a stream elects a new leader (at most 15 s). */
function ask<T>(question: () => Promise<T>, what: string): Promise<T> {
  return eventually(() => question().catch(() => undefined), what, 60, 250);
}

/** How many messages a stream ever stored (a de-duplicated publish stores nothing) and holds now. */
async function stored(stream: string): Promise<{ ever: number; now: number }> {
  const info = await ask(() => bus.jsm.streams.info(stream), `${stream} info`);
  return { ever: info.state.last_seq, now: info.state.messages };
}

/** The EMT records of these jobs, by job. */
async function recordsOf(jobs: string[]): Promise<Map<string, string[]>> {
  const all = await ask(
    () =>
      storedMessages(bus, events.emtRecord.stream, events.emtRecord.subject, (b) =>
        fromBinary(EmtRecordSchema, b),
      ),
    'the EMT records',
  );
  const out = new Map<string, string[]>(jobs.map((j) => [j, []]));
  for (const r of all) for (const j of jobs) if (r.id.endsWith(`/meld/test/${j}`)) out.get(j)?.push(r.id);
  return out;
}

/** Whether every work queue is empty and every job has its ER and MSA records (undefined: not yet). */
async function completed(jobs: string[]): Promise<Map<string, string[]> | undefined> {
  for (const e of [events.videoSubmitted, events.framesExtracted, events.auScored, events.sourceRecord])
    if ((await stored(e.stream)).now > 0) return undefined;
  const records = await recordsOf(jobs);
  return [...records.values()].every((ids) => ids.length >= 2) ? records : undefined;
}

/** Waits until the jobs completed; fails with the services' output at the deadline, however slow the probes. */
async function waitForCompletion(jobs: string[], timeoutMs: number): Promise<Map<string, string[]>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const done = await completed(jobs);
    if (done) return done;
    await new Promise((r) => setTimeout(r, 250));
  }
  const outputs = services.map((s) => `--- ${s.name}\n${s.output().slice(-3000)}`).join('\n');
  throw new Error(`${jobs.length} jobs did not complete in ${timeoutMs} ms\n${outputs}`);
}

/** Every job has exactly its ER and MSA records: none lost, none built for another job. */
function assertAllRecords(records: Map<string, string[]>) {
  for (const [job, ids] of records)
    assert.deepEqual([...new Set(ids)].sort(), [`er/meld/test/${job}`, `msa/meld/test/${job}`], job);
}

/** Every job completed exactly once: one AuScored per job stored, one of each record, nothing else. */
async function assertExactlyOnce(jobs: string[], records: Map<string, string[]>, before: Totals) {
  const after = await totals();
  assert.equal(after.auScored - before.auScored, jobs.length, 'one AuScored per job, none duplicated');
  assert.equal(after.records - before.records, jobs.length * 2, 'an ER and an MSA record per job');
  assertAllRecords(records);
  for (const ids of records.values()) assert.equal(ids.length, 2, 'each record stored once');
}

interface Totals {
  auScored: number;
  records: number;
}
async function totals(): Promise<Totals> {
  return {
    auScored: (await stored(events.auScored.stream)).ever,
    records: (await stored(events.emtRecord.stream)).ever,
  };
}

/** The services are the same processes as at the start, and serve. */
async function assertServicesRecovered() {
  for (const s of services) {
    assert.equal(s.proc.exitCode, null, `${s.name} exited:\n${s.output().slice(-2000)}`);
    assert.equal(await checkHealth(s.grpcAddress), 'SERVING', s.name);
  }
}

test('streams are R3 on the cluster', { timeout: 30_000 }, async () => {
  for (const e of Object.values(events)) {
    const info = await bus.jsm.streams.info(e.stream);
    assert.equal(info.config.num_replicas, 3, e.stream);
    assert.equal(info.cluster?.replicas?.length, 2, `${e.stream}: a leader and two replicas`);
  }
});

test('SIGKILL of a node while videos flow, then of a second once the first caught up: every job exactly once', {
  timeout: 240_000,
}, async () => {
  const t0 = Date.now();
  for (const [round, target] of [
    ['a', events.framesExtracted.stream],
    ['b', events.auScored.stream],
  ] as const) {
    const start = await totals();
    const framesBefore = (await stored(events.framesExtracted.stream)).ever;
    const jobs = await submit(round, JOBS_PER_ROUND);
    // Kill the node that leads a stream of the pipeline once work is under way.
    await eventually(
      async () => (await stored(events.framesExtracted.stream)).ever > framesBefore,
      'frames to flow',
      120,
      250,
    );
    const victim = await ask(() => cluster.leaderOf(target), `the leader of ${target}`);
    await cluster.kill(victim);
    const records = await waitForCompletion(jobs, 60_000);
    await assertExactlyOnce(jobs, records, start);
    await assertServicesRecovered();
    // The killed node comes back and catches up before the next node is killed.
    await cluster.start(victim);
    await cluster.waitHealthy(30_000);
  }
  assert.ok(Date.now() - t0 < 150_000, `took ${Date.now() - t0} ms`);
});

test('without quorum a publish fails with a clear, retried error; once quorum returns the pipeline finishes with nothing lost', {
  timeout: 180_000,
}, async () => {
  const start = await totals();
  const jobs = await submit('q', JOBS_PER_ROUND);
  const [, second, third] = cluster.nodes;
  await cluster.kill(second.name);
  await cluster.kill(third.name);
  const t = Date.now();
  await assert.rejects(submitVideo('q-late', { retryForMs: 3_000, timeoutMs: 1_000 }), (err: Error) => {
    assert.ok(err instanceof BusUnavailableError, err.message);
    assert.ok(err.attempts > 1, 'retried before failing');
    assert.match(
      err.message,
      /JetStream did not store emoverse\.video\.submitted after \d+ attempt\(s\).*is a quorum of the NATS cluster up\?/,
    );
    return true;
  });
  assert.ok(Date.now() - t < 10_000, 'the failure came within its retry bound');
  // Quorum returns. The client submits the late job again with the same Nats-Msg-Id (whether or not its
  // failed attempt was stored in the end), and every job completes exactly once.
  await cluster.start(second.name);
  await cluster.start(third.name);
  await cluster.waitHealthy(30_000);
  const late = await submit('q', 0, ['q-late']);
  const all = [...jobs, ...late];
  const records = await waitForCompletion(all, 90_000);
  // Nothing lost: every job was scored and has its records. nats-server 2.9 de-duplicates a Nats-Msg-Id
  // only at the stream leader when it proposes, so a publish retried across the outage may be stored
  // twice (fixed upstream by nats-io/nats-server#6415); consumers skip it by its Nats-Msg-Id (KV markers).
  const after = await totals();
  assert.ok(after.auScored - start.auScored >= all.length, 'an AuScored for every job');
  assertAllRecords(records);
  await assertServicesRecovered();
});
