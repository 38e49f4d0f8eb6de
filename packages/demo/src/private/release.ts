// Stage 3b of the full demo: the model the project stores as a release artifact (release/models/m2se-nano,
// trained by `npm run experiment -- m2se`), checked against its RELEASE.json and published as the next
// version of the served model id. The five answers and the evaluation then come from a model that learned,
// while the demo's own short training run (stage 3) shows the trainer working.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { type Bus, blobBuckets, ModelRegistry } from '@emoverse/bus';
import type { ModelPublished } from '@emoverse/proto';
import { type Release, verifyRelease } from '@emoverse/trainer-core';

export interface PublishedRelease {
  published: ModelPublished;
  release: Release;
}

/** Verifies the release folder, uploads a copy of it and publishes it as a version of `modelId`. */
export async function publishRelease(
  bus: Bus,
  o: { releaseDir: string; workDir: string; modelId: string },
): Promise<PublishedRelease> {
  const release = verifyRelease(o.releaseDir);
  // the upload writes its digest manifest into the folder: a copy keeps the committed artifact as it is
  const dir = join(o.workDir, 'release');
  rmSync(dir, { recursive: true, force: true });
  cpSync(o.releaseDir, dir, { recursive: true });
  const version = `release-${release.recipe}-seed${release.seed}-${release.commit.replace(/[^0-9a-z]/gi, '')}`;
  const checkpoint = await ModelRegistry.upload(bus, {
    dir,
    files: Object.keys(release.files),
    bucket: blobBuckets.checkpoints,
    name: `releases/${version}/model`,
  });
  const published = await ModelRegistry.publish(bus, {
    modelId: o.modelId,
    version,
    base: release.recipe,
    checkpoint: { ...checkpoint, contentType: 'application/x-emoverse-lm' },
    runId: version,
    publishedAt: timestampNow(),
  });
  return { published, release };
}
