import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progress } from './progress.js';

test('without a TTY, a progress bar writes whole lines at each 10% (no carriage returns)', () => {
  const lines: string[] = [];
  const bar = progress('training', 100, { write: (t) => void lines.push(t), isTTY: false });
  for (let i = 1; i <= 100; i++) bar.update(i, { status: `step ${i}` });
  bar.finish('published');
  const text = lines.join('');
  assert.doesNotMatch(text, /\r/);
  // the first line, one per decile (10..100%), and the final line
  assert.equal(lines.length, 12, text);
  assert.match(lines[5], /^training +\[#{12}-{12}\] 50\/100 +50% /);
  assert.match(lines.at(-1)!, /100\/100 100% .*published {2}done\n$/);
});

test('on a TTY, the bar redraws one line in place and ends it with a newline', () => {
  const out: string[] = [];
  const bar = progress('evaluation', 4, { write: (t) => void out.push(t), isTTY: true, columns: 100 });
  bar.update(1);
  bar.update(2);
  bar.fail('gateway unavailable');
  assert.ok(out.slice(0, -1).every((t) => t.startsWith('\r') && !t.includes('\n')));
  assert.match(out.at(-1)!, /2\/4 +50% .*FAILED: gateway unavailable\n$/);
});
