// The five tasks on top of a hot-swappable model: each request is turned into its task prompt,
// queued in a dynamic batcher, and run on whatever model version is current when its batch starts.
// Classification tasks score their label set (constrained decoding); the others generate.
// Plain TypeScript: the gateway adds gRPC, media processing and metrics around it.

import { type EcpePair, MELD_EMOTIONS, type MeldEmotion, parseEcpePairs } from '@emoverse/metrics';
import { AdapterCache } from './adapter-cache.js';
import { type BatchInfo, DynamicBatcher, type SubmitOptions } from './batcher.js';
import { type Calibration, labelOffsets } from './calibration.js';
import { type Classification, classify } from './classify.js';
import type { ModelHolder } from './model-holder.js';
import {
  EMOTION_LABELS,
  ecpePrompt,
  emotionPrompt,
  emotionReasonPrompt,
  facialExpressionPrompt,
  labelAnswer,
  SENTIMENT_LABELS,
  sentimentPrompt,
  type Task,
} from './prompts.js';
import type { GenerateOptions, Generation, ModelInput, TaskModel } from './task-model.js';
import type { Turn } from './validation.js';

/** A model version as the engine holds it: the model, the adapters loaded into it, its decision rule. */
export interface LoadedModel {
  model: TaskModel;
  adapters: AdapterCache<true>;
  /** The model folder's calibration.json (label offsets); absent: plain argmax. */
  calibration?: Calibration;
}

/** Wraps a freshly loaded model with its own adapter LRU (adapters belong to one base version). */
export function loadedModel(
  model: TaskModel,
  adapterCapacity: number,
  calibration?: Calibration,
): LoadedModel {
  return {
    model,
    calibration,
    adapters: new AdapterCache<true>({
      capacity: adapterCapacity,
      load: async (name) => ((await model.loadAdapter(name)) ? true : undefined),
      onEvict: (name) => void model.unloadAdapter(name).catch(() => {}),
    }),
  };
}

export interface EngineOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  /** Waiting requests allowed per batcher before RESOURCE_EXHAUSTED. */
  maxQueue: number;
  /** Batches run at once (model workers). */
  concurrency?: number;
  /**
   * Continuous batching: the model interleaves generate calls step by step (EmoVerseTaskModel's
   * decode loop), so each generation request goes to it at once, alone, up to this many at a time
   * (its sequences over all workers). Absent: generation requests are batched whole like scoring.
   */
  generationSlots?: number;
  /** Per-task caps on generated tokens. */
  maxNewTokens?: Partial<Record<Task | 'generate', number>>;
  onBatch?: (kind: 'score' | 'generate', info: BatchInfo) => void;
}

/** What the gateway hands the engine once inputs are validated and media turned into features. */
export interface EngineRequest {
  text: string;
  speaker?: string;
  history?: Turn[];
  adapter?: string;
  /** Visual features for T_v (from the peak frame), if the request had media. */
  visual?: Float32Array[];
}

export interface TaskResult extends Partial<Classification> {
  task: Task;
  /** The raw answer text (for classification tasks, the chosen label's answer text). */
  text: string;
  pairs?: EcpePair[];
  modelVersion: string;
}

interface ScoreJob {
  input: ModelInput;
  answers: string[];
  adapter?: string;
  /** The classification task and labels the answers stand for: their calibration offsets apply. */
  labels?: { task: Task; labels: readonly string[] };
}
interface ScoreOut {
  scores: number[];
  version: string;
}
interface GenerateJob {
  input: ModelInput;
  options: Omit<GenerateOptions, 'onToken' | 'signal'>;
  adapter?: string;
  onToken?: (piece: string) => void;
  /** the request's cancellation: with continuous batching its sequence leaves at the next step */
  signal?: AbortSignal;
}
interface GenerateOut extends Generation {
  version: string;
}

/** The cause utterances an ECPE answer names for `target`, in order, each once, within 1..target. */
export function causesOf(answer: string, target: number): number[] {
  const out: number[] = [];
  for (const p of parseEcpePairs(answer)) {
    if (p.emotionUtt !== target || p.causeUtt < 1 || p.causeUtt > target) continue;
    if (!out.includes(p.causeUtt)) out.push(p.causeUtt);
  }
  return out;
}

/** Fires when the request is cancelled or its deadline passes: a running generation then stops. */
function cancellation(ctx: SubmitOptions): AbortSignal | undefined {
  const all = [ctx.signal];
  if (ctx.deadline !== undefined) all.push(AbortSignal.timeout(Math.max(0, ctx.deadline - Date.now())));
  const live = all.filter((s): s is AbortSignal => s !== undefined);
  return live.length > 1 ? AbortSignal.any(live) : live[0];
}

const isMeldEmotion = (e: string): e is MeldEmotion => (MELD_EMOTIONS as readonly string[]).includes(e);

