// npm run eval:swift -- --file <json|jsonl> --gateway <host:port> [--out file.jsonl]
//   [--media-root dir] [--concurrency n] [--token t] [--timeout-ms n]
// Evaluates a file in ms-swift format (the paper's released test format) against a running gateway.
// Prints missing media and failures, then, as its last line, the metrics (acc/wf1 for ER, ecpe_f1).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateSwift, parseSwiftRecords, type SwiftClient } from '@emoverse/serving';
import { GatewayClient } from './client.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    gateway: { type: 'string' },
    out: { type: 'string' },
    'media-root': { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    token: { type: 'string' },
    'timeout-ms': { type: 'string', default: '120000' },
  },
});
if (!values.file || !values.gateway) {
  console.error('usage: npm run eval:swift -- --file <json|jsonl> --gateway <host:port> [--out file.jsonl]');
  process.exit(2);
}

const file = resolve(values.file);
const records = parseSwiftRecords(readFileSync(file, 'utf8'), file);
const mediaRoot = resolve(values['media-root'] ?? dirname(file));
const timeoutMs = Number(values['timeout-ms']);
const gateway = new GatewayClient(values.gateway, {
  token: values.token ?? process.env.EMOVERSE_GATEWAY_TOKEN,
});

const client: SwiftClient = {
  emotion: async ({ text, media }) => ({
    rawText: (
      await gateway.emotion(
        { input: { text, media: media && { source: mediaSource(media) } } },
        { timeoutMs },
      )
    ).rawText,
  }),
  emotionCausePairs: async ({ conversation, target, media }) => ({
    rawText: (
      await gateway.emotionCausePairs(
        {
          input: {
            history: conversation.map((t) => ({ speaker: t.speaker, text: t.text, emotion: t.emotion })),
            media: media && { source: mediaSource(media) },
          },
          target,
        },
        { timeoutMs },
      )
    ).rawText,
  }),
};

function mediaSource(m: { video?: Uint8Array; image?: Uint8Array }) {
  return m.video ? { case: 'video' as const, value: m.video } : { case: 'image' as const, value: m.image! };
}

const report = await evaluateSwift(records, client, {
  concurrency: Number(values.concurrency),
  readMedia: async (path) => {
    try {
      return new Uint8Array(await readFile(resolve(mediaRoot, path)));
    } catch {
      return undefined;
    }
  },
});
gateway.close();

if (report.missingMedia.length) {
  console.log(
    `missing media: ${report.missingMedia.length} of ${records.length} records name files not under ${mediaRoot}; they were answered from text`,
  );
  for (const m of report.missingMedia.slice(0, 10)) console.log(`  record ${m.index}: ${m.path}`);
  if (report.missingMedia.length > 10) console.log(`  ... and ${report.missingMedia.length - 10} more`);
}
const failed = report.rows.filter((r) => r.error);
for (const r of failed.slice(0, 10)) console.log(`record ${r.index} (${r.task}) failed: ${r.error}`);
if (failed.length > 10) console.log(`... and ${failed.length - 10} more failures`);
const count = (t: string) => report.rows.filter((r) => r.task === t).length;
console.log(`records: ${records.length} (er ${count('er')}, ecpe ${count('ecpe')}, failed ${failed.length})`);
if (values.out) {
  mkdirSync(dirname(resolve(values.out)), { recursive: true });
  const lines = report.rows.map((r) =>
    JSON.stringify({ index: r.index, task: r.task, gold: r.gold, answer: r.answer }),
  );
  writeFileSync(values.out, `${lines.join('\n')}\n`);
  console.log(`answers written to ${values.out}`);
}
console.log(report.summary);
