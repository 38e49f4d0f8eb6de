// Gradient checking: analytic gradients from `gradients()` against central finite
// differences, both computed by real ORT sessions in float64.
import type { Tensor } from '@emoverse/onnx';
import { GraphBuilder } from '@emoverse/onnx';
import { Session } from '@emoverse/runtime';
import { gradients } from './grad.js';
import { mulberry32 } from './random.js';

export interface CheckInput {
  name: string;
  shape: number[];
  /** Float inputs are differentiated; int64 ones (indices, labels) are fed `values`. */
  dtype?: 'float64' | 'int64';
  values?: number[];
  /** How to draw random float values. */
  range?: 'any' | 'positive' | 'awayFromZero';
}

export interface GradCheckResult {
  maxAbsErr: number;
  maxRelErr: number;
  checked: number;
}

/** Deterministic PRNG (the engine's mulberry32), so failures reproduce. */
export const rng: (seed: number) => () => number = mulberry32;

function draw(rand: () => number, n: number, range: CheckInput['range']): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand() * 2 - 1;
    out[i] =
      range === 'positive'
        ? 0.5 + rand() * 1.5
        : range === 'awayFromZero'
          ? Math.sign(u || 1) * (0.3 + Math.abs(u))
          : u * 1.5;
  }
  return out;
}

/**
 * Builds loss = sum(build(...) · R) for a random R, differentiates it with respect to the
 * float inputs, and compares with (L(x+h) - L(x-h)) / 2h for every element.
 */
export async function gradCheck(
  inputs: CheckInput[],
  build: (g: GraphBuilder, xs: Tensor[]) => Tensor,
  opts: { seed?: number; h?: number; atol?: number; rtol?: number } = {},
): Promise<GradCheckResult> {
  const rand = rng(opts.seed ?? 1);
  const h = opts.h ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const g = new GraphBuilder('gradcheck');
  const xs = inputs.map((i) => g.input(i.name, i.dtype ?? 'float64', i.shape));
  const out = build(g, xs);
  const outShape = out.shape as number[];
  const n = outShape.reduce((a, b) => a * b, 1);
  const r = g.initializer(
    'R',
    draw(rand, n, 'any'),
    outShape,
    out.dtype === 'float64' ? 'float64' : undefined,
  );
  const loss = g.sumAll(g.mul(out, r));
  g.output(loss, 'loss');
  const floats = xs.filter((x) => x.dtype === 'float64');
  const grads = gradients(g, loss, floats);
  for (const [i, t] of grads.entries()) g.output(t, `grad_${floats[i].name}`);
  const session = await Session.create(g, { ep: 'cpu', intraOpThreads: 1 });

  const feeds: Record<
    string,
    { dtype: 'float64' | 'int64'; dims: number[]; data: Float64Array | BigInt64Array }
  > = {};
  for (const inp of inputs) {
    const size = inp.shape.reduce((a, b) => a * b, 1);
    feeds[inp.name] =
      inp.dtype === 'int64'
        ? { dtype: 'int64', dims: inp.shape, data: BigInt64Array.from((inp.values ?? []).map(BigInt)) }
        : {
            dtype: 'float64',
            dims: inp.shape,
            data: inp.values ? Float64Array.from(inp.values) : draw(rand, size, inp.range),
          };
  }
  const analytic = await session.run(feeds);
  const lossAt = async () => ((await session.run(feeds, ['loss'])).loss.data as Float64Array)[0];
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let checked = 0;
  for (const x of floats) {
    const data = feeds[x.name].data as Float64Array;
    const ga = analytic[`grad_${x.name}`].data as Float64Array;
    if (ga.length !== data.length)
      throw new Error(`gradient of ${x.name} has ${ga.length} values, not ${data.length}`);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      data[i] = v + h;
      const up = await lossAt();
      data[i] = v - h;
      const down = await lossAt();
      data[i] = v;
      const numeric = (up - down) / (2 * h);
      const err = Math.abs(numeric - ga[i]);
      // NaN or ±Inf on either side is a failure: written as !(err <= tol) because NaN compares false.
      if (!Number.isFinite(ga[i]) || !Number.isFinite(numeric))
        throw new Error(
          `gradient of ${x.name}[${i}] is ${ga[i]}, finite differences give ${numeric}: not finite`,
        );
      maxAbsErr = Math.max(maxAbsErr, err);
      maxRelErr = Math.max(maxRelErr, err / Math.max(Math.abs(numeric), 1e-12));
      checked++;
      if (!(err <= atol + rtol * Math.abs(numeric)))
        throw new Error(
          `gradient of ${x.name}[${i}] is ${ga[i]}, finite differences give ${numeric} (error ${err})`,
        );
    }
  }
  await session.release();
  return { maxAbsErr, maxRelErr, checked };
}
