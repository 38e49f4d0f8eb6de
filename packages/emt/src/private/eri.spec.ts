import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { chatCompletionsUrl, type EriInput, gatewayEri, offlineEri, openAiEri, withFallback } from './eri.js';

const INPUT: EriInput = {
  id: 'meld/dev/dia1_utt1',
  speaker: 'Joey',
  text: 'You’re a genius!',
  emotion: 'joy',
  context: [{ index: 1, speaker: 'Chandler', text: 'We could go to the bank.' }],
  causes: [{ index: 1, speaker: 'Chandler', text: 'We could go to the bank.' }],
  facialCues: ['cheeks raised', 'lip corners pulled up'],
};

/** A real HTTP server on a free loopback port; `handler` decides how it misbehaves. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const close = async () => {
    for (const s of sockets) s.destroy(); // hanging requests must not keep the server open
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { url, close };
}

test('the offline rationale is deterministic and uses words, face and causes', async () => {
  const a = await offlineEri(1).rationale(INPUT);
  const b = await offlineEri(1).rationale(INPUT);
  assert.equal(a, b);
  assert.match(a, /Joey/);
  assert.match(a, /You’re a genius!/);
  assert.match(a, /cheeks raised, lip corners pulled up/);
  assert.match(a, /Chandler/);
  assert.match(a, /joy/);
});

test('chatCompletionsUrl accepts a base URL, a /v1 URL or the full path', () => {
  assert.equal(chatCompletionsUrl('http://h:1'), 'http://h:1/v1/chat/completions');
  assert.equal(chatCompletionsUrl('http://h:1/v1/'), 'http://h:1/v1/chat/completions');
  assert.equal(chatCompletionsUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1/chat/completions');
});

test('an OpenAI-compatible endpoint answers: the request carries model and prompt', async () => {
  let seen:
    | { url?: string; auth?: string; body: { model: string; messages: { content: string }[] } }
    | undefined;
  const srv = await serve((req, res, body) => {
    seen = { url: req.url, auth: req.headers.authorization, body: JSON.parse(body) };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        choices: [{ message: { role: 'assistant', content: '  He is thrilled by the idea. ' } }],
      }),
    );
  });
  try {
    const eri = openAiEri({ url: srv.url, model: 'llama-3.1-8b', apiKey: 'k', timeoutMs: 5000 });
    assert.equal(await eri.rationale(INPUT), 'He is thrilled by the idea.');
    assert.equal(seen?.url, '/v1/chat/completions');
    assert.equal(seen?.auth, 'Bearer k');
    assert.equal(seen?.body.model, 'llama-3.1-8b');
    assert.match(seen!.body.messages[1].content, /Joey says: "You’re a genius!"/);
    assert.match(seen!.body.messages[1].content, /Annotated causes/);
  } finally {
    await srv.close();
  }
});

test('a hanging endpoint times out and falls back to the offline rationale with a warning', async () => {
  let requests = 0;
  const srv = await serve(() => {
    requests++; // never answers
  });
  try {
    const warnings: string[] = [];
    const eri = withFallback(openAiEri({ url: srv.url, model: 'm', timeoutMs: 200 }), offlineEri(0), {
      onWarning: (m) => warnings.push(m),
      maxConsecutiveFailures: 2,
    });
    const expected = await offlineEri(0).rationale(INPUT);
    for (let i = 0; i < 4; i++) assert.equal(await eri.rationale(INPUT), expected);
    assert.equal(requests, 2); // given up after two consecutive failures: a dead endpoint costs a bounded time
    assert.deepEqual(eri.stats, { primary: 0, fallback: 4, failures: 2, primaryDisabled: true });
    assert.match(warnings[0], /timed out after 200 ms/);
    assert.match(warnings.at(-1)!, /failed 2 times in a row/);
  } finally {
    await srv.close();
  }
});

test('a 500 falls back; a later success resets the failure streak', async () => {
  let n = 0;
  const srv = await serve((_req, res) => {
    n++;
    if (n === 1) {
      res.writeHead(500);
      res.end('boom');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ message: { content: 'From the model.' } }] }));
    }
  });
  try {
    const warnings: string[] = [];
    const eri = withFallback(openAiEri({ url: srv.url, model: 'm', timeoutMs: 2000 }), offlineEri(0), {
      onWarning: (m) => warnings.push(m),
      maxConsecutiveFailures: 2,
    });
    assert.equal(await eri.rationale(INPUT), await offlineEri(0).rationale(INPUT));
    assert.match(warnings[0], /answered 500: boom/);
    assert.equal(await eri.rationale(INPUT), 'From the model.');
    assert.deepEqual(eri.stats, { primary: 1, fallback: 1, failures: 1, primaryDisabled: false });
  } finally {
    await srv.close();
  }
});

test('an unreachable port falls back too', async () => {
  const srv = await serve(() => {});
  const url = srv.url;
  await srv.close(); // nothing listens there now
  const warnings: string[] = [];
  const eri = withFallback(openAiEri({ url, model: 'm', timeoutMs: 2000 }), offlineEri(0), {
    onWarning: (m) => warnings.push(m),
  });
  assert.equal(await eri.rationale(INPUT), await offlineEri(0).rationale(INPUT));
  assert.equal(warnings.length, 1);
});

test('the gateway backend gets the prompt and an abort signal, and is bounded by its timeout', async () => {
  let prompt = '';
  const ok = gatewayEri(async (p) => {
    prompt = p;
    return 'Because Chandler had a good idea.';
  });
  assert.equal(await ok.rationale(INPUT), 'Because Chandler had a good idea.');
  assert.match(prompt, /explain why Joey feels joy/);
  let aborted = false;
  const stuck = gatewayEri(
    (_p, _x, signal) =>
      new Promise<string>(() => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
      }),
    100,
  );
  await assert.rejects(stuck.rationale(INPUT), /timed out after 100 ms/);
  assert.equal(aborted, true);
});
