// The playground in Debian's headless Chromium (puppeteer-core, no downloaded browser) against a real local
// stack (nats-server, au-scorer, gateway as processes): a real clip is analysed and drawn, bad inputs read as
// errors on the page, and the gateway keeps serving. With EMOVERSE_PLAYGROUND_MODEL_DIR (a trained model
// folder) the screenshot goes to results/playground.png, the README's picture.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type NatsServer,
  repoRoot,
  type ServiceProcess,
  sharedDir,
  startNatsServer,
  startService,
} from '@emoverse/testing';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildPlayground } from '../../scripts/build-playground.js';

const CHROMIUM = process.env.EMOVERSE_CHROMIUM ?? '/usr/bin/chromium';
const TOKEN = 'playground-spec-token';
const TRAINED = process.env.EMOVERSE_PLAYGROUND_MODEL_DIR;
const tmp = mkdtempSync(join(tmpdir(), 'gateway-playground-'));
const clip = join(sharedDir(), 'data/faces/single_face.mp4');
/** The README's picture is of a trained model's analysis; a run on a fresh model keeps its picture in tmp. */
const screenshot = (dir: string) => join(dir, 'playground.png');

let nats: NatsServer;
let auScorer: ServiceProcess;
let gateway: ServiceProcess;
let browser: Browser;
let page: Page;
let url: string;

before(async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: apt-get install chromium (scripts/setup-system.sh)`,
  );
  await buildPlayground();
  nats = await startNatsServer();
  auScorer = await startService('au-scorer', {
    timeoutMs: 300_000,
    nats,
    env: { EMOVERSE_LOG_LEVEL: 'warn' },
  });
  gateway = await startService('gateway', {
    timeoutMs: 300_000,
    nats,
    env: {
      EMOVERSE_LOG_LEVEL: 'warn',
      EMOVERSE_PLAYGROUND: 'true',
      EMOVERSE_AUTH_TOKEN: TOKEN,
      EMOVERSE_AU_SCORER_ADDR: auScorer.grpcAddress,
      EMOVERSE_MAX_VIDEO_BYTES: String(1 << 20),
      EMOVERSE_MAX_IMAGE_BYTES: String(1 << 20),
      // A trained model folder (npm run experiment -- m2se) when given, else a fresh emoverse-nano.
      ...(TRAINED
        ? { EMOVERSE_MODEL_DIR: TRAINED }
        : {
            EMOVERSE_MODEL_SEED: '1',
            EMOVERSE_NANO_CORPUS: join(sharedDir(), 'data/m2se_format/meld_dev_er_sample.json'),
          }),
      EMOVERSE_MODEL_CACHE: join(tmp, 'cache'),
    },
  });
  url = `http://${gateway.grpcAddress}/`;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await auScorer?.stop();
  await nats?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Fills the form and submits; resolves when the page shows "Done." or an error. */
async function submit(o: { file?: string; utterance: string; conversation?: string; token?: string }) {
  await page.goto(url, { waitUntil: 'load' });
  if (o.file) await (await page.$('#file'))!.uploadFile(o.file);
  await page.type('#conversation', o.conversation ?? '');
  await page.type('#utterance', o.utterance);
  await page.type('#token', o.token ?? TOKEN);
  await page.click('#analyze');
  await page.waitForFunction(
    () =>
      document.querySelector('#status')?.textContent === 'Done.' ||
      !document.querySelector('#error')?.hasAttribute('hidden'),
    { timeout: 120_000 },
  );
  return page.$eval('#error', (e) => (e.hasAttribute('hidden') ? '' : (e.textContent ?? '')));
}

const count = (selector: string) => page.$$eval(selector, (all) => all.length);
const good = {
  file: clip,
  conversation: 'Monica: Guess who got the job?\nRachel: No way!',
  utterance: 'Monica: I did! I am so happy!',
};

describe('the playground page', () => {
  it('analyses single_face.mp4: peak frame with face box, AU chart, emotion and sentiment bars, causes', async () => {
    assert.equal(await submit(good), '');
    assert.equal(await count('#emotion-bars .bar'), 7);
    assert.equal(await count('#sentiment-bars .bar'), 3);
    assert.ok((await count('#au-chart .bar')) >= 1, 'the AUs at the peak');
    const img = await page.$eval('#peak img', (i) => [
      (i as HTMLImageElement).complete,
      (i as HTMLImageElement).naturalWidth,
    ]);
    assert.deepEqual(img, [true, 640], 'the peak frame, decoded at the clip width');
    assert.equal(await count('#peak svg rect'), 1, 'the face box');
    assert.equal(await count('#peak svg circle.landmark'), 68);
    assert.equal(await count('#turns li'), 3);
    assert.ok((await page.$eval('#rationale', (e) => e.textContent ?? '')).length > 0);
    const dir = TRAINED ? join(repoRoot(), 'results') : tmp;
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: screenshot(dir) as `${string}.png`, fullPage: true });
    assert.ok(existsSync(screenshot(dir)));
  });

  it('shows each bad input as a readable error with its code, and the gateway keeps serving', async () => {
    const notVideo = join(tmp, 'notes.mp4');
    writeFileSync(notVideo, 'these are notes, not a video\n'.repeat(20));
    const big = join(tmp, 'big.mp4');
    writeFileSync(big, Buffer.alloc(3 << 20));
    const cases: [Parameters<typeof submit>[0], RegExp][] = [
      [{ utterance: ' ' }, /target utterance is empty.*\(InvalidArgument\)/],
      [{ file: notVideo, utterance: 'hi' }, /not a video container.*\(InvalidArgument\)/],
      [{ file: big, utterance: 'hi' }, /Too large.*\(ResourceExhausted\)/],
      [{ utterance: 'hi', token: ' ' }, /bearer token.*\(Unauthenticated\)/],
    ];
    for (const [input, pattern] of cases) assert.match(await submit(input), pattern);
    assert.equal(await submit(good), '', 'still serving after the errors');
    assert.equal(await count('#emotion-bars .bar'), 7);
  });
});
