// Continuous (step-level) batching for generation: prompts go through Generator's prefill graph,
// decode steps through its 'slots' graph over a cache updated in place.
//
// Policy:
//  - Every sequence is prefilled alone, as soon as it is admitted, reusing the longest cached
//    prefix of its prompt (prefix-cache.ts); its first token comes from that prefill.
//  - Then one decode step runs for all live sequences at a time. A sequence that arrives joins at
//    the next step; one that ends (eos, stop sequence, maxNewTokens) or is cancelled leaves at the
//    next step, without waiting for the longest.
//  - The cache is updated in place: each live sequence owns a slot (a row) of a preallocated
//    [maxSequences, kvH, ·, P] cache per layer (keys stored transposed), filled from its
//    prefill once, then one column per step. A decode step feeds the first B slots as they are (no
//    copy, no re-padding when sequences join or leave) to the 'slots' graph (layers.ts), which
//    returns only the new token's K/V; the attention bias hides unused columns and empty slots, so
//    a row computes what it computes alone (up to float rounding). A new sequence takes the lowest
//    free slot, so B stays as small as the live sequences allow; P follows the longest live
//    sequence in steps of 64 columns (a resize copies the cache once).
//  - Memory: one budget (`memoryBytes`) for the caches of live sequences and the prefix cache. A
//    sequence reserves its worst case, (prompt + maxNewTokens) tokens, when admitted; admission waits
//    while the reservations do not fit, and the prefix cache shrinks (LRU) to make room. A sequence
//    that could never fit is refused. Deviation: the slots are allocated for all maxSequences rows
//    at the current P, whether live or not; the budget bounds what is admitted.

import { type Finish, RowDecoder, type RowOptions } from './decode-row.js';
import { causalBias, paddingBias } from './masks.js';
import { type KvRun, type KvShape, PrefixCache, type PrefixCacheStats } from './prefix-cache.js';
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
  /** sequences decoded together at most (the cache's slots) */
  maxSequences: number;
  /** the model's positions: a slot's length */
  positions: number;
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
  /** seconds spent running the prefill graph and the decode graph */
  prefillSeconds: number;
  decodeSeconds: number;
  reservedBytes: number;
  prefix: PrefixCacheStats;
}

interface Seq {
  req: SequenceRequest;
  /** its row of the cache while live */
  slot: number;
  row: RowDecoder;
  reserved: number;
  /** whether `reserved` is counted (from admission until it leaves) */
  admitted: boolean;
  cachedTokens: number;
  /** tokens in this sequence's cache */
  len: number;
  /** the last sampled token, not yet in the cache */
  last: number;
  cancelled: boolean;
  resolve: (r: SequenceResult) => void;
  reject: (e: Error) => void;
}

/** The decode step's cache: per layer, keys [slots, kvH, D, positions] and values [slots, kvH, positions, D]. */
interface SlotCache {
  keys: Float32Array[];
  values: Float32Array[];
  /** the live sequence of each slot */
  owners: (Seq | undefined)[];
}

/** The prefill graph (Generator's, concatenating) and the decode graph over the slots. */
export interface LoopSessions {
  prefill: GraphSession;
  decode: GraphSession;
}

/** Slot lengths are multiples of this: a resize (a copy of the cache) happens every 64 tokens of growth at most. */
const SLOT_STEP = 64;

export class DecodeLoop {
  private readonly waiting: Seq[] = [];
  private active: Seq[] = [];
  private readonly cache: SlotCache;
  private pumping = false;
  private reservedBytes = 0;
  private steps = 0;
  private rowSteps = 0;
  private prefillSeconds = 0;
  private decodeSeconds = 0;
  readonly prefix: PrefixCache;

  constructor(
    private readonly sessions: LoopSessions,
    private readonly o: DecodeLoopOptions,
  ) {
    const cacheBytes = o.prefixCache === false ? 0 : o.memoryBytes;
    this.prefix = new PrefixCache(o.shape, cacheBytes, o.blockTokens ?? 16);
    this.cache = { keys: [], values: [], owners: Array(o.maxSequences).fill(undefined) };
    this.resizeSlots(Math.min(o.positions, SLOT_STEP));
  }

