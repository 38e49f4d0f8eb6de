// Prefix caching across requests: the keys and values of identical token prefixes (system prompt,
// task instructions, a shared conversation) are computed once and reused by later prompts.
//
// Policy (vLLM's automatic prefix caching, in small):
//  - A prompt is cut into blocks of `blockTokens` tokens. Block j is stored under a key that hashes
//    the namespace and every token up to the end of block j, so a block is found only after the
//    exact same prefix. Only whole blocks are cached; the partial tail is always computed.
//  - The namespace names what else the keys depend on: the model version and adapter (a hot reload
//    or another adapter never reuses a stale prefix), and the visual tokens when a prompt has them.
//  - Blocks are evicted least recently used, to fit a byte bound the caller may lower at any time
//    (the decode loop shares one memory budget between live sequences and this cache).
//  - hitRate = prompt tokens served from the cache ÷ prompt tokens looked up.
import { createHash } from 'node:crypto';

/** Keys and values of a run of tokens, per layer: [heads, tokens, headDim] each. */
export interface KvRun {
  keys: Float32Array[];
  values: Float32Array[];
  tokens: number;
}

export interface KvShape {
  layers: number;
  heads: number;
  headDim: number;
}

interface Block {
  keys: Float32Array[];
  values: Float32Array[];
}

export interface PrefixCacheStats {
  lookups: number;
  lookedUpTokens: number;
  hitTokens: number;
  hitRate: number;
  blocks: number;
  bytes: number;
}

export class PrefixCache {
  /** Map order is recency order: a hit moves its blocks to the end, eviction takes from the front. */
  private readonly blocks = new Map<string, Block>();
  private lookedUpTokens = 0;
  private hitTokens = 0;
  private lookups = 0;

  constructor(
    readonly shape: KvShape,
    private maxBytes: number,
    readonly blockTokens = 16,
  ) {}

  /** Bytes of one block (keys and values of every layer). */
  get blockBytes(): number {
    const { layers, heads, headDim } = this.shape;
    return 2 * layers * heads * this.blockTokens * headDim * 4;
  }

  get bytes(): number {
    return this.blocks.size * this.blockBytes;
  }

  /**
   * The longest cached prefix of `ids` (whole blocks, at most `limit` tokens), as one KvRun, or
   * undefined when not even the first block is cached.
   */
  lookup(namespace: string, ids: readonly number[], limit = ids.length): KvRun | undefined {
    this.lookups++;
    this.lookedUpTokens += ids.length;
    const found: Block[] = [];
    for (const key of this.keys(namespace, ids, Math.min(limit, ids.length))) {
      const b = this.blocks.get(key);
      if (!b) break;
      this.blocks.delete(key);
      this.blocks.set(key, b);
      found.push(b);
    }
    if (!found.length) return undefined;
    this.hitTokens += found.length * this.blockTokens;
    return this.concat(found);
  }

  /** Stores the whole blocks of a computed prompt run `kv` (its first kv.tokens tokens are `ids`'s). */
  insert(namespace: string, ids: readonly number[], kv: KvRun): void {
    if (this.maxBytes < this.blockBytes) return;
    const keys = this.keys(namespace, ids, Math.min(ids.length, kv.tokens));
    keys.forEach((key, j) => {
      if (this.blocks.has(key)) return;
      this.blocks.set(key, this.slice(kv, j * this.blockTokens));
    });
    this.shrinkTo(this.maxBytes);
  }

  /** Lowers (or raises) the bound and evicts least recently used blocks until it holds. */
  resize(maxBytes: number): void {
    this.maxBytes = Math.max(0, maxBytes);
    this.shrinkTo(this.maxBytes);
  }

  stats(): PrefixCacheStats {
    return {
      lookups: this.lookups,
      lookedUpTokens: this.lookedUpTokens,
      hitTokens: this.hitTokens,
      hitRate: this.lookedUpTokens ? this.hitTokens / this.lookedUpTokens : 0,
      blocks: this.blocks.size,
      bytes: this.bytes,
    };
  }

  private shrinkTo(bytes: number): void {
    for (const key of this.blocks.keys()) {
      if (this.bytes <= bytes) break;
      this.blocks.delete(key);
    }
  }

  /** Chained keys of the whole blocks within the first `n` tokens. */
  private keys(namespace: string, ids: readonly number[], n: number): string[] {
    const out: string[] = [];
    let parent = namespace;
    for (let end = this.blockTokens; end <= n; end += this.blockTokens) {
      const h = createHash('sha256').update(parent).update('\u0000');
      h.update(Int32Array.from(ids.slice(end - this.blockTokens, end)));
      parent = h.digest('base64');
      out.push(parent);
    }
    return out;
  }

  /** Block of `kv` starting at token `from`. */
  private slice(kv: KvRun, from: number): Block {
    const cut = (a: Float32Array) => copyTokens(a, kv.tokens, from, this.blockTokens, this.shape);
    return { keys: kv.keys.map(cut), values: kv.values.map(cut) };
  }

  private concat(blocks: Block[]): KvRun {
    const { layers, heads, headDim } = this.shape;
    const n = blocks.length * this.blockTokens;
    const join = (pick: (b: Block) => Float32Array[], layer: number) => {
      const out = new Float32Array(heads * n * headDim);
      blocks.forEach((b, j) => {
        const src = pick(b)[layer];
        for (let h = 0; h < heads; h++) {
          const from = h * this.blockTokens * headDim;
          out.set(
            src.subarray(from, from + this.blockTokens * headDim),
            (h * n + j * this.blockTokens) * headDim,
          );
        }
      });
      return out;
    };
    return {
      keys: Array.from({ length: layers }, (_, l) => join((b) => b.keys, l)),
      values: Array.from({ length: layers }, (_, l) => join((b) => b.values, l)),
      tokens: n,
    };
  }
}

/** Tokens [from, from + count) of a [heads, total, headDim] array, as [heads, count, headDim]. */
function copyTokens(
  a: Float32Array,
  total: number,
  from: number,
  count: number,
  shape: Pick<KvShape, 'heads' | 'headDim'>,
): Float32Array {
  const { heads, headDim } = shape;
  const out = new Float32Array(heads * count * headDim);
  for (let h = 0; h < heads; h++) {
    const src = (h * total + from) * headDim;
    out.set(a.subarray(src, src + count * headDim), h * count * headDim);
  }
  return out;
}
