// Where a run's EMT shards come from: a folder (manifest.json and <task>/<split>-NNNNN.jsonl inside,
// as packages/emt writes it) or a manifest in the object store, whose shards sit beside it under the
// same prefix. Object-store datasets are fetched once into a local cache folder keyed by the
// manifest's digest, so runs and restarts reuse them.
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { type BlobStore, fetchFolder } from '@emoverse/bus';
import { MODEL_FILES } from '@emoverse/models';
import type { BlobRef } from '@emoverse/proto';
import { RunRejected } from '@emoverse/trainer-core';

/** A dataset or recipe location: a local path, or `os://<bucket>/<name>` for the object store. */
export type Location =
  | { kind: 'path'; path: string }
  | { kind: 'blob'; ref: Pick<BlobRef, 'bucket' | 'name'> };

export function parseLocation(text: string): Location {
  const m = /^os:\/\/([^/]+)\/(.+)$/.exec(text);
  return m ? { kind: 'blob', ref: { bucket: m[1], name: m[2] } } : { kind: 'path', path: text };
}

export function formatLocation(loc: Location): string {
  return loc.kind === 'path' ? loc.path : `os://${loc.ref.bucket}/${loc.ref.name}`;
}

/** A local folder holding the dataset; throws RunRejected when it does not exist. */
export async function resolveDataset(
  loc: Location,
  o: { blobs?: BlobStore; cacheDir: string },
): Promise<string> {
  if (loc.kind === 'path') {
    if (!existsSync(loc.path) || !statSync(loc.path).isDirectory()) {
      throw new RunRejected([`dataset folder ${loc.path} does not exist`]);
    }
    return loc.path;
  }
  if (!o.blobs) throw new RunRejected(['an object-store dataset needs a NATS connection']);
  const info = await o.blobs.info(loc.ref);
  if (!info) throw new RunRejected([`dataset manifest ${formatLocation(loc)} not found in the object store`]);
  const key = (info.digest || info.name).replace(/[^A-Za-z0-9]/g, '').slice(-32);
  const dir = join(o.cacheDir, 'datasets', key);
  if (existsSync(join(dir, 'manifest.json'))) return dir;
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const manifestBytes = await o.blobs.get(loc.ref);
  let manifest: { shards?: { path: string }[] };
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch {
    throw new RunRejected([`dataset manifest ${formatLocation(loc)} is not JSON`]);
  }
  writeFileSync(join(tmp, 'manifest.json'), manifestBytes);
  const prefix = posix.dirname(loc.ref.name);
  for (const s of manifest.shards ?? []) {
    const ref = { bucket: loc.ref.bucket, name: prefix === '.' ? s.path : `${prefix}/${s.path}` };
    if (!(await o.blobs.info(ref))) continue; // reported as a missing shard by the recipe check
    mkdirSync(dirname(join(tmp, s.path)), { recursive: true });
    await o.blobs.getToFile(ref, join(tmp, s.path));
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(tmp, dir);
  return dir;
}

/**
 * A base checkpoint as a local folder: a path as is, or `os://<bucket>/<prefix>` (a published model's
 * folder, e.g. runs/<id>/model) fetched once into the cache. Throws RunRejected when nothing is there.
 */
export async function resolveBaseModel(
  location: string,
  o: { blobs?: BlobStore; cacheDir: string },
): Promise<string> {
  const loc = parseLocation(location);
  if (loc.kind === 'path') return loc.path;
  if (!o.blobs) throw new RunRejected(['an object-store base model needs a NATS connection']);
  const name = `${loc.ref.bucket}-${loc.ref.name}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const dir = join(o.cacheDir, 'models', name);
  if (existsSync(join(dir, 'emoverse.json')) || existsSync(join(dir, 'config.json'))) return dir;
  return fetchFolder(o.blobs, { ref: loc.ref, files: MODEL_FILES, dir }).catch((err: Error) => {
    if (!err.message.startsWith('no files under')) throw err;
    throw new RunRejected([`base model ${location}: no model files under that prefix`]);
  });
}