  /** Columns per slot now: the longest live sequence's need, rounded up to SLOT_STEP. */
  private P = 0;

  /** Grows (or shrinks) every slot to `P` columns, keeping what they hold. */
  private resizeSlots(P: number): void {
    const { layers, heads: H, headDim: D } = this.o.shape;
    const old = this.P;
    const keep = Math.min(old, P);
    const slots = this.o.maxSequences;
    const keys = Array.from({ length: layers }, () => new Float32Array(slots * H * D * P));
    const values = Array.from({ length: layers }, () => new Float32Array(slots * H * P * D));
    for (let l = 0; l < this.cache.keys.length; l++) {
      for (let r = 0; r < slots * H; r++) {
        for (let d = 0; d < D; d++)
          keys[l].set(
            this.cache.keys[l].subarray((r * D + d) * old, (r * D + d) * old + keep),
            (r * D + d) * P,
          );
        values[l].set(this.cache.values[l].subarray(r * old * D, (r * old + keep) * D), r * P * D);
      }
    }
    this.cache.keys = keys;
    this.cache.values = values;
    this.P = P;
  }

  /** Makes room for `need` columns; gives memory back once the long sequences have left. */
  private fitSlots(need: number): void {
    const P = Math.min(this.o.positions, Math.ceil(need / SLOT_STEP) * SLOT_STEP);
    if (P > this.P || P <= this.P - 2 * SLOT_STEP) this.resizeSlots(P);
  }

  /** Bytes one cached token takes (keys and values of every layer). */
  get tokenBytes(): number {
    const { layers, heads, headDim } = this.o.shape;
    return 2 * layers * heads * headDim * 4;
  }

  /** Queues a sequence; it joins the running batch at the next step. */
  submit(req: SequenceRequest): Promise<SequenceResult> {
    if (!req.prompt.length) return Promise.reject(new Error('generate: the prompt is empty'));
    const tokens = req.prompt.length + req.options.maxNewTokens;
    if (tokens > this.o.positions) {
      return Promise.reject(
        new Error(
          `generate: ${req.prompt.length} prompt + ${req.options.maxNewTokens} new tokens exceed the model's ${this.o.positions} positions`,
        ),
      );
    }
    const reserved = tokens * this.tokenBytes;
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
        slot: -1,
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
      prefillSeconds: this.prefillSeconds,
      decodeSeconds: this.decodeSeconds,
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
    seq.resolve({
      tokens: seq.row.tokens,
      text: seq.req.options.decode ? seq.row.text() : undefined,
      finish: override ?? seq.row.finish ?? 'length',
      promptTokens: seq.req.prompt.length,
      cachedTokens: seq.cachedTokens,
    });
  }

  private reserve(seq: Seq): void {
    seq.slot = this.cache.owners.indexOf(undefined);
    this.cache.owners[seq.slot] = seq;
    seq.admitted = true;
    this.reservedBytes += seq.reserved;
    this.fitPrefixCache();
  }

  private release(seq: Seq): void {
    if (seq.slot >= 0) this.cache.owners[seq.slot] = undefined;
    seq.slot = -1;
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
    // the last prompt token is always run: its logits give the first new token
    const hit =
      namespace !== undefined ? this.prefix.lookup(namespace, prompt, prompt.length - 1) : undefined;
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
    const t0 = performance.now();
    const out = await this.sessions.prefill.run(feeds);
    this.prefillSeconds += (performance.now() - t0) / 1000;
    const kv: KvRun = {
      keys: Array.from({ length: layers }, (_, l) => out[`present.${l}.key`].data as Float32Array),
      values: Array.from({ length: layers }, (_, l) => out[`present.${l}.value`].data as Float32Array),
      tokens: prompt.length,
    };
    if (namespace !== undefined) this.prefix.insert(namespace, prompt, kv);
    this.fitSlots(Math.max(prompt.length + 1, ...this.liveLengths()));
    this.fillSlot(seq.slot, kv);
    seq.len = prompt.length;
    seq.cachedTokens = P;
    this.emit(seq, out.logits.data as Float32Array, 0);
  }

