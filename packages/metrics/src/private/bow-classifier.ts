// A bag-of-words text baseline: TF-IDF over word 1–2-grams and char_wb 2–5-grams (scikit-learn's
// TfidfVectorizer defaults, the two blocks side by side as in a FeatureUnion) and multinomial logistic
// regression with an L2 penalty (scikit-learn's LogisticRegression(C) objective), trained with L-BFGS.
import { minimizeLbfgs } from './lbfgs.js';

export interface BowClassifierOptions {
  /** Inverse L2 strength, as scikit-learn's C; default 4. */
  C?: number;
  /** L-BFGS iterations at most; default 200. */
  maxIter?: number;
  /** Converged when every gradient entry of the objective divided by C·n is <= tol; default 1e-4. */
  tol?: number;
  /** N-grams found in fewer training texts than this are dropped (min_df); default 1. */
  minDf?: number;
}

export interface BowTraining {
  iterations: number;
  converged: boolean;
  /** Vocabulary size (word block + char block). */
  features: number;
  /** The objective (mean cross-entropy + ||W||² / (2·C·n)) at the start and after every iteration. */
  objective: readonly number[];
}

export interface BowClassifier<L extends string = string> {
  /** The classes, sorted; probabilities() columns follow this order. */
  readonly labels: readonly L[];
  readonly training: BowTraining;
  predict(texts: readonly string[]): L[];
  probabilities(texts: readonly string[]): number[][];
}

// ---- features ----

// scikit-learn's token_pattern (?u)\b\w\w+\b: runs of 2+ word characters (Python's \w = alphanumeric or _).
const WORD = /[\p{L}\p{N}_]{2,}/gu;

