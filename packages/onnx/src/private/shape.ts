// Static shape arithmetic. A dim is a number, or a string naming a symbolic dim ('batch', 'seq').
// Two dims with the same string are the same size; that is all the builder assumes about them.

export type Dim = number | string;
export type Shape = readonly Dim[];

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Number of elements, or undefined when a dim is symbolic. */
export function numel(shape: Shape): number | undefined {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${what}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function sameDim(a: Dim, b: Dim): boolean {
  return a === b;
}

/**
 * Numpy-style multidirectional broadcasting. `names` name the tensors, so that a mismatch
 * error says which two tensors disagree.
 */
export function broadcastShapes(shapes: Shape[], names: string[], op: string): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    let owner = -1;
    for (let k = 0; k < shapes.length; k++) {
      const s = shapes[k];
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) {
        dim = d;
        owner = k;
      } else if (d !== dim) {
        throw new Error(
          `${op}: shapes do not broadcast: ${names[owner]} ${shapeToString(shapes[owner])} and ` +
            `${names[k]} ${shapeToString(s)} differ at dim ${i - rank} (${dim} vs ${d})`,
        );
      }
    }
    out.push(dim);
  }
  return out;
}
