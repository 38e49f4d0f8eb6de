// Continuous (step-level) batching for generation, over the same KV-cache graph as Generator.
//
// Policy:
//  - Every sequence is prefilled alone, as soon as it is admitted, reusing the longest cached
//    prefix of its prompt (prefix-cache.ts); its first token comes from that prefill.
//  - Then one decode step runs for all live sequences at a time. A sequence that arrives joins at
//    the next step; one that ends (eos, stop sequence, maxNewTokens) or is cancelled leaves at the
//    next step, without waiting for the longest.
//  - The batch is left-padded, as Generator's: row b's cache sits at the right edge of [B, H, T, D]
//    and the attention bias hides the pads, so a row computes what it computes alone (up to float
//    rounding). While nobody joins or leaves, the present cache is fed back as is; a change of
//    membership rebuilds the batch from each row's own cache.
//  - Memory: one budget (`memoryBytes`) for the caches of live sequences and the prefix cache. A
//    sequence reserves its worst case, (prompt + maxNewTokens) tokens, when admitted; admission waits
//    while the reservations do not fit, and the prefix cache shrinks (LRU) to make room. A sequence
//    that could never fit is refused. The transient copy made by a rebuild is not counted.

import { type Finish, RowDecoder, type RowOptions } from './decode-row.js';
import { causalBias } from './masks.js';
import { copyTokens, type KvRun, type KvShape, PrefixCache, type PrefixCacheStats } from './prefix-cache.js';
import type { ort } from './session.js';
import { type Feeds, f32, type GraphSession, i64 } from './session.js';

export interface SequenceRequest {
  /** prompt token ids (at least one) */
  prompt: number[];
  options: RowOptions;
  /**
   * What the cache depends on besides the tokens (model version, adapter, visual tokens). Without a
   * namespace the prompt neither reads nor fills the prefix cache.
   */
  namespace?: string;
  /** The prefix cache may cover at most this many prompt tokens (e.g. not half of an image's tokens). */
  reuseLimit?: number;
  /** Extra prefill feeds for this sequence's new ids (EmoVerse: visual_features / visual_index). */
  prefillExtra?: (ids: number[]) => Feeds;
  onToken?: (token: number) => void;
  signal?: AbortSignal;
}

export interface SequenceResult {
  tokens: number[];
  /** the text without stop sequences, when options.decode was given */
  text?: string;
  finish: Finish | 'cancelled';
  promptTokens: number;
  /** prompt tokens whose keys and values came from the prefix cache */
  cachedTokens: number;
}

export interface DecodeLoopOptions {
  /** sequences decoded together at most */
  maxSequences: number;
  /** bytes for live sequences' caches plus the prefix cache */
  memoryBytes: number;
  /** reuse prompt prefixes across requests (default true) */
  prefixCache?: boolean;
  /** tokens per prefix-cache block (default 16) */
  blockTokens?: number;
  vocabSize: number;
  shape: KvShape;
  /** Extra decode feeds for B rows (EmoVerse: a zero visual token that nothing reads). */
  decodeExtra?: (rows: number) => Feeds;
}

export interface DecodeLoopStats {
  active: number;
  waiting: number;
  steps: number;
  /** decode steps × live rows: the batching actually achieved is rowSteps ÷ steps */
  rowSteps: number;
  reservedBytes: number;
  prefix: PrefixCacheStats;
}

interface Seq {
  req: SequenceRequest;
  row: RowDecoder;
  reserved: number;
  /** whether `reserved` is counted (from admission until it leaves) */
  admitted: boolean;
  cachedTokens: number;
  /** tokens in this sequence's cache */
  len: number;
  /** its own cache, while it is not part of the batch */
  kv?: KvRun;
  /** the last sampled token, not yet in the cache */
  last: number;
  cancelled: boolean;
  resolve: (r: SequenceResult) => void;
  reject: (e: Error) => void;
}

interface Batch {
  seqs: Seq[];
  /** columns of the cache */
  T: number;
  keys: ort.Tensor[];
  values: ort.Tensor[];
}

export class DecodeLoop {
  private readonly waiting: Seq[] = [];
  private active: Seq[] = [];
  private batch: Batch | undefined;
  private pumping = false;
  private reservedBytes = 0;
  private steps = 0;
  private rowSteps = 0;
  readonly prefix: PrefixCache;

  constructor(
    private readonly session: GraphSession,
    private readonly o: DecodeLoopOptions,
  ) {
    const cacheBytes = o.prefixCache === false ? 0 : o.memoryBytes;
    this.prefix = new PrefixCache(o.shape, cacheBytes, o.blockTokens ?? 16);
  }

  /** Bytes one cached token takes (keys and values of every layer). */
  get tokenBytes(): number {
    const { layers, heads, headDim } = this.o.shape;
    return 2 * layers * heads * headDim * 4;
  }

