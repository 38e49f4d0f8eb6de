// The model registry: which version of a model the replicas serve, kept in the NATS KV bucket
// `emoverse-models` (key: model id, value: the ModelPublished event as protobuf), and announced on
// `model.published`. A replica that starts reads the KV; a running one follows the events.
//
// A published version's files live in the object store under its BlobRef's name as a prefix:
// `<name>/emoverse.json`, `<name>/llm/model.safetensors`, ... (the folder EmoVerseLM.save writes),
// and an adapter's under `<name>/adapter_config.json` and `<name>/adapter_model.safetensors`.
// They are fetched to a local cache folder before the model worker loads them.
//
// Verified before served: the publisher writes `<name>/sha256sums.json` (each file's SHA-256) and records
// that manifest's digest in the BlobRef (`digest`) it puts in the registry, which only the trainer may
// write. A fetched folder is used only when the manifest matches that digest and every file matches the
// manifest; otherwise it is deleted and DigestMismatchError says which file differs.

import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import {
  type Bus,
  digestManifestName,
  events,
  kvBuckets,
  type Subscription,
  verifyDigestManifest,
  writeDigestManifest,
} from '@emoverse/bus';
import { ADAPTER_FILES, MODEL_FILES } from '@emoverse/models';
import { type BlobRef, type ModelPublished, ModelPublishedSchema } from '@emoverse/proto';

const adapterKey = (modelId: string, name: string) => `${modelId}.adapter.${name}`;

export class ModelRegistry {
  constructor(
    private readonly bus: Bus,
    readonly modelId: string,
    /** Where fetched versions and adapters are kept. */
    readonly cacheDir: string,
  ) {}

  /** The version the registry records for this model id, if any. */
  async current(): Promise<ModelPublished | undefined> {
    const kv = await this.bus.kv(kvBuckets.models);
    const e = await kv.get(this.modelId);
    return e && e.operation === 'PUT' && e.value.length
      ? fromBinary(ModelPublishedSchema, e.value)
      : undefined;
  }

  /** The adapters the registry records for this model id. */
  async adapters(): Promise<ModelPublished[]> {
    const kv = await this.bus.kv(kvBuckets.models);
    const out: ModelPublished[] = [];
    for await (const key of await kv.keys(`${this.modelId}.adapter.>`)) {
      const e = await kv.get(key);
      if (e && e.operation === 'PUT' && e.value.length) out.push(fromBinary(ModelPublishedSchema, e.value));
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
   * Records a version (or an adapter) in KV and announces it. The trainer does this when a run
   * finishes; tests and operators can do it by hand.
   */
  static async publish(bus: Bus, init: MessageInitShape<typeof ModelPublishedSchema>): Promise<void> {
    const p = create(ModelPublishedSchema, init);
    const kv = await bus.kv(kvBuckets.models);
    await kv.put(
      p.adapterName ? adapterKey(p.modelId, p.adapterName) : p.modelId,
      toBinary(ModelPublishedSchema, p),
    );
    await bus.publish(events.modelPublished, p, { msgId: `${p.modelId}/${p.version}/${p.adapterName}` });
  }

  /**
   * Uploads a saved model folder (EmoVerseLM.save) or a PEFT adapter folder to the object store
   * under `name/`, in the layout fetchCheckpoint / fetchAdapter read, with its sha256sums.json (written
   * into `dir`); returns the BlobRef to publish, its digest that of the manifest.
   */
  static async upload(bus: Bus, kind: 'model' | 'adapter', dir: string, bucket: string, name: string) {
    const manifest = await writeDigestManifest(dir, kind === 'model' ? MODEL_FILES : ADAPTER_FILES);
    if (manifest.files.length === 0) throw new Error(`${dir} holds no ${kind} files`);
    for (const file of [...manifest.files, digestManifestName])
      await bus.blobs.putFile(bucket, `${name}/${file}`, join(dir, file));
    return { bucket, name, digest: manifest.digest };
  }

  /** Fetches a version's checkpoint folder; returns the local folder. */
  fetchCheckpoint(p: ModelPublished): Promise<string> {
    if (!p.checkpoint) throw new Error(`version ${p.version} of ${p.modelId} has no checkpoint`);
    return this.fetchFolder(p.checkpoint, MODEL_FILES, join(this.cacheDir, 'models', safe(p.version)));
  }

  /** Fetches an adapter into `<adapterDir>/<name>`, where the model worker looks for it. */
  fetchAdapter(p: ModelPublished): Promise<string> {
    if (!p.adapter || !p.adapterName) throw new Error(`event for ${p.modelId} names no adapter`);
    return this.fetchFolder(p.adapter, ADAPTER_FILES, join(this.adapterDir, safe(p.adapterName)));
  }

  get adapterDir(): string {
    return join(this.cacheDir, 'adapters');
  }

  private async fetchFolder(ref: BlobRef, files: readonly string[], dir: string): Promise<string> {
    // Fetched into a temporary folder and renamed, so a half-fetched version is never loaded.
    const tmp = `${dir}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const fetched: string[] = [];
    for (const file of [...files, digestManifestName]) {
      const blob = { bucket: ref.bucket, name: `${ref.name}/${file}` };
      if (!(await this.bus.blobs.info(blob))) continue;
      mkdirSync(dirname(join(tmp, file)), { recursive: true });
      await this.bus.blobs.getToFile(blob, join(tmp, file));
      fetched.push(file);
    }
    if (fetched.length === 0) throw new Error(`no files under ${ref.bucket}/${ref.name}`);
    try {
      await verifyDigestManifest(tmp, ref.digest, fetched, `${ref.bucket}/${ref.name}`);
    } catch (e) {
      // Nothing of a refused folder stays on disk.
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
    return dir;
  }
}

/** A version or adapter name as a folder name. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}
