// A small byte-level BPE trainer (GPT-2 / Llama-3 style), written here so that a preset like
// emoverse-nano gets a vocabulary made offline from the project's own text (e.g. MELD
// utterances). It emits an ordinary tokenizer.json, loaded like any HF tokenizer.

/** GPT-2's reversible byte -> printable character map (space becomes Ġ, newline Ċ). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out: string[] = new Array(256);
  bs.forEach((b, i) => {
    out[b] = String.fromCodePoint(cs[i]);
  });
  return out;
}

// The ByteLevel pre-tokenizer's split (GPT-2 pattern), so training sees the same words as encoding.
const SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeOptions {
  vocabSize: number;
  /** special tokens, given ids 0.. in this order */
  specialTokens: string[];
  /** merges need a pair to occur at least this often */
  minFrequency?: number;
}

/** Trains merges on `corpus` and returns a tokenizer.json object. Deterministic. */
export function trainByteLevelBpe(corpus: readonly string[], o: BpeOptions): Record<string, unknown> {
  const byteChar = bytesToUnicode();
  const enc = new TextEncoder();
  const wordCounts = new Map<string, number>();
  for (const line of corpus) {
    for (const m of line.matchAll(SPLIT)) {
      const w = Array.from(enc.encode(m[0]), (b) => byteChar[b]).join('');
      wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
  }
  const words = [...wordCounts.entries()].map(([w, count]) => ({ syms: Array.from(w), count }));
  const vocab = new Map<string, number>();
  for (const s of o.specialTokens) vocab.set(s, vocab.size);
  // the 256 byte symbols, in byte order
  for (let b = 0; b < 256; b++) vocab.set(byteChar[b], vocab.size);
  const merges: [string, string][] = [];
  const minFreq = o.minFrequency ?? 2;
  while (vocab.size < o.vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const k = `${w.syms[i]}\u0000${w.syms[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.count);
      }
    }
    let best = '';
    let bestN = 0;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && k < best)) [best, bestN] = [k, n];
    if (bestN < minFreq) break;
    const [a, b] = best.split('\u0000');
    const merged = a + b;
    merges.push([a, b]);
    if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        if (w.syms[i] === a && w.syms[i + 1] === b) w.syms.splice(i, 2, merged);
      }
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: o.specialTokens.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}