  /** Queues a sequence; it joins the running batch at the next step. */
  submit(req: SequenceRequest): Promise<SequenceResult> {
    if (!req.prompt.length) return Promise.reject(new Error('generate: the prompt is empty'));
    const reserved = (req.prompt.length + req.options.maxNewTokens) * this.tokenBytes;
    if (reserved > this.o.memoryBytes) {
      return Promise.reject(
        new Error(
          `generate: ${req.prompt.length} prompt + ${req.options.maxNewTokens} new tokens need ${reserved} bytes of cache; the budget is ${this.o.memoryBytes}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const seq: Seq = {
        req,
        row: new RowDecoder(req.options, this.o.vocabSize),
        reserved,
        admitted: false,
        cachedTokens: 0,
        len: 0,
        last: -1,
        cancelled: false,
        resolve,
        reject,
      };
      req.signal?.addEventListener('abort', () => this.cancel(seq), { once: true });
      if (req.signal?.aborted) return this.finish(seq, 'cancelled');
      this.waiting.push(seq);
      void this.pump();
    });
  }

  stats(): DecodeLoopStats {
    return {
      active: this.active.length,
      waiting: this.waiting.length,
      steps: this.steps,
      rowSteps: this.rowSteps,
      reservedBytes: this.reservedBytes,
      prefix: this.prefix.stats(),
    };
  }

  private cancel(seq: Seq): void {
    const w = this.waiting.indexOf(seq);
    if (w >= 0) {
      this.waiting.splice(w, 1);
      this.finish(seq, 'cancelled');
    } else seq.cancelled = true; // a live sequence leaves at the next step
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length || this.active.length) {
        this.retire();
        await this.admit();
        this.retire();
        if (this.active.length) await this.step();
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Live sequences that ended or were cancelled leave; their reservation returns to the cache. */
  private retire(): void {
    const leaving = this.active.filter((s) => s.row.done || s.cancelled);
    if (!leaving.length) return;
    this.active = this.active.filter((s) => !leaving.includes(s));
    for (const s of leaving) this.finish(s, s.cancelled && !s.row.done ? 'cancelled' : undefined);
  }

  private finish(seq: Seq, override?: 'cancelled'): void {
    if (this.active.includes(seq)) this.active = this.active.filter((s) => s !== seq);
    this.release(seq);
    seq.kv = undefined;
    seq.resolve({
      tokens: seq.row.tokens,
      text: seq.req.options.decode ? seq.row.text() : undefined,
      finish: override ?? seq.row.finish ?? 'length',
      promptTokens: seq.req.prompt.length,
      cachedTokens: seq.cachedTokens,
    });
  }

  private reserve(seq: Seq): void {
    seq.admitted = true;
    this.reservedBytes += seq.reserved;
    this.fitPrefixCache();
  }

  private release(seq: Seq): void {
    if (!seq.admitted) return;
    seq.admitted = false;
    this.reservedBytes -= seq.reserved;
    this.fitPrefixCache();
  }

  /** The prefix cache gets what the live sequences leave of the budget. */
  private fitPrefixCache(): void {
    this.prefix.resize(this.o.prefixCache === false ? 0 : this.o.memoryBytes - this.reservedBytes);
  }

  /** Admits waiting sequences while their reservations fit, and prefills each. */
  private async admit(): Promise<void> {
    while (this.waiting.length && this.active.length < this.o.maxSequences) {
      const seq = this.waiting[0];
      if (this.reservedBytes + seq.reserved > this.o.memoryBytes && this.active.length) return;
      this.waiting.shift();
      this.reserve(seq);
      try {
        await this.prefill(seq);
      } catch (e) {
        this.release(seq);
        seq.reject(e as Error);
        continue;
      }
      if (seq.row.done || seq.cancelled) this.finish(seq, seq.row.done ? undefined : 'cancelled');
      else this.active.push(seq);
    }
  }

  /** Runs the prompt past its cached prefix; the sequence keeps its cache and its first token. */
  private async prefill(seq: Seq): Promise<void> {
    const { prompt, namespace } = seq.req;
    const limit = Math.min(prompt.length - 1, seq.req.reuseLimit ?? prompt.length);
    const hit = namespace !== undefined ? this.prefix.lookup(namespace, prompt, limit) : undefined;
    const P = hit?.tokens ?? 0;
    const ids = prompt.slice(P);
    const { layers, heads, headDim } = this.o.shape;
    const feeds: Feeds = {
      input_ids: i64(ids, [1, ids.length]),
      position_ids: i64(
        ids.map((_, i) => P + i),
        [1, ids.length],
      ),
      attention_bias: f32(causalBias([Array(prompt.length).fill(1)], ids.length), [
        1,
        1,
        1,
        ids.length,
        prompt.length,
      ]),
      ...seq.req.prefillExtra?.(ids),
    };
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_values.${l}.key`] = f32(hit?.keys[l] ?? new Float32Array(0), [1, heads, P, headDim]);
      feeds[`past_key_values.${l}.value`] = f32(hit?.values[l] ?? new Float32Array(0), [
        1,
        heads,
        P,
        headDim,
      ]);
    }
    const out = await this.session.run(feeds);
    const kv: KvRun = {
      keys: Array.from({ length: layers }, (_, l) => out[`present.${l}.key`].data as Float32Array),
      values: Array.from({ length: layers }, (_, l) => out[`present.${l}.value`].data as Float32Array),
      tokens: prompt.length,
    };
    if (namespace !== undefined) this.prefix.insert(namespace, prompt, kv);
    seq.kv = kv;
    seq.len = prompt.length;
    seq.cachedTokens = P;
    this.emit(seq, out.logits.data as Float32Array, 0);
  }

  private emit(seq: Seq, logits: Float32Array, offset: number): void {
    seq.last = seq.row.next(logits, offset);
    seq.req.onToken?.(seq.last);
  }

  /** One decode step for every live sequence. */
  private async step(): Promise<void> {
    const batch = this.currentBatch();
    const B = batch.seqs.length;
    const keyMask = batch.seqs.map((s) => [...Array(batch.T - s.len).fill(0), ...Array(s.len + 1).fill(1)]);
    const feeds: Feeds = {
      input_ids: i64(
        batch.seqs.map((s) => s.last),
        [B, 1],
      ),
      position_ids: i64(
        batch.seqs.map((s) => s.len),
        [B, 1],
      ),
      attention_bias: f32(causalBias(keyMask, 1), [B, 1, 1, 1, batch.T + 1]),
      ...this.o.decodeExtra?.(B),
    };
    batch.keys.forEach((t, l) => {
      feeds[`past_key_values.${l}.key`] = t;
      feeds[`past_key_values.${l}.value`] = batch.values[l];
    });
    let out: Record<string, ort.Tensor>;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      this.failBatch(batch, e as Error);
      return;
    }
    batch.T++;
    batch.keys = batch.keys.map((_, l) => out[`present.${l}.key`]);
    batch.values = batch.values.map((_, l) => out[`present.${l}.value`]);
    const logits = out.logits.data as Float32Array;
    batch.seqs.forEach((s, b) => {
      s.len++;
      this.emit(s, logits, b * this.o.vocabSize);
    });
    this.steps++;
    this.rowSteps += B;
  }