const DEFAULT_MAX_NEW_TOKENS: Record<Task | 'generate', number> = {
  msa: 4,
  er: 4,
  fer: 48,
  eri: 96,
  ecpe: 32,
  generate: 256,
};

/**
 * Repetition control per task (GenerateOptions). Free-text answers (FER captions, ERI reasons) get
 * CTRL's penalty of 1.2 and no repeated trigram, so that a small model writes sentences, not loops.
 * ECPE answers repeat by design ("4_joy,4;4_joy,3"), so they get none; free generation takes the
 * request's own settings.
 */
const DEFAULT_REPETITION: Partial<
  Record<Task, Pick<GenerateOptions, 'repetitionPenalty' | 'noRepeatNgramSize'>>
> = {
  fer: { repetitionPenalty: 1.2, noRepeatNgramSize: 3 },
  eri: { repetitionPenalty: 1.2, noRepeatNgramSize: 3 },
};

export class TaskEngine {
  private readonly scoring: DynamicBatcher<ScoreJob, ScoreOut>;
  private readonly generating: DynamicBatcher<GenerateJob, GenerateOut>;
  private readonly maxNewTokens: Record<Task | 'generate', number>;

  constructor(
    private readonly models: ModelHolder<LoadedModel>,
    options: EngineOptions,
  ) {
    this.maxNewTokens = { ...DEFAULT_MAX_NEW_TOKENS, ...options.maxNewTokens };
    const common = {
      maxBatchSize: options.maxBatchSize,
      maxWaitMs: options.maxWaitMs,
      maxQueue: options.maxQueue,
      concurrency: options.concurrency ?? 1,
    };
    this.scoring = new DynamicBatcher<ScoreJob, ScoreOut>({
      ...common,
      key: (j) => `${j.adapter ?? ''}\u0000${j.labels?.task ?? ''}\u0000${j.answers.join('\u0000')}`,
      run: (jobs) =>
        this.models.use(async ({ model, adapters, calibration }, version) => {
          const adapter = jobs[0].adapter;
          if (adapter) await adapters.get(adapter);
          const scores = await model.scoreAnswers(
            jobs.map((j) => j.input),
            jobs[0].answers,
            adapter,
          );
          // the offsets of the version that scored, so that a hot swap never mixes two models' rules
          const l = jobs[0].labels;
          const offsets = l ? labelOffsets(calibration, l.task, l.labels) : undefined;
          return scores.map((s) => ({ scores: offsets ? s.map((x, j) => x + offsets[j]) : s, version }));
        }),
      onBatch: (info) => options.onBatch?.('score', info),
    });
    const slots = options.generationSlots;
    this.generating = new DynamicBatcher<GenerateJob, GenerateOut>({
      ...common,
      ...(slots ? { maxBatchSize: 1, maxWaitMs: 0, concurrency: slots } : {}),
      key: (j) => `${j.adapter ?? ''}\u0000${JSON.stringify(j.options)}`,
      run: (jobs) =>
        this.models.use(async ({ model, adapters }, version) => {
          const adapter = jobs[0].adapter;
          if (adapter) await adapters.get(adapter);
          const generations = await model.generate(
            jobs.map((j) => j.input),
            {
              ...jobs[0].options,
              onToken: (i, piece) => jobs[i].onToken?.(piece),
              signal: jobs.length === 1 ? jobs[0].signal : undefined,
            },
            adapter,
          );
          return generations.map((g) => ({ ...g, version }));
        }),
      onBatch: (info) => options.onBatch?.('generate', info),
    });
  }

  /** Whether a model is loaded (the replica's readiness). */
  get ready(): boolean {
    return this.models.ready;
  }

  /** Requests waiting for a batch, over all batchers. */
  get queueDepth(): number {
    return this.scoring.queueDepth + this.generating.queueDepth;
  }

  sentiment(req: EngineRequest, ctx: SubmitOptions = {}): Promise<TaskResult> {
    return this.classifyTask('msa', sentimentPrompt(req.text), SENTIMENT_LABELS, req, ctx);
  }

  emotion(req: EngineRequest, ctx: SubmitOptions = {}): Promise<TaskResult> {
    return this.classifyTask('er', emotionPrompt(req.text), EMOTION_LABELS, req, ctx);
  }

  facialExpression(req: EngineRequest, ctx: SubmitOptions = {}): Promise<TaskResult> {
    return this.generateTask('fer', facialExpressionPrompt(), req, ctx);
  }

