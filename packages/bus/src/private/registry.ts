// The model registry, read and written here only: which version of a model the gateways serve, kept in
// the NATS KV bucket `emoverse-models` (key: model id, or `<model id>.adapter.<name>`; value: the
// ModelPublished event as protobuf) and announced on `model.published`. The trainer uploads a finished
// run's folders and publishes them; a gateway that starts reads the KV, a running one follows the events.
//
// A published version's files live in the object store under its BlobRef's name as a prefix:
// `<name>/emoverse.json`, `<name>/llm/model.safetensors`, ... (the folder EmoVerseLM.save writes), and an
// adapter's under `<name>/adapter_config.json` and `<name>/adapter_model.safetensors`. Which files a folder
// holds is packages/models' (MODEL_FILES, ADAPTER_FILES), given by the caller: this package loads no model code.
//
// Verified before served: the publisher writes `<name>/sha256sums.json` (each file's SHA-256) and records
// that manifest's digest in the BlobRef (`digest`) it puts in the registry, which only the trainer may
// write. A fetched folder is used only when the manifest matches that digest and every file matches the
// manifest; otherwise it is deleted and DigestMismatchError says which file differs.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { type BlobRef, type ModelPublished, ModelPublishedSchema } from '@emoverse/proto';
import { digestManifestName, verifyDigestManifest, writeDigestManifest } from '../digests.js';
import { events, kvBuckets } from '../subjects.js';
import type { BlobStore } from './blobs.js';
import type { Bus } from './bus.js';
import type { Subscription } from './subscribe.js';

/** The files of the two kinds of folder the registry moves (packages/models' MODEL_FILES, ADAPTER_FILES). */
export interface RegistryFiles {
  model: readonly string[];
  adapter: readonly string[];
}

export interface ModelRegistryOptions {
  modelId: string;
  /** Where fetched versions and adapters are kept. */
  cacheDir: string;
  files: RegistryFiles;
}

export interface UploadOptions {
  /** The local folder (EmoVerseLM.save or savePeft); its sha256sums.json is written into it. */
  dir: string;
  files: readonly string[];
  bucket: string;
  /** The object-store prefix, e.g. runs/<run id>/model. */
  name: string;
}

const adapterKey = (modelId: string, name: string) => `${modelId}.adapter.${name}`;

/** A KV entry's event, unless the entry was deleted. */
const published = (e: { operation: string; value: Uint8Array } | null) =>
  e && e.operation === 'PUT' && e.value.length ? fromBinary(ModelPublishedSchema, e.value) : undefined;

export class ModelRegistry {
  readonly modelId: string;
  readonly cacheDir: string;

  constructor(
    private readonly bus: Bus,
    private readonly o: ModelRegistryOptions,
  ) {
    this.modelId = o.modelId;
    this.cacheDir = o.cacheDir;
  }

  /** The version the registry records for this model id, if any. */
  async current(): Promise<ModelPublished | undefined> {
    const kv = await this.bus.kv(kvBuckets.models);
    return published(await kv.get(this.modelId));
  }

  /** The adapters the registry records for this model id. */
  async adapters(): Promise<ModelPublished[]> {
    const kv = await this.bus.kv(kvBuckets.models);
    const out: ModelPublished[] = [];
    for await (const key of await kv.keys(`${this.modelId}.adapter.>`)) {
      const p = published(await kv.get(key));
      if (p) out.push(p);
    }
    return out;
  }

  /** Calls `onPublished` for each model.published event of this model id. */
  watch(onPublished: (p: ModelPublished) => Promise<void> | void): Promise<Subscription> {
    return this.bus.subscribe(events.modelPublished, async (p) => {
      if (p.modelId === this.modelId) await onPublished(p);
    });
  }

