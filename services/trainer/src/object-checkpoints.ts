// Checkpoints of a run in the NATS Object Store (bucket emoverse-checkpoints), so that a trainer
// process killed on any node can be restarted anywhere and continue where the last checkpoint left it.
// Layout under <prefix>: step-000000012/<file> for each file, then `latest.json` naming the step and
// its files. latest.json is written last: a crash mid-save leaves the previous checkpoint as latest;
// the superseded checkpoint is deleted only after the pointer moved.
import type { BlobStore } from '@emoverse/bus';
import type { Checkpoint, CheckpointStore } from '@emoverse/m2se';
import type { BlobRef } from '@emoverse/proto';

interface Pointer {
  step: number;
  files: string[];
}

const stepName = (step: number) => `step-${String(step).padStart(9, '0')}`;

export class ObjectStoreCheckpointStore implements CheckpointStore {
  /** Refs of the checkpoints written by this process (reported in the Run and the job state). */
  readonly written: BlobRef[] = [];

  constructor(
    private readonly blobs: BlobStore,
    readonly bucket: string,
    /** e.g. runs/<run id>/checkpoints/stages */
    readonly prefix: string,
    private readonly onSaved?: (step: number, ref: BlobRef) => void | Promise<void>,
  ) {}

  private pointerName(): string {
    return `${this.prefix}/latest.json`;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    const dir = `${this.prefix}/${stepName(checkpoint.step)}`;
    for (const [file, bytes] of Object.entries(checkpoint.files)) {
      await this.blobs.put(this.bucket, `${dir}/${file}`, bytes);
    }
    const previous = await this.pointer();
    const pointer: Pointer = { step: checkpoint.step, files: Object.keys(checkpoint.files) };
    const ref = await this.blobs.put(
      this.bucket,
      this.pointerName(),
      new TextEncoder().encode(JSON.stringify(pointer)),
      'application/json',
    );
    this.written.push(ref);
    // the pointer has moved: the superseded checkpoint is no longer needed
    if (previous && previous.step !== checkpoint.step) {
      for (const file of previous.files) {
        await this.blobs
          .delete({ bucket: this.bucket, name: `${this.prefix}/${stepName(previous.step)}/${file}` })
          .catch(() => undefined);
      }
    }
    await this.onSaved?.(checkpoint.step, { ...ref, name: dir });
  }

  private async pointer(): Promise<Pointer | undefined> {
    const ref = { bucket: this.bucket, name: this.pointerName() };
    if (!(await this.blobs.info(ref))) return undefined;
    return JSON.parse(new TextDecoder().decode(await this.blobs.get(ref))) as Pointer;
  }

  async latest(): Promise<Checkpoint | undefined> {
    const p = await this.pointer();
    if (!p) return undefined;
    const files: Record<string, Uint8Array> = {};
    for (const f of p.files) {
      files[f] = await this.blobs.get({
        bucket: this.bucket,
        name: `${this.prefix}/${stepName(p.step)}/${f}`,
      });
    }
    return { step: p.step, files };
  }
}
