// Blobs (frames, videos, datasets, checkpoints, adapters) in the JetStream Object Store, by BlobRef.
// While no stream leader answers (a node down, an election), reads and writes are tried again for
// EMOVERSE_BUS_PUBLISH_RETRY_MS (30 s), then fail with BusUnavailableError; a write that is tried again
// replaces the object whole (the Object Store writes new chunks, then points the name at them).
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { create } from '@bufbuild/protobuf';
import { type BlobRef, BlobRefSchema } from '@emoverse/proto';
import type { ObjectInfo, ObjectStore } from 'nats';
import { envMs } from './options.js';
import { BusUnavailableError } from './publish.js';
import { retryWhileUnavailable } from './retry.js';

const NAME = /^[^\s*>]+$/;

/** Blobs (frames, videos, datasets, checkpoints, adapters) in the JetStream Object Store, addressed by BlobRef. */
export class BlobStore {
  private readonly stores = new Map<string, Promise<ObjectStore>>();

  /** `open` opens a declared bucket (Bus: topology.ts's openObjectStore with the configured replicas). */
  constructor(private readonly open: (bucket: string) => Promise<ObjectStore>) {}

  private store(bucket: string): Promise<ObjectStore> {
    let s = this.stores.get(bucket);
    if (!s) {
      s = this.open(bucket);
      this.stores.set(bucket, s);
      // A failed open (e.g. NATS unreachable) is tried again on the next call.
      s.catch(() => this.stores.delete(bucket));
    }
    return s;
  }

  /** Runs `op` on the bucket's store, again while no leader answers (a bucket whose open failed is opened anew). */
  private withStore<T>(bucket: string, what: string, op: (os: ObjectStore) => Promise<T>): Promise<T> {
    return retryWhileUnavailable(
      envMs('EMOVERSE_BUS_PUBLISH_RETRY_MS', 30_000),
      async () => op(await this.store(bucket)),
      (last, attempts, waited) => new BusUnavailableError(bucket, attempts, waited, last, what),
    );
  }

  private ref(bucket: string, info: ObjectInfo, contentType: string): BlobRef {
    return create(BlobRefSchema, {
      bucket,
      name: info.name,
      contentType,
      size: BigInt(info.size),
      digest: info.digest,
    });
  }

  private static check(name: string): void {
    if (!NAME.test(name)) throw new Error(`invalid blob name ${JSON.stringify(name)}`);
  }

  /** Stores bytes under bucket/name (replacing any previous object of that name). */
  async put(
    bucket: string,
    name: string,
    data: Uint8Array,
    contentType = 'application/octet-stream',
  ): Promise<BlobRef> {
    BlobStore.check(name);
    const info = await this.withStore(bucket, `write blob ${bucket}/${name}`, (os) =>
      os.putBlob({ name, headers: undefined, description: contentType }, data),
    );
    return this.ref(bucket, info, contentType);
  }

  /** Streams a file into bucket/name without holding it in memory. */
  async putFile(
    bucket: string,
    name: string,
    path: string,
    contentType = 'application/octet-stream',
  ): Promise<BlobRef> {
    BlobStore.check(name);
    const info = await this.withStore(bucket, `write blob ${bucket}/${name}`, (os) => {
      const stream = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
      return os.put({ name, description: contentType }, stream);
    });
    return this.ref(bucket, info, contentType);
  }

  /** The bytes of a blob; throws when it does not exist. */
  async get(ref: Pick<BlobRef, 'bucket' | 'name'>): Promise<Uint8Array> {
    const data = await this.withStore(ref.bucket, `read blob ${ref.bucket}/${ref.name}`, (os) =>
      os.getBlob(ref.name),
    );
    if (data === null) throw new Error(`blob ${ref.bucket}/${ref.name} not found`);
    return data;
  }

  /** Streams a blob to a file; throws when it does not exist. The digest is verified by the client. */
  async getToFile(ref: Pick<BlobRef, 'bucket' | 'name'>, path: string): Promise<void> {
    await this.withStore(ref.bucket, `read blob ${ref.bucket}/${ref.name}`, async (os) => {
      const result = await os.get(ref.name);
      if (result === null) throw new Error(`blob ${ref.bucket}/${ref.name} not found`);
      const source = Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>);
      await pipeline(source, createWriteStream(path) as Writable);
      const error = await result.error;
      if (error) throw error;
    });
  }

  /** Metadata of a blob, or undefined. */
  async info(ref: Pick<BlobRef, 'bucket' | 'name'>): Promise<BlobRef | undefined> {
    const info = await this.withStore(ref.bucket, `read blob ${ref.bucket}/${ref.name}`, (os) =>
      os.info(ref.name),
    );
    if (!info || info.deleted) return undefined;
    return this.ref(ref.bucket, info, info.description ?? '');
  }

  async delete(ref: Pick<BlobRef, 'bucket' | 'name'>): Promise<void> {
    await this.withStore(ref.bucket, `delete blob ${ref.bucket}/${ref.name}`, (os) => os.delete(ref.name));
  }
}
