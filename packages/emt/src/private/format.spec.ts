// The ER and ECPE prompts must equal the paper's released format (data/m2se_format) character for character.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSources } from './build.js';
import { makeRecords } from './records.js';
import { sharedDir } from './testdata.js';

test('ER and ECPE records reproduce the m2se_format samples exactly', async () => {
  const shared = sharedDir();
  const src = loadSources(shared, { ecf2: false });
  const dev = {
    utterances: src.utterances.filter((u) => u.split === 'dev'),
    conversations: src.conversations.filter((c) => c.split === 'dev'),
  };
  const { records } = await makeRecords(dev, { tasks: ['er', 'ecpe'] });
  const byVideo = new Map(records.map((r) => [`${r.task}:${r.videos?.[0]}`, r]));
  const read = (f: string) => JSON.parse(readFileSync(join(shared, 'data', 'm2se_format', f), 'utf8'));
  const er = read('meld_dev_er_sample.json') as { query: string; response: string; videos: string[] }[];
  const ecpe = read('ecf_dev_ecpe_sample.json') as typeof er;
  assert.equal(er.length, 40);
  assert.equal(ecpe.length, 25);
  for (const s of er) {
    const r = byVideo.get(`er:${s.videos[0]}`);
    assert.ok(r, `no ER record for ${s.videos[0]}`);
    assert.deepEqual({ query: r.query, response: r.response, videos: r.videos }, s);
  }
  for (const s of ecpe) {
    const r = byVideo.get(`ecpe:${s.videos[0]}`);
    assert.ok(r, `no ECPE record for ${s.videos[0]}`);
    assert.deepEqual(
      { query: r.query, response: r.response, videos: r.videos },
      { query: s.query, response: s.response, videos: s.videos },
    );
  }
});
