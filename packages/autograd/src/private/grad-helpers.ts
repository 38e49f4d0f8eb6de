// Small graph helpers the VJPs share: undoing broadcasting, zeros of a shape, dims.
import type { GraphBuilder, Shape, Tensor } from '@emoverse/onnx';
import { isStatic, shapeToString } from '@emoverse/onnx';

/** A zero tensor shaped like `x` (Expand of a scalar: works for symbolic shapes too). */
export function zerosLike(g: GraphBuilder, x: Tensor): Tensor {
  const zero = g.constant(0, x.dtype);
  if (x.rank === 0) return g.identity(zero);
  return isStatic(x.shape) ? g.expand(zero, x.shape as number[]) : g.expand(zero, g.shapeOf(x), x.shape);
}

/** Reshape `x` to the (possibly symbolic) shape of `like`. */
export function reshapeLike(g: GraphBuilder, x: Tensor, like: Tensor): Tensor {
  if (sameShape(x.shape, like.shape)) return x;
  return isStatic(like.shape)
    ? g.reshape(x, like.shape as number[])
    : g.reshape(x, g.shapeOf(like), like.shape);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Sums a gradient of a broadcast result back to the shape of the operand that was
 * broadcast: leading extra dims are summed away, dims that were 1 are summed with keepdims.
 */
export function unbroadcast(g: GraphBuilder, grad: Tensor, target: Tensor): Tensor {
  if (sameShape(grad.shape, target.shape)) return grad;
  let out = grad;
  const lead = grad.rank - target.rank;
  if (lead > 0) out = g.reduceSum(out, [...Array(lead).keys()], false);
  const axes: number[] = [];
  target.shape.forEach((d, i) => {
    const od = out.shape[i];
    if (d === od) return;
    if (d === 1) axes.push(i);
    else
      throw new Error(
        `cannot sum gradient ${grad.name} ${shapeToString(grad.shape)} back to ${target.name} ${shapeToString(target.shape)}`,
      );
  });
  if (axes.length) out = g.reduceSum(out, axes, true);
  return out;
}

/** Product of the dims of `x` at `axes`; static dims only. */
export function countOver(x: Tensor, axes: readonly number[], what: string): number {
  let n = 1;
  for (const a of axes) {
    const d = x.shape[a];
    if (typeof d !== 'number') throw new Error(`${what}: gradient needs a static size for dim ${a} of ${x}`);
    n *= d;
  }
  return n;
}

export function normAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a));
}

/**
 * Concat and Split with many pieces, as a tree of nodes with at most `fanout` pieces each:
 * WebGPU kernels bind every input and output as a storage buffer, and a shader stage may
 * have as few as 16 (lavapipe, many GPUs), so a 50-way Split fails there.
 */
export const MAX_FANOUT = 8;

export function concatMany(
  g: GraphBuilder,
  xs: readonly Tensor[],
  axis: number,
  fanout = MAX_FANOUT,
): Tensor {
  if (xs.length <= fanout) return xs.length === 1 ? xs[0] : g.concat(xs, axis);
  const groups: Tensor[] = [];
  for (let i = 0; i < xs.length; i += fanout)
    groups.push(concatMany(g, xs.slice(i, i + fanout), axis, fanout));
  return concatMany(g, groups, axis, fanout);
}

export function splitMany(
  g: GraphBuilder,
  x: Tensor,
  sizes: readonly number[],
  axis: number,
  fanout = MAX_FANOUT,
): Tensor[] {
  if (sizes.length <= fanout) return sizes.length === 1 ? [x] : g.split(x, sizes, axis);
  const chunk = Math.ceil(sizes.length / fanout);
  const groups: number[][] = [];
  for (let i = 0; i < sizes.length; i += chunk) groups.push(sizes.slice(i, i + chunk));
  const parts = g.split(
    x,
    groups.map((s) => s.reduce((a, b) => a + b, 0)),
    axis,
  );
  return parts.flatMap((p, i) => splitMany(g, p, groups[i], axis, fanout));
}
