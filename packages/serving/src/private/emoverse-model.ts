// The TaskModel over packages/models' EmoVerseLM: the model the gateway serves, and the model that
// `npm run experiment` evaluates (so a reported number is what a user gets). The gateway loads this
// module inside its model worker threads (WorkerTaskModel), once per replica and version.
//
// One prompt path from training to serving: a query becomes token ids exactly as the trainer
// encoded it (m2se's chatTemplateFormat: the model's own chat template, then cutPrompt to the
// length the model was tuned with); candidate answers are scored as the trainer's completions
// (answer + eos) with the prompt computed once (EmoVerseLM.scoreShared). LoRA adapters are merged
// into a copy of the base for serving (EmoVerseLM.withAdapter), loaded on demand from
// <adapterDir>/<name>/.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatTemplateFormat, cutPrompt, type PromptFormat } from '@emoverse/m2se';
import {
  DEFAULT_LOOP,
  type DecodeLoopStats,
  EmoVerseLM,
  type Example,
  type GenerationLoopOptions,
  readPeftAdapter,
  visualTokensFromFrames,
} from '@emoverse/models';
import {
  type GenerateOptions,
  type Generation,
  type GenerationStats,
  type ModelInput,
  sumGenerationStats,
  type TaskModel,
} from './task-model.js';

/**
 * Tokens kept free for the answer when a prompt is cut for generation: the trainer cut a prompt to
 * maxSeqLen minus its answer's length, and generated answers (ECPE pairs, short reasons) are about
 * this long. Prompts never cut at all when they fit.
 */
const GENERATION_ANSWER_ROOM = 16;

export interface EmoVerseModelOptions {
  /** A folder written by EmoVerseLM.save (the trainer's output), or a plain HF decoder folder. */
  dir?: string;
  /** Without `dir`: a fresh emoverse-nano with seeded random weights (before any training). */
  nano?: {
    seed: number;
    /** ms-swift / EMT JSON(L) files whose queries and responses train the nano tokenizer. */
    corpusFiles?: string[];
    vocabSize?: number;
  };
  /** Folder of PEFT adapters, one sub-folder per adapter name. */
  adapterDir?: string;
  /** ORT intra-op threads (default: ORT's choice). */
  intraOpThreads?: number;
  /** Continuous batching and the prefix cache (default: models' DEFAULT_LOOP). */
  generation?: GenerationLoopOptions;
}

/** One loop's counters in the TaskModel's terms. */
const asGenerationStats = (s: DecodeLoopStats): GenerationStats => ({
  active: s.active,
  waiting: s.waiting,
  steps: s.steps,
  rowSteps: s.rowSteps,
  lookedUpTokens: s.prefix.lookedUpTokens,
  hitTokens: s.prefix.hitTokens,
  prefillSeconds: s.prefillSeconds,
  decodeSeconds: s.decodeSeconds,
});

function corpus(files: string[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8').trim();
    const records: { query?: string; response?: string }[] = text.startsWith('[')
      ? JSON.parse(text)
      : text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
    for (const r of records) out.push(`${r.query ?? ''} ${r.response ?? ''}`);
  }
  return out;
}

/**
 * Generated tokens → text pieces as they come, per row. Text is decoded from all of a row's tokens
 * (a piece may complete a multi-byte character), and the tail that could still turn out to be a
 * stop sequence (or half a character) is held back, so that the pieces add up to the final answer.
 */
class TextStream {
  private readonly ids: number[][];
  private readonly sent: string[];
  private readonly closed: boolean[];
  private readonly holdBack: number;

  constructor(
    rows: number,
    private readonly stop: string[],
    private readonly decode: (ids: number[]) => string,
    private readonly emit: (row: number, piece: string) => void,
  ) {
    this.ids = Array.from({ length: rows }, () => []);
    this.sent = Array.from({ length: rows }, () => '');
    this.closed = Array.from({ length: rows }, () => false);
    this.holdBack = Math.max(1, ...stop.map((x) => x.length)) - 1;
  }

  push(row: number, token: number): void {
    if (this.closed[row]) return;
    this.ids[row].push(token);
    let text = this.decode(this.ids[row]);
    const hits = this.stop.map((x) => text.indexOf(x)).filter((k) => k >= 0);
    if (hits.length) {
      text = text.slice(0, Math.min(...hits));
      this.closed[row] = true;
    } else {
      text = text.slice(0, text.length - this.holdBack);
      if (text.endsWith('\uFFFD')) text = text.slice(0, -1);
    }
    this.send(row, text);
  }

  /** The row's final text: whatever was held back goes out now. */
  end(row: number, text: string): void {
    this.send(row, text);
    this.closed[row] = true;
  }

  private send(row: number, text: string): void {
    const sent = this.sent[row];
    if (text.length > sent.length && text.startsWith(sent)) {
      this.emit(row, text.slice(sent.length));
      this.sent[row] = text;
    }
  }
}

export class EmoVerseTaskModel implements TaskModel {
  private readonly adapters = new Map<string, EmoVerseLM>();
  private readonly format: PromptFormat;

  constructor(
    private readonly base: EmoVerseLM,
    private readonly options: Pick<EmoVerseModelOptions, 'adapterDir' | 'generation'> = {},
  ) {
    this.format = chatTemplateFormat(base.tokenizer);
  }

  private model(adapter: string | undefined): EmoVerseLM {
    if (!adapter) return this.base;
    const m = this.adapters.get(adapter);
    if (!m) throw new Error(`adapter '${adapter}' is not loaded`);
    return m;
  }

