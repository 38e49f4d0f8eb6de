// A model folder's calibration.json: parsed strictly, and applied by the engine to the version it belongs to.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CALIBRATION_FILE,
  type Calibration,
  labelOffsets,
  parseCalibration,
  readCalibration,
} from './calibration.js';
import { type LoadedModel, loadedModel, TaskEngine } from './engine.js';
import { KeywordModel } from './keyword-model.fixture.js';
import { ModelHolder } from './model-holder.js';

const tmp = mkdtempSync(join(tmpdir(), 'calibration-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const towardSadness: Calibration = {
  format: 'emoverse-calibration/1',
  labelBias: { er: { sadness: 50 } },
};

describe('calibration.json', () => {
  it('gives each label its offset in the label order, 0 where none is named', () => {
    assert.deepEqual(labelOffsets(towardSadness, 'er', ['joy', 'sadness']), [0, 50]);
    assert.deepEqual(labelOffsets(towardSadness, 'msa', ['positive']), [0]);
    assert.deepEqual(labelOffsets(undefined, 'er', ['joy']), [0]);
  });

  it('is read from a model folder, and absent when the folder has none', () => {
    assert.equal(readCalibration(tmp), undefined);
    writeFileSync(join(tmp, CALIBRATION_FILE), JSON.stringify(towardSadness));
    assert.deepEqual(readCalibration(tmp), towardSadness);
  });

  it('refuses text that is not a calibration, naming the file and the field', () => {
    assert.throws(() => parseCalibration('{', 'm/calibration.json'), /m\/calibration\.json: not JSON/);
    assert.throws(() => parseCalibration('{"labelBias":{}}'), /expected \{"format"/);
    assert.throws(
      () => parseCalibration('{"format":"emoverse-calibration/1","labelBias":{"er":{"joy":"x"}}}'),
      /labelBias\.er\.joy is not a finite number/,
    );
  });
});

describe('TaskEngine with a calibrated model', () => {
  async function engineWith(calibration?: Calibration) {
    const holder = new ModelHolder<LoadedModel>({
      load: async (version) => loadedModel(new KeywordModel(version), 2, calibration),
      dispose: (lm) => lm.model.dispose(),
    });
    await holder.load('v1');
    return new TaskEngine(holder, { maxBatchSize: 4, maxWaitMs: 1, maxQueue: 16 });
  }

  it('adds the offsets to the label scores before the argmax, for the task they name only', async () => {
    const plain = await engineWith();
    const calibrated = await engineWith(towardSadness);
    const text = 'I feel such joy today';
    assert.equal((await plain.emotion({ text })).label, 'joy');
    const r = await calibrated.emotion({ text });
    assert.equal(r.label, 'sadness');
    assert.ok(r.probabilities!.find((p) => p.label === 'sadness')!.probability > 0.99);
    assert.equal((await calibrated.sentiment({ text: 'so negative' })).label, 'negative');
  });
});
