// Tensor: the typed handle to a graph value (name, dtype, possibly symbolic shape) a GraphBuilder returns.
import type { DType } from './dtype.js';
import type { Shape } from './shape.js';
import { shapeToString } from './shape.js';

/**
 * A typed handle to a value in a graph: its name, element type and (possibly symbolic) shape.
 * Handles are created by a GraphBuilder; `kind` says where the value comes from.
 */
export class Tensor {
  constructor(
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: 'input' | 'initializer' | 'node',
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name}: ${this.dtype}${shapeToString(this.shape)}`;
  }
}
