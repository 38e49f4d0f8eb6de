// What the serving logic needs from a model, and nothing more. The gateway is written against this
// interface; packages/models provides the real implementation (emoverse-nano and larger presets,
// run in worker threads). Every call is batched: one call serves one batch of the DynamicBatcher.

/** One prompt and its visual features. */
export interface ModelInput {
  /** The task instruction (an EMT query); the model wraps it in its own prompt format. */
  prompt: string;
  /**
   * Text the answer is forced to start with (e.g. ERI's emotion when the client gives it); scored
   * answers and generations continue after it, and it is not part of the returned text.
   */
  answerPrefix?: string;
  /**
   * Per-frame visual features that become the visual tokens T_v (for emoverse-nano: the AU
   * intensities, expression probabilities and face descriptor of the peak frame), if any.
   */
  visual?: Float32Array[];
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (the default) decodes greedily. */
  temperature?: number;
  topP?: number;
  seed?: number;
  /** > 1 makes tokens the answer already holds less likely (CTRL's penalty); 1 or absent = off */
  repetitionPenalty?: number;
  /** n > 0: the answer never holds the same n-gram twice; 0 or absent = off */
  noRepeatNgramSize?: number;
  stop?: string[];
  /** Called with each newly decoded piece of text of input `index`, as soon as it is known. */
  onToken?: (index: number, piece: string) => void;
  /** Stops the call's sequences at the next decode step (they end with what they have). */
  signal?: AbortSignal;
}

export interface Generation {
  text: string;
  /** 'eos' (the model ended), 'stop' (a stop sequence) or 'length' (maxNewTokens reached). */
  finish: 'eos' | 'stop' | 'length';
  promptTokens: number;
  generatedTokens: number;
}

/** Counters of a model's continuous-batching loops (cumulative, except active and waiting). */
export interface GenerationStats {
  active: number;
  waiting: number;
  /** decode steps run, and rows decoded over all steps (rowSteps ÷ steps = mean batch) */
  steps: number;
  rowSteps: number;
  /** prompt tokens looked up in the prefix cache, and those found there */
  lookedUpTokens: number;
  hitTokens: number;
  /** seconds the model spent in prompt prefills and in decode steps */
  prefillSeconds: number;
  decodeSeconds: number;
}

export interface TaskModel {
  /**
   * Log-likelihood of each candidate answer given each input: result[i][j] = log p(answers[j] | inputs[i]).
   * This is constrained decoding for classification: the answer is always one of `answers`.
   */
  scoreAnswers(inputs: ModelInput[], answers: string[], adapter?: string): Promise<number[][]>;
  /** Generates a continuation for each input. */
  generate(inputs: ModelInput[], options: GenerateOptions, adapter?: string): Promise<Generation[]>;
  /** Loads a named LoRA adapter over the base; resolves false when no adapter has that name. */
  loadAdapter(name: string): Promise<boolean>;
  unloadAdapter(name: string): Promise<void>;
  /** Frees the model's sessions and workers. */
  dispose(): Promise<void>;
  /** Generation counters, where the model batches continuously. */
  generationStats?(): Promise<GenerationStats>;
}

/** Counters of several loops (workers, adapters) as one; absent ones count nothing. */
export function sumGenerationStats(all: readonly (GenerationStats | null | undefined)[]): GenerationStats {
  const out: GenerationStats = {
    active: 0,
    waiting: 0,
    steps: 0,
    rowSteps: 0,
    lookedUpTokens: 0,
    hitTokens: 0,
    prefillSeconds: 0,
    decodeSeconds: 0,
  };
  for (const s of all) {
    if (!s) continue;
    for (const k of Object.keys(out) as (keyof GenerationStats)[]) out[k] += s[k];
  }
  return out;
}
