// Reverse-mode autodiff over a GraphBuilder's nodes. The backward pass is appended to the
// same graph as ordinary ONNX ops, so forward, loss and gradients run as one session.
import type { GraphBuilder, GraphNode, Tensor } from '@emoverse/onnx';
import { isFloat } from '@emoverse/onnx';
import { zerosLike } from './grad-helpers.js';
import type { Vjp } from './vjps.js';
import { VJPS } from './vjps.js';

export interface GradientOptions {
  /** The gradient of `loss` itself (default 1). A loss scale for fp16 goes here. */
  seed?: Tensor;
  /** Extra VJPs (e.g. for contrib ops), by op type. */
  vjps?: Record<string, Vjp>;
}

/**
 * d loss / d t for every t in `wrt`, as new tensors of `g` (same order). A tensor that the loss
 * does not depend on gets zeros. Fails, naming op and node, when a node on the path from
 * `wrt` to `loss` has no VJP.
 */
export function gradients(
  g: GraphBuilder,
  loss: Tensor,
  wrt: readonly Tensor[],
  opts: GradientOptions = {},
): Tensor[] {
  if (loss.rank !== 0 && !opts.seed) throw new Error(`gradients: ${loss} is not a scalar; give a seed`);
  const vjps = { ...VJPS, ...opts.vjps };
  const differentiable = (t: Tensor | undefined): t is Tensor => !!t && isFloat(t.dtype);

  // Nodes downstream of `wrt` (through float values) ...
  const fromWrt = new Set(wrt.map((t) => t.name));
  const forwardNodes: GraphNode[] = [];
  for (const n of g.nodes) {
    if (n.inputs.some((t) => differentiable(t) && fromWrt.has(t.name))) {
      forwardNodes.push(n);
      for (const o of n.outputs) if (differentiable(o)) fromWrt.add(o.name);
    }
  }
  // ... and upstream of `loss`: the nodes whose VJP we need, in reverse order.
  const toLoss = new Set([loss.name]);
  const path: GraphNode[] = [];
  for (let i = forwardNodes.length - 1; i >= 0; i--) {
    const n = forwardNodes[i];
    if (n.outputs.some((o) => toLoss.has(o.name) && differentiable(o))) {
      path.push(n);
      for (const t of n.inputs) if (differentiable(t) && fromWrt.has(t.name)) toLoss.add(t.name);
    }
  }

  // Gradients flowing into each value, summed when a value feeds several nodes.
  const pending = new Map<string, Tensor[]>();
  const addGrad = (name: string, t: Tensor) => {
    const list = pending.get(name);
    if (list) list.push(t);
    else pending.set(name, [t]);
  };
  const total = (t: Tensor): Tensor | undefined => {
    const list = pending.get(t.name);
    if (!list) return undefined;
    const sum = list.reduce((acc, v) => g.add(acc, v));
    pending.set(t.name, [sum]);
    return sum;
  };
  addGrad(loss.name, opts.seed ?? g.constant(1, loss.dtype));

  g.scope('grad', () => {
    for (const node of path) {
      const vjp = vjps[node.domain ? `${node.domain}.${node.opType}` : node.opType];
      if (!vjp)
        throw new Error(
          `no VJP for op ${node.domain ? `${node.domain}.` : ''}${node.opType} (node ${node.name}, output ${node.outputs[0]?.name}); it lies between the parameters and the loss`,
        );
      const gy = node.outputs.map((o) => total(o) ?? zerosLike(g, o));
      const needs = node.inputs.map((t) => differentiable(t) && toLoss.has(t.name));
      const gx = vjp({ g, node, x: node.inputs, y: node.outputs, gy, needs });
      node.inputs.forEach((t, i) => {
        if (!t || !needs[i]) return;
        const gi = gx[i];
        if (!gi)
          throw new Error(`VJP of ${node.opType} (node ${node.name}) gave no gradient for input ${t.name}`);
        if (gi.dtype !== t.dtype)
          throw new Error(`VJP of ${node.opType} (node ${node.name}) gave ${gi} for ${t}: dtypes differ`);
        addGrad(t.name, gi);
      });
    }
  });
  return wrt.map((t) => total(t) ?? zerosLike(g, t));
}
