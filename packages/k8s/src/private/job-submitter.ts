// Submits a training Job through the Kubernetes API and follows it until it ends, reporting each change
// of state. A trainer controller that restarts finds its Job already there and simply follows it again.
import { BatchV1Api, KubeConfig, type V1Job, Watch } from '@kubernetes/client-node';

export type JobPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Deleted';

export interface JobStateChange {
  name: string;
  phase: JobPhase;
  previous: JobPhase | undefined;
  /** Reason and message of the condition that ended the Job (e.g. BackoffLimitExceeded), if any. */
  reason?: string;
  message?: string;
  job?: V1Job;
}

export const terminalPhases: ReadonlySet<JobPhase> = new Set(['Succeeded', 'Failed', 'Deleted']);

/** The Job's phase from its status: conditions first (they are final), then active pods. */
export function jobPhase(job: V1Job): { phase: JobPhase; reason?: string; message?: string } {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { phase: 'Succeeded', reason: c.reason, message: c.message };
    if (c.type === 'Failed') return { phase: 'Failed', reason: c.reason, message: c.message };
  }
  if ((job.status?.active ?? 0) > 0 || (job.status?.ready ?? 0) > 0) return { phase: 'Running' };
  return { phase: 'Pending' };
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Watches the server ended before the Job did, that are reopened before giving up. */
  maxReconnects?: number;
}

function statusCode(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code =
    (e as { code?: unknown; statusCode?: unknown }).code ?? (e as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

export class JobSubmitter {
  readonly namespace: string;
  private readonly batch: BatchV1Api;
  private readonly watcher: Watch;

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.namespace = namespace;
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.watcher = new Watch(kubeConfig);
  }

  /** In a pod: the service account token and the namespace from the downward API (POD_NAMESPACE). */
  static inCluster(namespace = process.env.POD_NAMESPACE ?? 'default'): JobSubmitter {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new JobSubmitter(kc, namespace);
  }

  /** Creates the Job; if one of that name exists (a restarted controller), returns the existing one. */
  async submit(job: V1Job): Promise<V1Job> {
    const name = job.metadata?.name;
    if (!name) throw new Error('a Job needs metadata.name');
    try {
      return await this.batch.createNamespacedJob({ namespace: this.namespace, body: job });
    } catch (e) {
      if (statusCode(e) === 409) return this.batch.readNamespacedJob({ name, namespace: this.namespace });
      throw new Error(
        `creating Job ${this.namespace}/${name} failed (HTTP ${statusCode(e) ?? '?'}): ${describe(e)}`,
      );
    }
  }

  /**
   * Follows Job `name` until Succeeded, Failed or Deleted, calling onChange once per change of phase
   * (the first call reports the phase it found). Resolves with the last change.
   */
  async watch(
    name: string,
    onChange: (change: JobStateChange) => void,
    options: WatchOptions = {},
  ): Promise<JobStateChange> {
    const maxReconnects = options.maxReconnects ?? 100;
    let previous: JobPhase | undefined;
    let last: JobStateChange | undefined;
    const report = (job: V1Job | undefined, phase: JobPhase, reason?: string, message?: string) => {
      if (phase === previous) return;
      last = { name, phase, previous, reason, message, job };
      previous = phase;
      onChange(last);
    };

    for (let attempt = 0; attempt <= maxReconnects; attempt++) {
      if (options.signal?.aborted) throw new Error(`watching Job ${name} was cancelled`);
      // Read first: a fresh phase, and the resourceVersion to watch from without missing events.
      let job: V1Job;
      try {
        job = await this.batch.readNamespacedJob({ name, namespace: this.namespace });
      } catch (e) {
        if (statusCode(e) === 404) {
          report(undefined, 'Deleted');
          return last as JobStateChange;
        }
        throw new Error(`reading Job ${this.namespace}/${name} failed: ${describe(e)}`);
      }
      const now = jobPhase(job);
      report(job, now.phase, now.reason, now.message);
      if (terminalPhases.has(now.phase)) return last as JobStateChange;

      const ended = await new Promise<'terminal' | 'closed'>((resolve, reject) => {
        let settled = false;
        let controller: AbortController | undefined;
        const finish = (how: 'terminal' | 'closed', err?: unknown) => {
          if (settled) return;
          settled = true;
          options.signal?.removeEventListener('abort', onAbort);
          controller?.abort();
          if (err) reject(err);
          else resolve(how);
        };
        const onAbort = () => finish('closed', new Error(`watching Job ${name} was cancelled`));
        options.signal?.addEventListener('abort', onAbort, { once: true });
        this.watcher
          .watch(
            `/apis/batch/v1/namespaces/${this.namespace}/jobs`,
            {
              fieldSelector: `metadata.name=${name}`,
              resourceVersion: job.metadata?.resourceVersion,
              allowWatchBookmarks: true,
            },
            (type: string, obj: V1Job) => {
              if (type === 'BOOKMARK' || type === 'ERROR') return;
              if (type === 'DELETED') report(obj, 'Deleted');
              else {
                const p = jobPhase(obj);
                report(obj, p.phase, p.reason, p.message);
              }
              if (previous && terminalPhases.has(previous)) finish('terminal');
            },
            // A watch that ends (server timeout, 410 Gone, dropped connection) is reopened after a fresh read;
            // one the server refuses (no RBAC for watch) is not.
            (err: unknown) => {
              const code = statusCode(err);
              if (code === 401 || code === 403)
                finish('closed', new Error(`watching Job ${name} was refused (HTTP ${code})`));
              else finish('closed');
            },
          )
          .then(
            (c) => {
              controller = c;
              if (settled) c.abort();
            },
            () => finish('closed'),
          );
      });
      if (ended === 'terminal') return last as JobStateChange;
    }
    throw new Error(`watching Job ${name}: the watch closed ${maxReconnects + 1} times before the Job ended`);
  }

  /** submit + watch: the whole life of one training run. */
  async run(
    job: V1Job,
    onChange: (change: JobStateChange) => void,
    options?: WatchOptions,
  ): Promise<JobStateChange> {
    const created = await this.submit(job);
    return this.watch(created.metadata?.name as string, onChange, options);
  }

  /**
   * The Jobs matching a label selector (e.g. trainingJobSelector(release)) with their phases: the
   * controller counts the unfinished ones against maxConcurrentJobs, and re-attaches to them after a restart.
   */
  async list(labelSelector: string): Promise<Array<{ name: string; phase: JobPhase; job: V1Job }>> {
    const list = await this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector });
    return list.items.map((job) => ({ name: job.metadata?.name as string, phase: jobPhase(job).phase, job }));
  }

  /** Deletes the Job and its pods (cancelling a run). */
  async cancel(name: string): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.namespace,
        propagationPolicy: 'Background',
      });
    } catch (e) {
      if (statusCode(e) !== 404)
        throw new Error(`deleting Job ${this.namespace}/${name} failed: ${describe(e)}`);
    }
  }
}

/** The API server's Status message when there is one, else the error's own. */
function describe(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {}
    return body;
  }
  if (body && typeof body === 'object' && 'message' in body)
    return String((body as { message: unknown }).message);
  return (e as Error).message ?? String(e);
}