  /**
   * ERI. EMT's answers are the emotion, then the reasons ("Joy. She laughs because ..."); a given
   * emotion is forced as the answer's start and the model writes the reasons after it.
   */
  async emotionReason(
    req: EngineRequest & { emotion?: string },
    ctx: SubmitOptions = {},
  ): Promise<TaskResult> {
    const prompt = emotionReasonPrompt(req.text, req.history, req.speaker);
    const answerPrefix = req.emotion ? labelAnswer(req.emotion) : undefined;
    const out = await this.generateTask('eri', prompt, req, ctx, answerPrefix);
    return { ...out, text: answerPrefix ? `${answerPrefix} ${out.text}` : out.text };
  }

  /**
   * ECPE for utterance `target` (1-based) of `conversation`. The request fixes the answer's form:
   * every pair is "<target>_<its emotion>,<cause>" with the cause among utterances 1..target (the
   * prompt's candidates and the target itself). So the answer is forced to start with
   * "<target>_<emotion>,", the model writes the cause indices, and the pairs are rebuilt from the
   * causes it names: the emotion utterance and its emotion are the request's, not the model's to get
   * wrong. `raw` keeps what the model wrote.
   */
  async emotionCausePairs(
    req: { conversation: Turn[]; target: number; adapter?: string; visual?: Float32Array[] },
    ctx: SubmitOptions = {},
  ): Promise<TaskResult & { raw: string }> {
    const prompt = ecpePrompt(req.conversation, req.target);
    const emotion = req.conversation[req.target - 1].emotion ?? 'neutral';
    const head = `${req.target}_${emotion},`;
    const result = await this.generateTask('ecpe', prompt, { ...req, text: prompt }, ctx, head);
    const raw = head + result.text;
    const pairs = causesOf(raw, req.target).map((causeUtt) => ({
      emotionUtt: req.target,
      causeUtt,
      ...(isMeldEmotion(emotion) ? { emotion } : {}),
    }));
    const text = pairs.map((p) => `${p.emotionUtt}_${emotion},${p.causeUtt}`).join(';');
    return { ...result, text, pairs, raw };
  }

  /** Free generation from a raw prompt, streaming pieces of text through `onToken`. */
  async generate(
    req: { prompt: string; answerPrefix?: string; adapter?: string; visual?: Float32Array[] } & Partial<
      Omit<GenerateOptions, 'onToken'>
    >,
    ctx: SubmitOptions = {},
    onToken?: (piece: string) => void,
  ): Promise<Generation & { modelVersion: string }> {
    await this.checkAdapter(req.adapter);
    const out = await this.generating.submit(
      {
        input: { prompt: req.prompt, answerPrefix: req.answerPrefix, visual: req.visual },
        options: {
          maxNewTokens: Math.min(req.maxNewTokens || this.maxNewTokens.generate, this.maxNewTokens.generate),
          temperature: req.temperature ?? 0,
          topP: req.topP ?? 1,
          seed: req.seed ?? 0,
          repetitionPenalty: req.repetitionPenalty ?? 1,
          noRepeatNgramSize: req.noRepeatNgramSize ?? 0,
          stop: req.stop ?? [],
        },
        adapter: req.adapter || undefined,
        onToken,
        signal: cancellation(ctx),
      },
      ctx,
    );
    const { version, ...generation } = out;
    return { ...generation, modelVersion: version };
  }

  /** Forgets a loaded adapter so that its next use loads it again (a new version was published). */
  async forgetAdapter(name: string): Promise<void> {
    if (this.models.ready) await this.models.use(async ({ adapters }) => adapters.delete(name));
  }

  /** Stops taking requests; waiting ones fail with UNAVAILABLE. */
  close(): void {
    this.scoring.close();
    this.generating.close();
  }

  /** Unknown adapters fail fast with NOT_FOUND, before taking a queue slot. */
  private async checkAdapter(adapter: string | undefined): Promise<void> {
    if (adapter) await this.models.use(({ adapters }) => adapters.get(adapter));
  }

  private async classifyTask(
    task: Task,
    prompt: string,
    labels: readonly string[],
    req: EngineRequest,
    ctx: SubmitOptions,
  ): Promise<TaskResult> {
    await this.checkAdapter(req.adapter);
    const answers = labels.map(labelAnswer);
    const out = await this.scoring.submit(
      {
        input: { prompt, visual: req.visual },
        answers,
        adapter: req.adapter || undefined,
        labels: { task, labels },
      },
      ctx,
    );
    const c = classify(out.scores, labels);
    return { task, ...c, text: labelAnswer(c.label), modelVersion: out.version };
  }

  private async generateTask(
    task: Task,
    prompt: string,
    req: EngineRequest,
    ctx: SubmitOptions,
    answerPrefix?: string,
  ): Promise<TaskResult> {
    const out = await this.generate(
      {
        prompt,
        answerPrefix,
        adapter: req.adapter,
        visual: req.visual,
        maxNewTokens: this.maxNewTokens[task],
        ...DEFAULT_REPETITION[task],
      },
      ctx,
    );
    return { task, text: out.text.trim(), modelVersion: out.modelVersion };
  }
}
