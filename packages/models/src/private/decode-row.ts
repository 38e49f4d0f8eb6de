// One generated sequence's choice of each next token and its stopping rule, shared by the
// fixed-batch Generator and the continuous DecodeLoop: suppress tokens, penalise repetition,
// sample (or take the argmax), then stop at eos, at a stop sequence, or at maxNewTokens.
import { penalizeRepetition, type SamplingOptions, sampleToken, seededRandom } from './sampling.js';

export interface RowOptions extends SamplingOptions {
  maxNewTokens: number;
  seed?: number;
  /** stop when one of these is emitted */
  eosTokenIds: readonly number[];
  /** stop when the generated text contains one of these (needs `decode`) */
  stop?: string[];
  decode?: (ids: number[]) => string;
  /** never emit these (e.g. the image placeholder) */
  suppressTokens?: readonly number[];
}

export type Finish = 'eos' | 'stop' | 'length';

export class RowDecoder {
  /** generated ids (without the prompt), eos included when the row ended on it */
  readonly tokens: number[] = [];
  finish: Finish | undefined;
  /** the text before the stop sequence, when the row stopped on one */
  private stoppedText: string | undefined;
  private readonly eos: Set<number>;

  constructor(
    private readonly o: RowOptions,
    private readonly vocab: number,
    private readonly random: () => number = seededRandom(o.seed ?? 0),
  ) {
    this.eos = new Set(o.eosTokenIds);
  }

  get done(): boolean {
    return this.finish !== undefined;
  }

  /** Chooses the next token from logits[offset .. offset + vocab), records it, and decides whether the row ends. */
  next(logits: Float32Array, offset: number): number {
    for (const s of this.o.suppressTokens ?? []) logits[offset + s] = Number.NEGATIVE_INFINITY;
    penalizeRepetition(logits, offset, this.tokens, this.o);
    const tok = sampleToken(logits, offset, this.vocab, this.o, this.random);
    this.tokens.push(tok);
    if (this.eos.has(tok)) this.finish = 'eos';
    else if (this.hitStop()) this.finish = 'stop';
    else if (this.tokens.length >= this.o.maxNewTokens) this.finish = 'length';
    return tok;
  }

  /** The row's text (stop sequences removed); needs `decode`. */
  text(): string {
    if (this.stoppedText !== undefined) return this.stoppedText;
    return this.o.decode ? this.o.decode(this.tokens) : '';
  }

  private hitStop(): boolean {
    if (!this.o.stop?.length || !this.o.decode) return false;
    const s = this.o.decode(this.tokens);
    const hit = this.o.stop.map((x) => s.indexOf(x)).filter((k) => k >= 0);
    if (!hit.length) return false;
    this.stoppedText = s.slice(0, Math.min(...hit));
    return true;
  }
}
