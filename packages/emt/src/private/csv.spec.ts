import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv } from './csv.js';

test('CRLF rows, quoted commas, doubled quotes, line breaks in quotes, BOM', () => {
  const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",z\r\n\r\n3,,\r\n';
  const rows = parseCsv(text);
  assert.deepEqual(
    rows.map((r) => r.fields),
    [
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\r\nlines', 'z'],
      ['3', '', ''],
    ],
  );
  // Each row knows the line it starts on; the quoted line break moves the next row down.
  assert.deepEqual(
    rows.map((r) => r.line),
    [1, 2, 3, 6],
  );
});

test('LF-only files and a last row without a newline', () => {
  assert.deepEqual(
    parseCsv('a,b\n1,2').map((r) => r.fields),
    [
      ['a', 'b'],
      ['1', '2'],
    ],
  );
});