  private failBatch(batch: Batch, e: Error): void {
    for (const s of batch.seqs) {
      this.release(s);
      s.reject(e);
    }
    this.active = this.active.filter((s) => !batch.seqs.includes(s));
    this.batch = undefined;
  }

  /** The batch of the live sequences: the last step's, or rebuilt when someone joined or left. */
  private currentBatch(): Batch {
    const b = this.batch;
    if (b && b.seqs.length === this.active.length && b.seqs.every((s, i) => s === this.active[i])) return b;
    if (b) this.unpack(b);
    this.batch = this.pack(this.active);
    return this.batch;
  }

  /** Each sequence still live takes its own cache back out of the batch. */
  private unpack(b: Batch): void {
    const { heads, headDim } = this.o.shape;
    const rowSize = heads * b.T * headDim;
    b.seqs.forEach((s, r) => {
      if (!this.active.includes(s)) return;
      const cut = (t: ort.Tensor) =>
        copyTokens(
          (t.data as Float32Array).subarray(r * rowSize, (r + 1) * rowSize),
          b.T,
          b.T - s.len,
          s.len,
          this.o.shape,
        );
      s.kv = { keys: b.keys.map(cut), values: b.values.map(cut), tokens: s.len };
    });
  }

  /** Left-pads every sequence's cache into one [B, H, T, D] per layer. */
  private pack(seqs: Seq[]): Batch {
    const { layers, heads, headDim } = this.o.shape;
    const T = Math.max(...seqs.map((s) => s.len));
    const B = seqs.length;
    const build = (pick: (kv: KvRun) => Float32Array[], l: number) => {
      const out = new Float32Array(B * heads * T * headDim);
      seqs.forEach((s, b) => {
        const src = pick(s.kv!)[l];
        for (let h = 0; h < heads; h++) {
          const at = ((b * heads + h) * T + (T - s.len)) * headDim;
          out.set(src.subarray(h * s.len * headDim, (h + 1) * s.len * headDim), at);
        }
      });
      return f32(out, [B, heads, T, headDim]);
    };
    const batch: Batch = {
      seqs: [...seqs],
      T,
      keys: Array.from({ length: layers }, (_, l) => build((kv) => kv.keys, l)),
      values: Array.from({ length: layers }, (_, l) => build((kv) => kv.values, l)),
    };
    for (const s of seqs) s.kv = undefined;
    return batch;
  }
}
