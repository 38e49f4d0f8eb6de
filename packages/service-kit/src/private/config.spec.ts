// loadConfig: defaults, a service's own settings, and errors that name the bad variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

test('defaults fill the base settings and the service adds its own', () => {
  const c = loadConfig(
    'svc',
    { EMOVERSE_MODEL: z.string().default('emoverse-nano') },
    { EMOVERSE_GRPC_PORT: '7000' },
  );
  assert.equal(c.EMOVERSE_GRPC_PORT, 7000);
  assert.equal(c.NATS_URL, 'nats://127.0.0.1:4222');
  assert.equal(c.EMOVERSE_MODEL, 'emoverse-nano');
  assert.equal(c.EMOVERSE_METRICS_PORT, undefined);
});

test('a bad variable fails with its name, its value and what was expected', () => {
  assert.throws(
    () => loadConfig('au-scorer', {}, { EMOVERSE_GRPC_PORT: 'abc' }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /invalid configuration for au-scorer:\n {2}EMOVERSE_GRPC_PORT="abc": /);
      return true;
    },
  );
  assert.throws(
    () => loadConfig('x', {}, { EMOVERSE_GRPC_PORT: '70000' }),
    /EMOVERSE_GRPC_PORT="70000": .*65535/,
  );
  assert.throws(
    () => loadConfig('x', {}, { EMOVERSE_TRACE_EXPORTER: 'jaeger' }),
    /EMOVERSE_TRACE_EXPORTER="jaeger": expected none/,
  );
  assert.throws(
    () => loadConfig('trainer', { EMOVERSE_RUNS_DIR: z.string() }, {}),
    /EMOVERSE_RUNS_DIR \(unset\): /,
  );
});

test('EMOVERSE_STREAM_REPLICAS is 1 by default, 3 for a cluster, and nothing else', () => {
  assert.equal(loadConfig('svc', {}, {}).EMOVERSE_STREAM_REPLICAS, 1);
  assert.equal(loadConfig('svc', {}, { EMOVERSE_STREAM_REPLICAS: '3' }).EMOVERSE_STREAM_REPLICAS, 3);
  for (const bad of ['2', '0', 'three'])
    assert.throws(
      () => loadConfig('gateway', {}, { EMOVERSE_STREAM_REPLICAS: bad }),
      new RegExp(`EMOVERSE_STREAM_REPLICAS="${bad}": expected 1 \\(one NATS node\\) or 3`),
    );
});
