// Stage 4: the gateway serves the published model. The demo waits until the gateway answers with the
// new version (hot reload on model.published), then asks Analyze once for the five tasks on the target of an
// ECF test conversation with a sample video (FER's row carries the peak frame and the AUs), then
// MSA and ER on two plain sentences.
import type { Analysis, ModelPublished } from '@emoverse/proto';
import { GatewayService } from '@emoverse/proto';
import { createClient, type PromiseClient } from '@emoverse/service-kit';
import type { Turn } from '@emoverse/serving';
import { type ProgressWriter, progress } from './progress.js';

export type GatewayApi = PromiseClient<typeof GatewayService>;

export interface TaskAnswer {
  task: 'MSA' | 'ER' | 'FER' | 'ERI' | 'ECPE';
  /** What was asked, in words. */
  input: string;
  /** The structured answer in words, e.g. "joy (0.41)". */
  answer: string;
  raw: string;
  model: string;
  ms: number;
  /** FER only: the peak frame and the AUs the caption used. */
  peak?: { frameIndex: number; timeS: number; sF: number; trackId: number };
  activeAus?: string[];
}

export interface ServingResult {
  version: string;
  reloadSeconds: number;
  answers: TaskAnswer[];
}

export function gatewayClient(address: string): GatewayApi {
  return createClient(GatewayService, address);
}

const top = (probs: { label: string; probability: number }[], label: string) => {
  const p = probs.find((x) => x.label === label)?.probability;
  return p === undefined ? label : `${label} (p=${p.toFixed(2)})`;
};

/** Polls the gateway until it answers with `version` (bounded by timeoutMs). */
export async function waitForVersion(gw: GatewayApi, version: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  let seen = '';
  while (performance.now() - t0 < timeoutMs) {
    try {
      const r = await gw.sentiment({ input: { text: 'Okay.' } }, { timeoutMs: 30_000 });
      seen = r.model?.version ?? '';
      if (seen === version) return (performance.now() - t0) / 1000;
    } catch (e) {
      seen = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(
    `the gateway did not switch to version ${version} in ${timeoutMs / 1000} s (last: ${seen})`,
  );
}

export async function runServing(o: {
  gatewayAddress: string;
  published: ModelPublished;
  /** A video path the gateway may read (EMOVERSE_ALLOW_MEDIA_PATHS). */
  videoPath: string;
  /** A conversation for ECPE (e.g. the first ECF test record) and its target utterance. */
  ecpe: { conversation: Turn[]; target: number };
  out?: ProgressWriter;
}): Promise<ServingResult> {
  const gw = gatewayClient(o.gatewayAddress);
  const bar = progress('gateway: five tasks', 2, o.out);
  try {
    bar.update(0, { status: `hot reload to ${o.published.version}` });
    const reloadSeconds = await waitForVersion(gw, o.published.version, 300_000);
    bar.update(1, { status: 'Analyze (five tasks, video on the target)' });
    const { analysis } = await gw.analyze(
      { input: analyzeInput(o.ecpe.conversation, o.ecpe.target, o.videoPath) },
      { timeoutMs: 300_000 },
    );
    const answers = [...taskAnswers(analysis!, o), ...(await plainAnswers(gw))];
    bar.finish(`served ${o.published.version}`);
    return { version: o.published.version, reloadSeconds, answers };
  } catch (e) {
    bar.fail((e as Error).message);
    throw e;
  } finally {
    gw.close();
  }
}

/** Two sentences a user would try first: sentiment of good news, emotion of a reproach. */
export const PLAIN_EXAMPLES = {
  msa: "I just got the job! I can't believe it, this is amazing!",
  er: 'Why would you do that to me? I trusted you!',
};

/** MSA and ER on PLAIN_EXAMPLES through the single-task RPCs. */
async function plainAnswers(gw: GatewayApi): Promise<TaskAnswer[]> {
  const row = async (task: 'MSA' | 'ER', text: string) => {
    const t0 = performance.now();
    const r = await (task === 'MSA' ? gw.sentiment : gw.emotion)({ input: { text } }, { timeoutMs: 60_000 });
    const answer = top(r.probabilities, r.label);
    const model = r.model ? `${r.model.modelId}@${r.model.version}` : '?';
    return { task, input: `"${text}"`, answer, raw: r.label, model, ms: performance.now() - t0 };
  };
  return [await row('MSA', PLAIN_EXAMPLES.msa), await row('ER', PLAIN_EXAMPLES.er)];
}

/** The Analyze request: the conversation (given emotions kept for ECPE, the target's left to ER) and the video. */
function analyzeInput(conversation: Turn[], target: number, videoPath: string) {
  return {
    conversation: conversation.map((t, i) => ({
      speaker: t.speaker ?? '',
      text: t.text,
      emotion: i + 1 === target ? '' : (t.emotion ?? ''),
    })),
    target,
    media: { source: { case: 'path' as const, value: videoPath } },
  };
}

/** The five rows of the report's task table, from one Analysis. */
function taskAnswers(
  a: Analysis,
  o: { videoPath: string; ecpe: { conversation: Turn[]; target: number } },
): TaskAnswer[] {
  const model = a.model ? `${a.model.modelId}@${a.model.version}` : '?';
  const ms = (stage: string) => a.timings.find((t) => t.stage === stage)?.durationMs ?? 0;
  const said = `"${o.ecpe.conversation[o.ecpe.target - 1]?.text}"`;
  const video = o.videoPath.split('/').pop();
  const row = (task: TaskAnswer['task'], stage: string, input: string, answer: string): TaskAnswer => ({
    task,
    input,
    answer,
    raw: answer,
    model,
    ms: ms(stage),
  });
  const fer = a.facialExpression;
  const pairs = a.causes.map((c) => `(${c.emotionUtterance}_${c.emotion}, ${c.causeUtterance})`).join(' ');
  return [
    row('MSA', 'sentiment', said, top(a.sentiment?.probabilities ?? [], a.sentiment?.label ?? '')),
    row(
      'ER',
      'emotion',
      `${said} (turn ${o.ecpe.target})`,
      top(a.emotion?.probabilities ?? [], a.emotion?.label ?? ''),
    ),
    {
      ...row('FER', 'facial_expression', `video ${video}`, `"${fer?.caption ?? ''}"`),
      peak: fer?.peak && {
        frameIndex: fer.peak.frameIndex,
        timeS: fer.peak.timeS,
        sF: fer.peak.sF,
        trackId: fer.peak.trackId,
      },
      activeAus: fer?.aus.map((u) => u.name),
    },
    row(
      'ERI',
      'reason',
      `${said} + video`,
      `${a.reason?.emotion ? `${a.reason.emotion}: ` : ''}${a.reason?.rationale ?? ''}`,
    ),
    row(
      'ECPE',
      'causes',
      `ECF test conversation of ${o.ecpe.conversation.length} utterances, target ${o.ecpe.target}`,
      pairs || '(no pairs)',
    ),
  ];
}
