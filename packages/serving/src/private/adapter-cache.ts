// Per-request LoRA adapters over one base model: a request names an adapter, which is loaded on
// first use and kept in a least-recently-used cache of bounded size. Concurrent first uses of one
// adapter share a single load. An adapter the loader does not know is a NOT_FOUND error.
//
// Evicting an adapter only drops the cache's reference: requests already holding it finish with it.

import { notFound, ServingError } from './errors.js';

export interface AdapterCacheOptions<A> {
  /** Adapters kept loaded at once. */
  capacity: number;
  /** Loads an adapter by name; resolves undefined when no adapter has that name. */
  load: (name: string) => Promise<A | undefined>;
  /** Called when an adapter leaves the cache (to free its weights). */
  onEvict?: (name: string, adapter: A) => void;
}

export class AdapterCache<A> {
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, A>();
  private readonly loading = new Map<string, Promise<A>>();
  private loads = 0;

  constructor(private readonly options: AdapterCacheOptions<A>) {
    if (options.capacity < 1) throw new RangeError('capacity must be at least 1');
  }

  /** Names of the loaded adapters, least recently used first. */
  get loaded(): string[] {
    return [...this.entries.keys()];
  }

  /** How many times the loader was called (cache misses). */
  get loadCount(): number {
    return this.loads;
  }

  async get(name: string): Promise<A> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
      throw new ServingError(
        'INVALID_ARGUMENT',
        `adapter name '${name.slice(0, 64)}' is not valid (letters, digits, '.', '_' and '-', at most 128)`,
      );
    }
    const hit = this.entries.get(name);
    if (hit !== undefined) {
      this.entries.delete(name);
      this.entries.set(name, hit);
      return hit;
    }
    let pending = this.loading.get(name);
    if (!pending) {
      this.loads++;
      pending = this.options
        .load(name)
        .then((adapter) => {
          if (adapter === undefined) throw notFound(`unknown adapter '${name}'`);
          this.insert(name, adapter);
          return adapter;
        })
        .finally(() => this.loading.delete(name));
      this.loading.set(name, pending);
    }
    return pending;
  }

  /** Drops one adapter (for example when a new version of it is published); the next use reloads it. */
  delete(name: string): void {
    const adapter = this.entries.get(name);
    if (adapter === undefined) return;
    this.entries.delete(name);
    this.options.onEvict?.(name, adapter);
  }

  /** Drops every adapter (for example when the base model changes). */
  clear(): void {
    for (const [name, adapter] of this.entries) this.options.onEvict?.(name, adapter);
    this.entries.clear();
  }

  private insert(name: string, adapter: A): void {
    this.entries.set(name, adapter);
    while (this.entries.size > this.options.capacity) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, A];
      this.entries.delete(oldest);
      this.options.onEvict?.(oldest, evicted);
    }
  }
}
