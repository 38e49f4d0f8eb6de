// ERI (emotion reason inference) rationales behind one interface. The paper prompts InternVL2-8B for person
// and scene descriptions and LLaMA-3.1-8B for the reasoning; here the backend is (a) the project's own model
// through the gateway, (b) any OpenAI-compatible chat endpoint, or (c) an offline deterministic rationale
// from transcript, speaker, facial AUs and ECF causes, which needs no model at all. (a) and (b) are wrapped
// in withFallback so a dead or slow endpoint costs a bounded time and then falls back to (c).
import type { MeldEmotion } from '@emoverse/metrics';
import { fnv1a } from './hash.js';

export interface EriTurn {
  index: number;
  speaker: string;
  text: string;
}

/** What a rationale may draw on. */
export interface EriInput {
  /** Source utterance id; the offline backend's variant choice depends on it (and the seed) only. */
  id: string;
  speaker: string;
  text: string;
  emotion: MeldEmotion;
  /** Preceding utterances of the conversation, oldest first. */
  context: readonly EriTurn[];
  /** ECF cause utterances of this emotion (may include the utterance itself). */
  causes: readonly EriTurn[];
  /** Phrases of the facial action units seen at the peak frame (AU_common), when a face was scored. */
  facialCues?: readonly string[];
}

export interface EriGenerator {
  readonly name: string;
  /** The reasons for the emotion, without the emotion label itself (the record adds it first). */
  rationale(input: EriInput): Promise<string>;
}

const clip = (s: string, n = 140) => (s.length <= n ? s : `${s.slice(0, n - 1).trimEnd()}…`);

const FEELING: Record<MeldEmotion, string> = {
  anger: 'anger',
  sadness: 'sadness',
  surprise: 'surprise',
  disgust: 'disgust',
  joy: 'joy',
  neutral: 'calm',
  fear: 'fear',
};

