// sha256sums.json: written for the files present, accepted when everything matches, and each kind of difference refused by name.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestManifestName, manifestDigest, verifyDigestManifest, writeDigestManifest } from './digests.js';

test('a manifest lists the present files; verification accepts them and refuses every kind of change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'digests-'));
  try {
    writeFileSync(join(dir, 'a.json'), '{"a":1}');
    writeFileSync(join(dir, 'b.bin'), 'weights');
    const { digest, files } = await writeDigestManifest(dir, ['a.json', 'b.bin', 'absent.bin']);
    assert.deepEqual(files, ['a.json', 'b.bin']);
    assert.match(digest, /^SHA-256=[A-Za-z0-9_-]{43}$/);
    const present = [...files, digestManifestName];
    await verifyDigestManifest(dir, digest, present);

    await assert.rejects(verifyDigestManifest(dir, '', present), /no digest was published/);
    await assert.rejects(
      verifyDigestManifest(dir, manifestDigest('other'), present),
      /sha256sums\.json has digest/,
    );
    writeFileSync(join(dir, 'extra.bin'), 'x');
    await assert.rejects(verifyDigestManifest(dir, digest, [...present, 'extra.bin'], 'bucket/m'), {
      message: 'bucket/m/extra.bin is not in the published manifest',
    });
    writeFileSync(join(dir, 'b.bin'), 'tampered');
    await assert.rejects(
      verifyDigestManifest(dir, digest, present),
      /b\.bin has sha256 [0-9a-f]{64}, but the manifest says/,
    );
    unlinkSync(join(dir, 'b.bin'));
    await assert.rejects(verifyDigestManifest(dir, digest, present), /b\.bin is listed but missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
