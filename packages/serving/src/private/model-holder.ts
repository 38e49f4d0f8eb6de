// The model a replica serves, and its hot replacement. A new version is loaded in the background
// while the current one keeps serving; the switch is one assignment, so every request sees either
// the old model or the new one, whole. The old model is disposed only once the last request that
// was using it has finished, so a reload never fails an in-flight request.

import { ServingError } from './errors.js';

interface Slot<M> {
  version: string;
  model: M;
  users: number;
  retired: boolean;
}

export interface ModelHolderOptions<M> {
  load: (version: string) => Promise<M>;
  dispose?: (model: M, version: string) => void | Promise<void>;
  /** Called after each switch (for logs and metrics). */
  onSwitch?: (version: string, previous: string | undefined) => void;
}

export class ModelHolder<M> {
  private current: Slot<M> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private wanted: string | undefined;

  constructor(private readonly options: ModelHolderOptions<M>) {}

  /** True once a model is loaded: the replica's readiness. */
  get ready(): boolean {
    return this.current !== undefined;
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  /**
   * Runs `fn` with the current model. The model is not disposed before `fn` settles, even if a
   * new version is switched in meanwhile.
   */
  async use<T>(fn: (model: M, version: string) => Promise<T>): Promise<T> {
    const slot = this.current;
    if (!slot) throw new ServingError('UNAVAILABLE', 'no model is loaded yet');
    slot.users++;
    try {
      return await fn(slot.model, slot.version);
    } finally {
      slot.users--;
      if (slot.retired && slot.users === 0) await this.disposeSlot(slot);
    }
  }

  /**
   * Loads `version` in the background and switches to it once loaded. Loads run one at a time;
   * when several are requested while one is loading, only the latest is loaded next. Resolves
   * when the requested version is current (or superseded); rejects if its load failed, in which
   * case the previous version keeps serving.
   */
  load(version: string): Promise<void> {
    this.wanted = version;
    const next = this.chain.then(async () => {
      if (this.wanted !== version || this.current?.version === version) return;
      const model = await this.options.load(version);
      const previous = this.current;
      this.current = { version, model, users: 0, retired: false };
      this.options.onSwitch?.(version, previous?.version);
      if (previous) {
        previous.retired = true;
        if (previous.users === 0) await this.disposeSlot(previous);
      }
    });
    this.chain = next.catch(() => {});
    return next;
  }

  /** Disposes the current model (at shutdown); later `use` calls fail with UNAVAILABLE. */
  async close(): Promise<void> {
    await this.chain;
    const slot = this.current;
    this.current = undefined;
    if (slot) {
      slot.retired = true;
      if (slot.users === 0) await this.disposeSlot(slot);
    }
  }

  private async disposeSlot(slot: Slot<M>): Promise<void> {
    await this.options.dispose?.(slot.model, slot.version);
  }
}