/** (c) The offline backend: the same input and seed give the same text on every machine. */
export function offlineEri(seed = 0): EriGenerator {
  return {
    name: 'offline',
    async rationale(x) {
      const v = fnv1a(`${seed}:${x.id}`);
      const parts: string[] = [];
      const says = [
        `${x.speaker} says "${clip(x.text)}"`,
        `In the clip, ${x.speaker} says "${clip(x.text)}"`,
        `The words of ${x.speaker}, "${clip(x.text)}"`,
      ][v % 3];
      parts.push(`${says}${v % 3 === 2 ? ' carry' : ', which carries'} the tone of ${FEELING[x.emotion]}.`);
      if (x.facialCues && x.facialCues.length > 0) {
        parts.push(`The face shows ${x.facialCues.join(', ')}, which fits ${FEELING[x.emotion]}.`);
      }
      const others = x.causes.filter((c) => c.text !== x.text || c.speaker !== x.speaker);
      const self = x.causes.length > others.length;
      for (const c of others.slice(0, 2)) {
        parts.push(
          (v >> 2) % 2 === 0
            ? `It is a reaction to ${c.speaker} saying "${clip(c.text, 100)}".`
            : `The feeling comes from what ${c.speaker} says: "${clip(c.text, 100)}".`,
        );
      }
      if (self) parts.push(`What ${x.speaker} is talking about is itself the cause of the feeling.`);
      if (x.causes.length === 0 && x.context.length > 0) {
        const prev = x.context[x.context.length - 1];
        parts.push(`It follows ${prev.speaker} saying "${clip(prev.text, 100)}".`);
      }
      parts.push(`Together these cues point to ${FEELING[x.emotion]}.`);
      // A quote that already ends a sentence ("...him.") takes no second full stop.
      return parts.map((p) => p.replace(/([.!?…])"\.$/, '$1"')).join(' ');
    },
  };
}

/** The instruction sent to a language model backend. */
export function eriPrompt(x: EriInput): string {
  const lines = [`In a TV scene, ${x.speaker} says: "${x.text}". The annotated emotion is ${x.emotion}.`];
  if (x.context.length > 0) {
    lines.push(
      'Earlier in the conversation:',
      ...x.context.map((t) => `${t.index}. ${t.speaker}: ${t.text}`),
    );
  }
  if (x.causes.length > 0) {
    lines.push(
      'Annotated causes of the emotion:',
      ...x.causes.map((t) => `${t.index}. ${t.speaker}: ${t.text}`),
    );
  }
  if (x.facialCues && x.facialCues.length > 0) lines.push(`Facial expression: ${x.facialCues.join(', ')}.`);
  lines.push(
    `In two or three sentences, explain why ${x.speaker} feels ${x.emotion}, citing the words, the face and the conversation. Do not repeat the label as a heading.`,
  );
  return lines.join('\n');
}

/** Runs `work` with an abort signal that fires after `ms`; rejects at `ms` even if `work` ignores the signal. */
async function withTimeout<T>(
  ms: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface OpenAiEriOptions {
  /** e.g. "http://localhost:8000/v1" (vLLM), "http://localhost:11434/v1" (Ollama), or a full .../chat/completions. */
  url: string;
  model: string;
  apiKey?: string;
  /** Bound on one request, connection to last byte. */
  timeoutMs?: number;
  maxTokens?: number;
}

export function chatCompletionsUrl(url: string): string {
  const u = url.replace(/\/+$/, '');
  if (u.endsWith('/chat/completions')) return u;
  return u.endsWith('/v1') ? `${u}/chat/completions` : `${u}/v1/chat/completions`;
}

/** (b) Any OpenAI-compatible chat endpoint. Throws on HTTP errors, bad bodies and timeouts. */
export function openAiEri(opts: OpenAiEriOptions): EriGenerator {
  const endpoint = chatCompletionsUrl(opts.url);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return {
    name: `openai:${opts.model}`,
    rationale: (x) =>
      withTimeout(timeoutMs, `ERI request to ${endpoint}`, async (signal) => {
        const res = await fetch(endpoint, {
          method: 'POST',
          signal,
          headers: {
            'content-type': 'application/json',
            ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
          },
          body: JSON.stringify({
            model: opts.model,
            temperature: 0,
            max_tokens: opts.maxTokens ?? 200,
            messages: [
              {
                role: 'system',
                content: 'You explain why people in video clips feel their emotions, briefly and concretely.',
              },
              { role: 'user', content: eriPrompt(x) },
            ],
          }),
        });
        const body = await res.text();
        if (!res.ok)
          throw new Error(`ERI endpoint ${endpoint} answered ${res.status}: ${body.slice(0, 200)}`);
        let content: unknown;
        try {
          content = JSON.parse(body)?.choices?.[0]?.message?.content;
        } catch {
          throw new Error(`ERI endpoint ${endpoint} returned invalid JSON`);
        }
        if (typeof content !== 'string' || content.trim() === '') {
          throw new Error(`ERI endpoint ${endpoint} returned no message content`);
        }
        return content.trim();
      }),
  };
}

/** The gateway client the trainer/gateway side injects: the project's own model answering an ERI prompt. */
export type GatewayEriClient = (prompt: string, input: EriInput, signal: AbortSignal) => Promise<string>;

/** (a) The project's own model through the gateway, bounded like (b). */
export function gatewayEri(client: GatewayEriClient, timeoutMs = 30_000): EriGenerator {
  return {
    name: 'gateway',
    rationale: (x) =>
      withTimeout(timeoutMs, 'ERI request to the gateway', async (signal) => {
        const text = (await client(eriPrompt(x), x, signal)).trim();
        if (!text) throw new Error('the gateway returned an empty rationale');
        return text;
      }),
  };
}

export interface FallbackStats {
  primary: number;
  fallback: number;
  failures: number;
  /** True once the primary was given up after too many consecutive failures. */
  primaryDisabled: boolean;
}

export interface FallbackOptions {
  onWarning?: (message: string) => void;
  /** After this many failures in a row the primary is not tried again (a dead endpoint costs at most this many timeouts). */
  maxConsecutiveFailures?: number;
}

/** Tries `primary`; on any failure warns and answers with `fallback` (normally offlineEri). */
export function withFallback(
  primary: EriGenerator,
  fallback: EriGenerator,
  opts: FallbackOptions = {},
): EriGenerator & { stats: FallbackStats } {
  const warn = opts.onWarning ?? ((m: string) => console.warn(m));
  const limit = opts.maxConsecutiveFailures ?? 3;
  const stats: FallbackStats = { primary: 0, fallback: 0, failures: 0, primaryDisabled: false };
  let streak = 0;
  return {
    name: `${primary.name}|${fallback.name}`,
    stats,
    async rationale(x) {
      if (!stats.primaryDisabled) {
        try {
          const r = await primary.rationale(x);
          streak = 0;
          stats.primary++;
          return r;
        } catch (e) {
          stats.failures++;
          streak++;
          warn(
            `ERI backend ${primary.name} failed for ${x.id} (${(e as Error).message}); using ${fallback.name}`,
          );
          if (streak >= limit) {
            stats.primaryDisabled = true;
            warn(
              `ERI backend ${primary.name} failed ${streak} times in a row; using ${fallback.name} for the rest`,
            );
          }
        }
      }
      stats.fallback++;
      return fallback.rationale(x);
    },
  };
}
