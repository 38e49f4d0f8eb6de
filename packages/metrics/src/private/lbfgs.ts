// L-BFGS minimisation of a smooth objective over a flat Float64Array (Nocedal & Wright, Numerical
// Optimization, 2nd ed.: two-loop recursion Alg. 7.4, update Alg. 7.5, backtracking line search Alg. 3.1
// with the safeguarded quadratic interpolation of §3.5). Stopping rules follow scipy's L-BFGS-B as
// scikit-learn calls it: max_i |g_i| <= gradTol, or a relative decrease of f below relTol.

/** Writes the gradient at x into grad and returns f(x). */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Iterations (line searches) at most; default 100. */
  maxIter?: number;
  /** Converged when max_i |g_i| <= gradTol (scipy's gtol, scikit-learn's tol); default 1e-4. */
  gradTol?: number;
  /** Converged when (f_k − f_k+1) / max(|f_k|, |f_k+1|, 1) <= relTol (scipy's ftol); default 64·eps. */
  relTol?: number;
  /** Correction pairs kept (m); default 10. */
  memory?: number;
  /** Function evaluations per line search at most; default 30. */
  maxLineSearch?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
  /** f at the start and after every iteration. */
  history: number[];
}

const ARMIJO_C1 = 1e-4;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** x ← x + a·y, returning z·x of the updated x when z is given (one pass over memory instead of two). */
function axpyDot(x: Float64Array, a: number, y: Float64Array, z?: Float64Array): number {
  if (!z) {
    for (let j = 0; j < x.length; j++) x[j] += a * y[j];
    return 0;
  }
  let acc = 0;
  for (let j = 0; j < x.length; j++) {
    const v = x[j] + a * y[j];
    x[j] = v;
    acc += z[j] * v;
  }
  return acc;
}

/** The correction pairs s_i = x_i+1 − x_i, y_i = g_i+1 − g_i, oldest first; buffers are recycled. */
class History {
  readonly s: Float64Array[] = [];
  readonly y: Float64Array[] = [];
  /** 1 / (s_i·y_i) */
  readonly rho: number[] = [];
  /** s·y / y·y of the newest pair: the scale γ of H_0 = γI (N&W eq. 7.20). */
  gamma = 1;

  constructor(private readonly memory: number) {}

  /** A pair of buffers to fill: fresh ones until m pairs are held, then the oldest pair's. */
  take(n: number): [Float64Array, Float64Array] {
    if (this.s.length < this.memory) return [new Float64Array(n), new Float64Array(n)];
    this.rho.shift();
    return [this.s.shift()!, this.y.shift()!];
  }

  push(s: Float64Array, y: Float64Array, sy: number, yy: number): void {
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / sy);
    this.gamma = sy / yy;
  }

  clear(): void {
    this.s.length = 0;
    this.y.length = 0;
    this.rho.length = 0;
    this.gamma = 1;
  }
}

/**
 * d = −H·g by the two-loop recursion, started from q = −g (the recursion is linear, so the sign carries
 * through). Each s·q and y·r is taken in the same pass as the update before it.
 */
function direction(g: Float64Array, h: History, d: Float64Array): void {
  const k = h.s.length;
  for (let j = 0; j < d.length; j++) d[j] = -g[j];
  if (k === 0) return;
  const alpha = new Float64Array(k);
  let sq = dot(h.s[k - 1], d);
  for (let i = k - 1; i >= 0; i--) {
    alpha[i] = h.rho[i] * sq;
    sq = axpyDot(d, -alpha[i], h.y[i], i > 0 ? h.s[i - 1] : undefined);
  }
  let yr = 0;
  const y0 = h.y[0];
  for (let j = 0; j < d.length; j++) {
    d[j] *= h.gamma;
    yr += y0[j] * d[j];
  }
  for (let i = 0; i < k; i++) {
    const beta = h.rho[i] * yr;
    yr = axpyDot(d, alpha[i] - beta, h.s[i], i + 1 < k ? h.y[i + 1] : undefined);
  }
}

interface Trial {
  x: Float64Array;
  g: Float64Array;
  f: number;
}

/**
 * Backtracking from step t0 until f(x + t·d) <= f + c1·t·g·d (Armijo). Each shrink takes the minimiser of
 * the quadratic through f, g·d and the rejected value, kept within [0.1t, 0.5t]. False when it gives up.
 */
function lineSearch(
  objective: Objective,
  x: Float64Array,
  f: number,
  gd: number,
  d: Float64Array,
  t0: number,
  out: Trial,
  maxEvals: number,
): boolean {
  let t = t0;
  for (let e = 0; e < maxEvals; e++) {
    for (let j = 0; j < x.length; j++) out.x[j] = x[j] + t * d[j];
    out.f = objective(out.x, out.g);
    if (Number.isFinite(out.f) && out.f <= f + ARMIJO_C1 * t * gd) return true;
    const quadratic = Number.isFinite(out.f) ? (-gd * t * t) / (2 * (out.f - f - gd * t)) : 0.1 * t;
    t = Math.min(0.5 * t, Math.max(0.1 * t, quadratic));
  }
  return false;
}

/** Minimises objective from x0 (x0 is not modified). */
export function minimizeLbfgs(
  objective: Objective,
  x0: Float64Array,
  options: LbfgsOptions = {},
): LbfgsResult {
  const maxIter = options.maxIter ?? 100;
  const gradTol = options.gradTol ?? 1e-4;
  const relTol = options.relTol ?? 64 * Number.EPSILON;
  const n = x0.length;
  const h = new History(options.memory ?? 10);
  let cur: Trial = { x: Float64Array.from(x0), g: new Float64Array(n), f: 0 };
  let next: Trial = { x: new Float64Array(n), g: new Float64Array(n), f: 0 };
  cur.f = objective(cur.x, cur.g);
  const history = [cur.f];
  const d = new Float64Array(n);
  let converged = maxAbs(cur.g) <= gradTol;
  let iterations = 0;
  while (!converged && iterations < maxIter) {
    direction(cur.g, h, d);
    let gd = dot(cur.g, d);
    if (!(gd < 0)) {
      // Not a descent direction (only after numerical trouble): restart from steepest descent.
      h.clear();
      direction(cur.g, h, d);
      gd = dot(cur.g, d);
    }
    // The first step has no curvature estimate yet: take one of length 1 along −g.
    const t0 = h.s.length === 0 ? Math.min(1, 1 / Math.sqrt(-gd)) : 1;
    if (!lineSearch(objective, cur.x, cur.f, gd, d, t0, next, options.maxLineSearch ?? 30)) break;
    iterations++;
    const [s, y] = h.take(n);
    for (let j = 0; j < n; j++) {
      s[j] = next.x[j] - cur.x[j];
      y[j] = next.g[j] - cur.g[j];
    }
    const sy = dot(s, y);
    const yy = dot(y, y);
    if (sy > 1e-10 * yy) h.push(s, y, sy, yy);
    const decrease = (cur.f - next.f) / Math.max(Math.abs(cur.f), Math.abs(next.f), 1);
    [cur, next] = [next, cur];
    history.push(cur.f);
    converged = maxAbs(cur.g) <= gradTol || decrease <= relTol;
  }
  return { x: cur.x, f: cur.f, iterations, converged, history };
}