  /** T_v for one input: [visualTokens × D_v] from its frames' features, evenly spaced (models' rule). */
  private visual(frames: Float32Array[] | undefined): Float32Array | undefined {
    const e = this.base.emoverse;
    if (!frames?.length || !e || this.base.visualTokens === 0) return undefined;
    const bad = frames.find((f) => f.length !== e.visualDim);
    if (bad)
      throw new Error(`visual features have ${bad.length} values per frame; the model takes ${e.visualDim}`);
    return visualTokensFromFrames(frames, this.base.visualTokens);
  }

  /**
   * The prompt's token ids as the trainer made them (encodeExample with chatTemplateFormat): the
   * chat-templated query, its middle cut so that the prompt plus `answerTokens` fit the length the
   * model was tuned with, then the forced answer start, if any.
   */
  promptIds(input: ModelInput, answerTokens: number): number[] {
    const tok = this.base.tokenizer;
    const visualTokens = input.visual?.length ? this.base.visualTokens : 0;
    const positions = this.base.llm.config.maxPositions;
    const room = Math.min(this.base.contextLength, positions - visualTokens) - answerTokens;
    if (room < 8) throw new Error(`the prompt does not fit the model's ${positions} positions`);
    const ids = cutPrompt(tok.encode(this.format.prompt(input.prompt), { addSpecialTokens: false }), room);
    if (input.answerPrefix) ids.push(...tok.encode(input.answerPrefix, { addSpecialTokens: false }));
    return ids;
  }

  private example(input: ModelInput, answerTokens: number): Example {
    return { promptIds: this.promptIds(input, answerTokens), visual: this.visual(input.visual) };
  }

  async scoreAnswers(inputs: ModelInput[], answers: string[], adapter?: string): Promise<number[][]> {
    const completions = answers.map((a) => this.format.completion(a));
    const longest = Math.max(
      ...completions.map((c) => this.base.tokenizer.encode(c, { addSpecialTokens: false }).length + 1),
    );
    return this.model(adapter).scoreShared(
      inputs.map((i) => this.example(i, longest)),
      completions,
    );
  }

  async generate(inputs: ModelInput[], options: GenerateOptions, adapter?: string): Promise<Generation[]> {
    const lm = this.model(adapter);
    const positions = lm.llm.config.maxPositions;
    const examples = inputs.map((i) => {
      const ex = this.example(i, GENERATION_ANSWER_ROOM);
      const total = lm.encodePrompt(ex).length + options.maxNewTokens;
      // a long prompt near the trained length still gets its full maxNewTokens of positions
      return total <= positions ? ex : this.example(i, GENERATION_ANSWER_ROOM + total - positions);
    });
    // Answers end with eos, as the trainer closed them; stop sequences are the caller's.
    const stop = options.stop ?? [];
    const stream = options.onToken
      ? new TextStream(inputs.length, stop, (ids) => lm.tokenizer.decode(ids), options.onToken)
      : undefined;
    const loop = this.options.generation ?? DEFAULT_LOOP;
    const results = await Promise.all(
      examples.map((ex, i) =>
        lm.generateOne(
          ex,
          {
            maxNewTokens: options.maxNewTokens,
            temperature: options.temperature,
            topP: options.topP,
            seed: options.seed,
            repetitionPenalty: options.repetitionPenalty,
            noRepeatNgramSize: options.noRepeatNgramSize,
            stop,
            signal: options.signal,
            onToken: stream && ((token) => stream.push(i, token)),
          },
          loop,
        ),
      ),
    );
    return results.map((r, i) => {
      stream?.end(i, r.text);
      return {
        text: r.text,
        finish: r.finish === 'cancelled' ? 'stop' : r.finish,
        promptTokens: r.promptTokens,
        generatedTokens: r.tokens.length,
      };
    });
  }

  /** The base model's and adapters' generation loops, summed (prefix-cache hits, live sequences). */
  async generationStats(): Promise<GenerationStats> {
    const loops = [this.base, ...this.adapters.values()].map((m) => m.generationStats());
    return sumGenerationStats(loops.map((s) => s && asGenerationStats(s)));
  }

  async loadAdapter(name: string): Promise<boolean> {
    if (this.adapters.has(name)) return true;
    const dir = this.options.adapterDir && join(this.options.adapterDir, name);
    if (!dir || !existsSync(join(dir, 'adapter_config.json'))) return false;
    this.adapters.set(name, this.base.withAdapter(readPeftAdapter(dir)));
    return true;
  }

  async unloadAdapter(name: string): Promise<void> {
    const m = this.adapters.get(name);
    this.adapters.delete(name);
    await m?.release();
  }

  async dispose(): Promise<void> {
    for (const name of [...this.adapters.keys()]) await this.unloadAdapter(name);
    await this.base.release();
  }
}

/** The base model the options describe (deterministic: the same options give the same model). */
export function loadBase(options: EmoVerseModelOptions): EmoVerseLM {
  const session = options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {};
  if (options.dir) return EmoVerseLM.load(options.dir, session);
  if (options.nano) {
    return EmoVerseLM.createNano({
      corpus: corpus(options.nano.corpusFiles ?? []),
      vocabSize: options.nano.vocabSize ?? 1024,
      seed: options.nano.seed,
    });
  }
  throw new Error('the model options name neither a folder (dir) nor a fresh nano preset (nano)');
}

/** This module, for WorkerTaskModel.start (the gateway runs the model in worker threads). */
export const EMOVERSE_MODEL_MODULE = import.meta.url;

/** The worker-module entry point (see WorkerTaskModel.start). */
export async function createTaskModel(options: EmoVerseModelOptions): Promise<TaskModel> {
  const model = new EmoVerseTaskModel(loadBase(options), options);
  // Build the sessions now, so the first request does not pay for it and readiness means ready.
  await model.scoreAnswers([{ prompt: 'warm-up' }], ['Neutral.']);
  return model;
}
