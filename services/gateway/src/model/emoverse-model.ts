// The TaskModel over packages/models' EmoVerseLM: the model the gateway serves. This module is
// loaded inside the model worker thread (WorkerTaskModel), once per replica and version.
//
// Prompts are wrapped exactly as the trainer wraps EMT queries (m2se's prompt format), answers are
// scored as the trainer's completions, and LoRA adapters are merged into a copy of the base for
// serving (EmoVerseLM.withAdapter), loaded on demand from <adapterDir>/<name>/.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PROMPT_FORMAT } from '@emoverse/m2se';
import { EmoVerseLM, type Example, readPeftAdapter, visualTokensFromFrames } from '@emoverse/models';
import type { GenerateOptions, Generation, ModelInput, TaskModel } from '@emoverse/serving';
import { TreeScorer } from './tree-scorer.js';

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
}

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

/** One servable model: the LM and its prompt-sharing scorer. */
interface Served {
  lm: EmoVerseLM;
  scorer: TreeScorer;
}

async function served(lm: EmoVerseLM): Promise<Served> {
  return { lm, scorer: await TreeScorer.create(lm) };
}

export class EmoVerseTaskModel implements TaskModel {
  private readonly adapters = new Map<string, Served>();

  private constructor(
    private readonly baseModel: Served,
    private readonly options: EmoVerseModelOptions,
  ) {}

  static async create(base: EmoVerseLM, options: EmoVerseModelOptions): Promise<EmoVerseTaskModel> {
    return new EmoVerseTaskModel(await served(base), options);
  }

  private get base(): EmoVerseLM {
    return this.baseModel.lm;
  }

  private model(adapter: string | undefined): Served {
    if (!adapter) return this.baseModel;
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

  private example(input: ModelInput): Example {
    return {
      prompt: DEFAULT_PROMPT_FORMAT.prompt(input.prompt) + (input.answerPrefix ?? ''),
      visual: this.visual(input.visual),
    };
  }

  /**
   * The example, its query shortened from the start until prompt + `reserve` tokens fit the model's
   * positions. As the trainer does, the start goes: EMT queries put the instruction at the end (an
   * ECPE conversation loses its first utterances, not the question).
   */
  private fitted(input: ModelInput, reserve: number): Example {
    const max = this.base.llm.config.maxPositions - reserve;
    let query = input.prompt;
    for (let attempt = 0; attempt < 16; attempt++) {
      const ex = this.example({ ...input, prompt: query });
      const n = this.base.encodePrompt(ex).length;
      if (n <= max) return ex;
      query = query.slice(Math.ceil((query.length * (n - max)) / n) + 4);
    }
    throw new Error(`the prompt does not fit the model's ${this.base.llm.config.maxPositions} positions`);
  }

  async scoreAnswers(inputs: ModelInput[], answers: string[], adapter?: string): Promise<number[][]> {
    const completions = answers.map((a) => DEFAULT_PROMPT_FORMAT.completion(a));
    const longest = Math.max(
      ...completions.map((c) => this.base.tokenizer.encode(c, { addSpecialTokens: false }).length),
    );
    return this.model(adapter).scorer.score(
      inputs.map((i) => this.fitted(i, longest + 2)),
      completions,
    );
  }

  async generate(inputs: ModelInput[], options: GenerateOptions, adapter?: string): Promise<Generation[]> {
    const { lm } = this.model(adapter);
    const examples = inputs.map((i) => this.fitted(i, options.maxNewTokens + 1));
    // The trainer closes every answer with a newline: that is where an answer ends.
    const stop = ['\n', ...(options.stop ?? [])];
    const stream = options.onToken
      ? new TextStream(inputs.length, stop, (ids) => lm.tokenizer.decode(ids), options.onToken)
      : undefined;
    const r = await lm.generate(examples, {
      maxNewTokens: options.maxNewTokens,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      stop,
      onToken: stream && ((row, token) => stream.push(row, token)),
    });
    return r.text.map((text, i) => {
      stream?.end(i, text);
      return {
        text,
        finish: r.tokens[i].length >= options.maxNewTokens ? 'length' : 'eos',
        promptTokens: lm.encodePrompt(examples[i]).length,
        generatedTokens: r.tokens[i].length,
      };
    });
  }

  async loadAdapter(name: string): Promise<boolean> {
    if (this.adapters.has(name)) return true;
    const dir = this.options.adapterDir && join(this.options.adapterDir, name);
    if (!dir || !existsSync(join(dir, 'adapter_config.json'))) return false;
    this.adapters.set(name, await served(this.base.withAdapter(readPeftAdapter(dir))));
    return true;
  }

  async unloadAdapter(name: string): Promise<void> {
    const m = this.adapters.get(name);
    this.adapters.delete(name);
    await m?.scorer.release();
    await m?.lm.release();
  }

  async dispose(): Promise<void> {
    for (const name of [...this.adapters.keys()]) await this.unloadAdapter(name);
    await this.baseModel.scorer.release();
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

/** The worker-module entry point (see WorkerTaskModel.start). */
export async function createTaskModel(options: EmoVerseModelOptions): Promise<TaskModel> {
  const model = await EmoVerseTaskModel.create(loadBase(options), options);
  // Build the sessions now, so the first request does not pay for it and readiness means ready.
  await model.scoreAnswers([{ prompt: 'warm-up' }], ['Neutral.']);
  return model;
}