/** Word 1- and 2-grams of the lower-cased text, joined by a space (scikit-learn's _word_ngrams). */
export function wordNgrams(text: string): string[] {
  const tokens = text.toLowerCase().match(WORD) ?? [];
  const out = [...tokens];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]} ${tokens[i + 1]}`);
  return out;
}

/**
 * Char 2–5-grams within words padded with one space each side (scikit-learn's _char_wb_ngrams): a padded
 * word shorter than n gives itself once, and longer n are then skipped. Lengths count code points.
 */
export function charWbNgrams(text: string, minN = 2, maxN = 5): string[] {
  const out: string[] = [];
  for (const word of text.toLowerCase().split(/\s+/u)) {
    if (word === '') continue;
    const padded = ` ${word} `;
    // Code points only matter when the word has a surrogate pair; plain substrings are much cheaper.
    const w = /[\uD800-\uDFFF]/.test(padded) ? Array.from(padded) : padded;
    const gram = (i: number, n: number) =>
      typeof w === 'string' ? w.slice(i, i + n) : w.slice(i, i + n).join('');
    for (let n = minN; n <= maxN; n++) {
      if (w.length <= n) {
        out.push(padded);
        break;
      }
      for (let i = 0; i + n <= w.length; i++) out.push(gram(i, n));
    }
  }
  return out;
}

/** One TfidfVectorizer: vocabulary, smooth idf = ln((1 + n) / (1 + df)) + 1, raw tf, L2-normalised rows. */
interface TfidfBlock {
  analyze: (text: string) => string[];
  vocabulary: Map<string, number>;
  idf: Float64Array;
}

function fitBlock(docs: readonly string[][], analyze: TfidfBlock['analyze'], minDf: number): TfidfBlock {
  const df = new Map<string, number>();
  for (const grams of docs) for (const g of new Set(grams)) df.set(g, (df.get(g) ?? 0) + 1);
  const vocabulary = new Map<string, number>();
  const idfs: number[] = [];
  for (const [g, count] of df) {
    if (count < minDf) continue;
    vocabulary.set(g, idfs.length);
    idfs.push(Math.log((1 + docs.length) / (1 + count)) + 1);
  }
  return { analyze, vocabulary, idf: Float64Array.from(idfs) };
}

/** One sparse row: increasing column indices and their values. */
interface SparseRow {
  indices: Int32Array;
  values: Float64Array;
}

/** tf·idf of one text in one block, L2-normalised (no entries when no n-gram is known). */
function blockRow(block: TfidfBlock, grams: readonly string[]): SparseRow {
  const columns = new Int32Array(grams.length);
  let known = 0;
  for (const g of grams) {
    const j = block.vocabulary.get(g);
    if (j !== undefined) columns[known++] = j;
  }
  const sorted = columns.subarray(0, known).sort();
  const indices = new Int32Array(known);
  const values = new Float64Array(known);
  let m = 0;
  for (let p = 0; p < known; p++) {
    if (m > 0 && indices[m - 1] === sorted[p]) values[m - 1]++;
    else {
      indices[m] = sorted[p];
      values[m++] = 1;
    }
  }
  let norm = 0;
  for (let p = 0; p < m; p++) {
    values[p] *= block.idf[indices[p]];
    norm += values[p] * values[p];
  }
  norm = Math.sqrt(norm);
  for (let p = 0; p < m; p++) values[p] /= norm;
  return { indices: indices.subarray(0, m), values: values.subarray(0, m) };
}

/** Rows in compressed sparse row form: row i is indices/values[rowStart[i] .. rowStart[i + 1]). */
interface SparseRows {
  rowStart: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/**
 * The blocks side by side, each normalised on its own, block b's columns offset by the earlier blocks' sizes.
 * grams[b][i], when given, are the n-grams of texts[i] in block b (already computed while fitting).
 */
function featurize(
  blocks: readonly TfidfBlock[],
  texts: readonly string[],
  grams?: string[][][],
): SparseRows {
  const parts = blocks.map((block, b) =>
    texts.map((t, i) => blockRow(block, grams?.[b][i] ?? block.analyze(t))),
  );
  const rowStart = new Int32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) {
    rowStart[i + 1] = rowStart[i] + parts.reduce((s, rows) => s + rows[i].indices.length, 0);
  }
  const indices = new Int32Array(rowStart[texts.length]);
  const values = new Float32Array(rowStart[texts.length]);
  for (let i = 0; i < texts.length; i++) {
    let p = rowStart[i];
    let offset = 0;
    parts.forEach((rows, b) => {
      const row = rows[i];
      for (let q = 0; q < row.indices.length; q++, p++) {
        indices[p] = offset + row.indices[q];
        values[p] = row.values[q];
      }
      offset += blocks[b].vocabulary.size;
    });
  }
  return { rowStart, indices, values };
}

// ---- model ----

/**
 * Class scores z = x·W + b for every row, row-major (n × K). Parameters: W feature-major (w[j·K + k]),
 * then the K biases.
 */
function scores(x: SparseRows, params: Float64Array, k: number): Float64Array {
  const n = x.rowStart.length - 1;
  const bias = params.length - k;
  const z = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const zi = i * k;
    for (let c = 0; c < k; c++) z[zi + c] = params[bias + c];
    for (let p = x.rowStart[i]; p < x.rowStart[i + 1]; p++) {
      const w = x.indices[p] * k;
      const v = x.values[p];
      for (let c = 0; c < k; c++) z[zi + c] += v * params[w + c];
    }
  }
  return z;
}

/** Row i of z turned into softmax probabilities in place; returns log Σ exp z (the log-partition). */
function softmaxRow(z: Float64Array, i: number, k: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) max = Math.max(max, z[i * k + c]);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += Math.exp(z[i * k + c] - max);
  const logZ = max + Math.log(sum);
  for (let c = 0; c < k; c++) z[i * k + c] = Math.exp(z[i * k + c] - logZ);
  return logZ;
}

/**
 * scikit-learn's objective C·Σ_i CE_i + ½||W||² divided by C·n (same minimiser, gradients of order one):
 *   f = (1/n) Σ_i [log Σ_c exp z_ic − z_i,y_i] + ||W||² / (2·C·n),   biases not penalised;
 *   ∂f/∂W = Xᵀ(P − Y) / n + W / (C·n),   ∂f/∂b = Σ_i (P − Y)_i / n.
 */
function objective(x: SparseRows, y: Int32Array, k: number, C: number) {
  const n = y.length;
  return (params: Float64Array, grad: Float64Array): number => {
    const p = scores(x, params, k);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const zy = p[i * k + y[i]];
      loss += softmaxRow(p, i, k) - zy;
      p[i * k + y[i]] -= 1;
    }
    return loss / n + gradient(x, p, params, grad, k, C);
  };
}

/** Fills grad from the residuals r = P − Y (n × K); returns the penalty term ||W||² / (2·C·n). */
function gradient(
  x: SparseRows,
  r: Float64Array,
  params: Float64Array,
  grad: Float64Array,
  k: number,
  C: number,
): number {
  const n = x.rowStart.length - 1;
  const bias = params.length - k;
  const decay = 1 / (C * n);
  let penalty = 0;
  for (let j = 0; j < bias; j++) {
    grad[j] = decay * params[j];
    penalty += params[j] * params[j];
  }
  for (let c = 0; c < k; c++) grad[bias + c] = 0;
  for (let i = 0; i < n; i++) {
    const ri = i * k;
    for (let c = 0; c < k; c++) r[ri + c] /= n;
    for (let c = 0; c < k; c++) grad[bias + c] += r[ri + c];
    for (let q = x.rowStart[i]; q < x.rowStart[i + 1]; q++) {
      const w = x.indices[q] * k;
      const v = x.values[q];
      for (let c = 0; c < k; c++) grad[w + c] += v * r[ri + c];
    }
  }
  return (penalty * decay) / 2;
}

// ---- training ----

/** Trains on texts and their labels. Deterministic: no randomness, the start point is W = 0, b = 0. */
export function trainBowClassifier<L extends string>(
  texts: readonly string[],
  labels: readonly L[],
  options: BowClassifierOptions = {},
): BowClassifier<L> {
  if (texts.length !== labels.length) {
    throw new Error(`texts (${texts.length}) and labels (${labels.length}) differ in length`);
  }
  if (texts.length === 0) throw new Error('trainBowClassifier needs at least one text');
  const classes = [...new Set(labels)].sort();
  const classOf = new Map(classes.map((l, c) => [l, c]));
  const k = classes.length;
  const analyzers = [wordNgrams, (t: string) => charWbNgrams(t)];
  const grams = analyzers.map((a) => texts.map(a));
  const blocks = analyzers.map((a, b) => fitBlock(grams[b], a, options.minDf ?? 1));
  const x = featurize(blocks, texts, grams);
  const features = blocks.reduce((s, b) => s + b.vocabulary.size, 0);
  const y = Int32Array.from(labels, (l) => classOf.get(l)!);
  const fit = minimizeLbfgs(objective(x, y, k, options.C ?? 4), new Float64Array((features + 1) * k), {
    maxIter: options.maxIter ?? 200,
    gradTol: options.tol ?? 1e-4,
  });
  const params = fit.x;
  const probabilities = (queries: readonly string[]): number[][] => {
    const z = scores(featurize(blocks, queries), params, k);
    return queries.map((_, i) => {
      softmaxRow(z, i, k);
      return Array.from(z.subarray(i * k, (i + 1) * k));
    });
  };
  return {
    labels: classes,
    training: { iterations: fit.iterations, converged: fit.converged, features, objective: fit.history },
    probabilities,
    predict: (queries) =>
      probabilities(queries).map((row) => classes[row.reduce((best, v, c) => (v > row[best] ? c : best), 0)]),
  };
}