  /**
   * Records a version (or an adapter) in KV and announces it: the registry first (gateways starting
   * later read it), then the event (running gateways follow it). The trainer does this when a run
   * finishes; tests and operators can do it by hand.
   */
  static async publish(
    bus: Bus,
    init: MessageInitShape<typeof ModelPublishedSchema>,
  ): Promise<ModelPublished> {
    const p = create(ModelPublishedSchema, init);
    const kv = await bus.kv(kvBuckets.models);
    await kv.put(
      p.adapterName ? adapterKey(p.modelId, p.adapterName) : p.modelId,
      toBinary(ModelPublishedSchema, p),
    );
    await bus.publish(events.modelPublished, p, { msgId: `${p.modelId}/${p.version}/${p.adapterName}` });
    return p;
  }

  /**
   * Uploads a saved model folder or a PEFT adapter folder to the object store under `name/`, in the
   * layout fetchCheckpoint / fetchAdapter read, with its sha256sums.json; returns the BlobRef fields to
   * publish, the digest that of the manifest and the size that of every file uploaded.
   */
  static async upload(
    bus: Bus,
    o: UploadOptions,
  ): Promise<Pick<BlobRef, 'bucket' | 'name' | 'size' | 'digest'>> {
    const manifest = await writeDigestManifest(o.dir, o.files);
    if (manifest.files.length === 0) throw new Error(`${o.dir} holds none of ${o.files.join(', ')}`);
    let size = 0n;
    for (const file of [...manifest.files, digestManifestName])
      size += (await bus.blobs.putFile(o.bucket, `${o.name}/${file}`, join(o.dir, file))).size;
    return { bucket: o.bucket, name: o.name, size, digest: manifest.digest };
  }

  /** Fetches a version's checkpoint folder; returns the local folder. */
  fetchCheckpoint(p: ModelPublished): Promise<string> {
    if (!p.checkpoint) throw new Error(`version ${p.version} of ${p.modelId} has no checkpoint`);
    const dir = join(this.cacheDir, 'models', safe(p.version));
    return fetchFolder(this.bus.blobs, { ref: p.checkpoint, files: this.o.files.model, dir, verify: true });
  }

  /** Fetches an adapter into `<adapterDir>/<name>`, where the model worker looks for it. */
  fetchAdapter(p: ModelPublished): Promise<string> {
    if (!p.adapter || !p.adapterName) throw new Error(`event for ${p.modelId} names no adapter`);
    const dir = join(this.adapterDir, safe(p.adapterName));
    return fetchFolder(this.bus.blobs, { ref: p.adapter, files: this.o.files.adapter, dir, verify: true });
  }

  get adapterDir(): string {
    return join(this.cacheDir, 'adapters');
  }
}

export interface FetchFolderOptions {
  /** The folder's bucket and prefix, and for `verify` the digest of its manifest. */
  ref: Pick<BlobRef, 'bucket' | 'name'> & Partial<Pick<BlobRef, 'digest'>>;
  /** The files to fetch (absent ones are skipped), relative to the prefix. */
  files: readonly string[];
  /** The local folder, replaced only once the whole folder is fetched (and verified). */
  dir: string;
  /** Checks the folder against the manifest whose digest `ref.digest` is (a registry's folder). */
  verify?: boolean;
}

/**
 * Fetches the files under an object-store prefix into a local folder: into a temporary folder first and
 * renamed, so a half-fetched folder is never used; with `verify`, nothing of a folder that does not
 * match its published manifest stays on disk. Throws when nothing is there.
 */
export async function fetchFolder(blobs: BlobStore, o: FetchFolderOptions): Promise<string> {
  const { ref, dir } = o;
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const fetched: string[] = [];
  for (const file of o.verify ? [...o.files, digestManifestName] : o.files) {
    const blob = { bucket: ref.bucket, name: `${ref.name}/${file}` };
    if (!(await blobs.info(blob))) continue;
    mkdirSync(dirname(join(tmp, file)), { recursive: true });
    await blobs.getToFile(blob, join(tmp, file));
    fetched.push(file);
  }
  if (fetched.length === 0) throw new Error(`no files under ${ref.bucket}/${ref.name}`);
  if (o.verify) {
    try {
      await verifyDigestManifest(tmp, ref.digest ?? '', fetched, `${ref.bucket}/${ref.name}`);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(tmp, dir);
  return dir;
}

/** A version or adapter name as a folder name. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}
