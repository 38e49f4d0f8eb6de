// SHA-256 manifests of published folders (models, adapters): the publisher writes one beside the files and puts its
// digest in the BlobRef it records in the registry; a reader checks the manifest against that digest and every file
// against the manifest before it uses any of them.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The manifest's file name inside a published folder (and its object-store name under the folder's prefix). */
export const digestManifestName = 'sha256sums.json';

/** `{ algorithm, files: { <relative path>: <hex sha256> } }`, keys sorted. */
export interface DigestManifest {
  algorithm: 'sha256';
  files: Record<string, string>;
}

/** A published folder that does not match what was published: refused, with the reason. */
export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The digest recorded in BlobRef.digest, in the object store's notation: `SHA-256=<base64url>`. */
export function manifestDigest(bytes: Uint8Array | string): string {
  return `SHA-256=${createHash('sha256').update(bytes).digest('base64url')}`;
}

/**
 * Writes `sha256sums.json` into `dir` for those of `files` that exist there, and returns the manifest's
 * digest (for BlobRef.digest) and the files it lists.
 */
export async function writeDigestManifest(
  dir: string,
  files: readonly string[],
): Promise<{ digest: string; files: string[] }> {
  const present = files.filter((f) => f !== digestManifestName && existsSync(join(dir, f))).sort();
  const manifest: DigestManifest = { algorithm: 'sha256', files: {} };
  for (const f of present) manifest.files[f] = await sha256File(join(dir, f));
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, digestManifestName), text);
  return { digest: manifestDigest(text), files: present };
}

/**
 * Checks a fetched folder: its manifest's digest equals `expectedDigest` (from the registry, which only the
 * publisher may write), every file the manifest lists is there with its digest, and `present` (the files
 * fetched) holds nothing the manifest does not list. Throws DigestMismatchError naming what differs.
 */
export async function verifyDigestManifest(
  dir: string,
  expectedDigest: string,
  present: readonly string[],
  /** How messages name the folder (e.g. its object-store bucket/prefix); `dir` unless given. */
  label = dir,
): Promise<void> {
  const where = (f: string) => `${label}/${f}`;
  if (!expectedDigest)
    throw new DigestMismatchError(`${label}: no digest was published, so it cannot be verified`);
  const path = join(dir, digestManifestName);
  if (!existsSync(path)) throw new DigestMismatchError(`${where(digestManifestName)} is missing`);
  const text = readFileSync(path);
  const actual = manifestDigest(text);
  if (actual !== expectedDigest) {
    throw new DigestMismatchError(
      `${where(digestManifestName)} has digest ${actual}, but ${expectedDigest} was published`,
    );
  }
  const manifest = JSON.parse(text.toString('utf8')) as DigestManifest;
  if (manifest.algorithm !== 'sha256' || typeof manifest.files !== 'object')
    throw new DigestMismatchError(`${where(digestManifestName)} is not a sha256 manifest`);
  for (const [file, want] of Object.entries(manifest.files)) {
    if (!existsSync(join(dir, file))) throw new DigestMismatchError(`${where(file)} is listed but missing`);
    const got = await sha256File(join(dir, file));
    if (got !== want)
      throw new DigestMismatchError(`${where(file)} has sha256 ${got}, but the manifest says ${want}`);
  }
  for (const file of present) {
    if (file !== digestManifestName && !(file in manifest.files))
      throw new DigestMismatchError(`${where(file)} is not in the published manifest`);
  }
}
