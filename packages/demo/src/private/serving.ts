// Stage 4: the gateway serves the published model. The demo waits until the gateway answers with the
// new version (hot reload on model.published), then calls each of the five tasks once: text tasks
// on sample utterances, FER and ERI on a sample video (the answer carries the peak frame and the AUs).
import type { ModelPublished } from '@emoverse/proto';
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
  const bar = progress('gateway: five tasks', 6, o.out);
  const answers: TaskAnswer[] = [];
  const model = (m?: { modelId: string; version: string }) => (m ? `${m.modelId}@${m.version}` : '?');
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const r = await f();
    return [r, performance.now() - t];
  };
  try {
    bar.update(0, { status: `hot reload to ${o.published.version}` });
    const reloadSeconds = await waitForVersion(gw, o.published.version, 300_000);
    bar.update(1, { status: 'MSA' });
    const media = { source: { case: 'path' as const, value: o.videoPath } };
    const t1 = "I just got the job! I can't believe it, this is amazing!";
    const [msa, msaMs] = await timed(() =>
      gw.sentiment({ input: { text: t1, speaker: 'Rachel' } }, { timeoutMs: 60_000 }),
    );
    answers.push({
      task: 'MSA',
      input: `"${t1}"`,
      answer:
        top(msa.probabilities, msa.label) +
        (msa.score !== undefined ? `, score ${msa.score.toFixed(2)}` : ''),
      raw: msa.rawText,
      model: model(msa.model),
      ms: msaMs,
    });
    bar.update(2, { status: 'ER' });
    const t2 = 'Why would you do that to me? I trusted you!';
    const history = [
      { speaker: 'Ross', text: 'I told everyone about your secret.' },
      { speaker: 'Monica', text: 'You did what?' },
    ];
    const [er, erMs] = await timed(() =>
      gw.emotion({ input: { text: t2, speaker: 'Monica', history } }, { timeoutMs: 60_000 }),
    );
    answers.push({
      task: 'ER',
      input: `"${t2}" (after 2 turns)`,
      answer: top(er.probabilities, er.label),
      raw: er.rawText,
      model: model(er.model),
      ms: erMs,
    });
    bar.update(3, { status: 'FER (video)' });
    const [fer, ferMs] = await timed(() =>
      gw.facialExpression(
        { input: { text: 'Describe the facial expression.', media } },
        { timeoutMs: 180_000 },
      ),
    );
    answers.push({
      task: 'FER',
      input: `video ${o.videoPath.split('/').pop()}`,
      answer: `"${fer.caption}"${fer.label ? ` read as ${top(fer.probabilities, fer.label)}` : ''}`,
      raw: fer.rawText,
      model: model(fer.model),
      ms: ferMs,
      peak: fer.peak && {
        frameIndex: fer.peak.frameIndex,
        timeS: fer.peak.timeS,
        sF: fer.peak.sF,
        trackId: fer.peak.trackId,
      },
      activeAus: fer.activeAus,
    });
    bar.update(4, { status: 'ERI (video)' });
    const t4 = "Oh my God! I can't believe it!";
    const [eri, eriMs] = await timed(() =>
      gw.emotionReason({ input: { text: t4, speaker: 'Person', media } }, { timeoutMs: 180_000 }),
    );
    answers.push({
      task: 'ERI',
      input: `"${t4}" + video`,
      answer: `${eri.emotion ? `${eri.emotion}: ` : ''}${eri.rationale}`,
      raw: eri.rawText,
      model: model(eri.model),
      ms: eriMs,
    });
    bar.update(5, { status: 'ECPE' });
    const turns = o.ecpe.conversation;
    const [ecpe, ecpeMs] = await timed(() =>
      gw.emotionCausePairs(
        {
          input: { history: turns.map((t) => ({ speaker: t.speaker, text: t.text, emotion: t.emotion })) },
          target: o.ecpe.target,
        },
        { timeoutMs: 120_000 },
      ),
    );
    answers.push({
      task: 'ECPE',
      input: `ECF test conversation of ${turns.length} utterances, target ${o.ecpe.target}`,
      answer:
        ecpe.pairs.map((p) => `(${p.emotionUtterance}_${p.emotion}, ${p.causeUtterance})`).join(' ') ||
        '(no pairs)',
      raw: ecpe.rawText,
      model: model(ecpe.model),
      ms: ecpeMs,
    });
    bar.finish(`served ${o.published.version}`);
    return { version: o.published.version, reloadSeconds, answers };
  } catch (e) {
    bar.fail((e as Error).message);
    throw e;
  } finally {
    gw.close();
  }
}
