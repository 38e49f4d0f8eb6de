// A readable text form of a graph, one line per value, for debugging and error reports:
//   %h = MatMul(%x: float32[batch, 8], %w1: float32[8, 16]) -> float32[batch, 16]
import type { AttrValue, GraphBuilder } from './builder.js';
import { numel, shapeToString } from './shape.js';
import type { Tensor } from './tensor.js';

const typeOf = (t: Tensor) => `${t.dtype}${shapeToString(t.shape)}`;

function attrText(a: AttrValue): string {
  if (a.type === 'ints' || a.type === 'floats') return `[${a.value.join(', ')}]`;
  if (a.type === 'string') return JSON.stringify(a.value);
  return String(a.value);
}

export function dumpGraph(g: GraphBuilder): string {
  const lines: string[] = [
    `graph ${g.name} (opset ${[...g.opsetImports].map(([d, v]) => `${d || 'ai.onnx'}:${v}`).join(', ')})`,
  ];
  for (const t of g.inputs) lines.push(`  input  %${t.name}: ${typeOf(t)}`);
  for (const { tensor: t, data } of g.initializers.values()) {
    const n = numel(t.shape) ?? 0;
    const preview =
      n <= 8 ? ` = [${Array.from(data as ArrayLike<number | bigint>, String).join(', ')}]` : ` (${n} values)`;
    lines.push(`  init   %${t.name}: ${typeOf(t)}${preview}`);
  }
  for (const n of g.nodes) {
    const ins = n.inputs.map((t) => (t ? `%${t.name}` : '_')).join(', ');
    const attrs = Object.entries(n.attrs)
      .map(([k, v]) => `${k}=${attrText(v)}`)
      .join(', ');
    const outs = n.outputs.map((t) => `%${t.name}: ${typeOf(t)}`).join(', ');
    const op = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    lines.push(`  ${outs} = ${op}(${ins})${attrs ? ` {${attrs}}` : ''}`);
  }
  for (const t of g.outputs) lines.push(`  output %${t.name}: ${typeOf(t)}`);
  return lines.join('\n');
}