  private emit(seq: Seq, logits: Float32Array, offset: number): void {
    seq.last = seq.row.next(logits, offset);
    seq.req.onToken?.(seq.last);
  }

  /** Copies a prompt's cache [kvH, T, D] into a slot (keys transposed to [kvH, D, positions]). */
  private fillSlot(slot: number, kv: KvRun): void {
    const { heads: H, headDim: D } = this.o.shape;
    const P = this.P;
    const T = kv.tokens;
    kv.keys.forEach((src, l) => {
      const dst = this.cache.keys[l];
      for (let h = 0; h < H; h++) {
        const row = (slot * H + h) * D * P;
        for (let t = 0; t < T; t++)
          for (let d = 0; d < D; d++) dst[row + d * P + t] = src[(h * T + t) * D + d];
      }
    });
    kv.values.forEach((src, l) => {
      for (let h = 0; h < H; h++) {
        this.cache.values[l].set(src.subarray(h * T * D, (h + 1) * T * D), (slot * H + h) * P * D);
      }
    });
  }

  /** Writes each live row's new K/V ([B, kvH, 1, D] per layer) at its next column. */
  private appendColumn(out: Record<string, ort.Tensor>, rows: number): void {
    const { layers, heads: H, headDim: D } = this.o.shape;
    const P = this.P;
    for (let l = 0; l < layers; l++) {
      const k = out[`present.${l}.key`].data as Float32Array;
      const v = out[`present.${l}.value`].data as Float32Array;
      for (let b = 0; b < rows; b++) {
        const s = this.cache.owners[b];
        if (!s) continue;
        for (let h = 0; h < H; h++) {
          const src = (b * H + h) * D;
          const krow = (b * H + h) * D * P;
          for (let d = 0; d < D; d++) this.cache.keys[l][krow + d * P + s.len] = k[src + d];
          this.cache.values[l].set(v.subarray(src, src + D), ((b * H + h) * P + s.len) * D);
        }
      }
    }
  }

  /** Each live sequence's columns after its next token. */
  private liveLengths(): number[] {
    return this.cache.owners.filter((s): s is Seq => s !== undefined && s.len > 0).map((s) => s.len + 1);
  }

  /** One decode step for every live sequence: the first B slots, empty ones masked. */
  private async step(): Promise<void> {
    this.fitSlots(Math.max(1, ...this.liveLengths()));
    const owners = this.cache.owners;
    const B = owners.reduce((n, s, i) => (s ? i + 1 : n), 0);
    const { layers, heads: H, headDim: D } = this.o.shape;
    const P = this.P;
    const rows = owners.slice(0, B);
    // the slot's filled columns (the new token is seen by the graph itself)
    const keyMask = rows.map((s) => [...Array(P).keys()].map((t) => (s && t < s.len ? 1 : 0)));
    const feeds: Feeds = {
      input_ids: i64(
        rows.map((s) => s?.last ?? 0),
        [B, 1],
      ),
      position_ids: i64(
        rows.map((s) => s?.len ?? 0),
        [B, 1],
      ),
      attention_bias: f32(paddingBias(keyMask, 1), [B, 1, 1, 1, P]),
      ...this.o.decodeExtra?.(B),
    };
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_values.${l}.key`] = f32(this.cache.keys[l].subarray(0, B * H * D * P), [B, H, D, P]);
      feeds[`past_key_values.${l}.value`] = f32(this.cache.values[l].subarray(0, B * H * P * D), [
        B,
        H,
        P,
        D,
      ]);
    }
    let out: Record<string, ort.Tensor>;
    const t0 = performance.now();
    try {
      out = await this.sessions.decode.run(feeds);
    } catch (e) {
      this.failAll(e as Error);
      return;
    }
    this.decodeSeconds += (performance.now() - t0) / 1000;
    this.appendColumn(out, B);
    const logits = out.logits.data as Float32Array;
    rows.forEach((s, b) => {
      if (!s) return;
      s.len++;
      this.emit(s, logits, b * this.o.vocabSize);
    });
    this.steps++;
    this.rowSteps += this.active.length;
  }

  private failAll(e: Error): void {
    const failed = this.active;
    this.active = [];
    for (const s of failed) {
      this.release(s);
      s.reject(e);
    }
  }
}
