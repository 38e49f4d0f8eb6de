// A loopback HTTP server that speaks just enough of the Kubernetes API for JobSubmitter's tests:
// create/read/delete batch/v1 Jobs and stream watch events. It is a test peer for the client, not a
// stand-in for validation: it applies the same schema checks (validateObject) to what it receives and
// answers 422 like an API server would.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { V1Job, V1JobStatus } from '@kubernetes/client-node';
import { validateObject } from './validate.js';

interface Watcher {
  name: string;
  res: ServerResponse;
}

export class FakeApiServer extends EventEmitter {
  readonly jobs = new Map<string, V1Job>();
  /** "METHOD path" of every request, in order. */
  readonly requests: string[] = [];
  readonly authorizations: string[] = [];
  /** Answer 403 to creates (a Role without `create jobs`). */
  forbidCreate = false;
  private resourceVersion = 1;
  private readonly watchers = new Set<Watcher>();
  private server: Server | undefined;

  constructor(readonly namespace: string) {
    super();
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.closeWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** What the Job controller would do: change the status and tell the watchers. */
  setStatus(name: string, status: V1JobStatus): void {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    job.status = status;
    this.bump(job);
    this.send(name, 'MODIFIED', job);
  }

  /** `kubectl delete job`: gone, and the watchers get DELETED. */
  deleteJob(name: string): void {
    const job = this.jobs.get(name);
    if (!job) return;
    this.jobs.delete(name);
    this.bump(job);
    this.send(name, 'DELETED', job);
  }

  /** Ends every open watch, as an API server does at its watch timeout. */
  closeWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  private bump(job: V1Job): void {
    job.metadata = { ...job.metadata, resourceVersion: String(++this.resourceVersion) };
  }

  private send(name: string, type: string, object: unknown): void {
    for (const w of this.watchers) if (w.name === name) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.searchParams.get('watch') ? '?watch' : ''}`);
    this.authorizations.push(req.headers.authorization ?? '');
    const base = `/apis/batch/v1/namespaces/${this.namespace}/jobs`;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);

    if (req.method === 'POST' && url.pathname === base) {
      if (this.forbidCreate) {
        return this.status(
          res,
          403,
          'Forbidden',
          `jobs.batch is forbidden: User "system:serviceaccount:${this.namespace}:x" cannot create resource "jobs"`,
        );
      }
      const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as V1Job;
      const errors = validateObject(job);
      if (errors.length) return this.status(res, 422, 'Invalid', errors.join('; '));
      const name = job.metadata?.name as string;
      if (this.jobs.has(name))
        return this.status(res, 409, 'AlreadyExists', `jobs.batch "${name}" already exists`);
      job.metadata = { ...job.metadata, uid: `uid-${name}`, namespace: this.namespace };
      job.status = {};
      this.bump(job);
      this.jobs.set(name, job);
      return this.json(res, 201, job);
    }
    if (req.method === 'GET' && url.pathname === base && url.searchParams.get('watch') === 'true') {
      const name = (url.searchParams.get('fieldSelector') ?? '').replace(/^metadata\.name=/, '');
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      const watcher = { name, res };
      this.watchers.add(watcher);
      res.on('close', () => {
        this.watchers.delete(watcher);
        this.emit('unwatch', name);
      });
      // Events after the resourceVersion the client listed at: replay the latest state if it moved on.
      const job = this.jobs.get(name);
      const since = Number(url.searchParams.get('resourceVersion') ?? 0);
      if (job && Number(job.metadata?.resourceVersion) > since)
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: job })}\n`);
      this.emit('watch', name);
      return;
    }
    if (req.method === 'GET' && url.pathname === base) {
      // labelSelector of the form k=v,k2=v2 (all the client sends).
      const wanted = (url.searchParams.get('labelSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('='));
      const items = [...this.jobs.values()].filter((j) =>
        wanted.every(([k, v]) => j.metadata?.labels?.[k] === v),
      );
      return this.json(res, 200, {
        apiVersion: 'batch/v1',
        kind: 'JobList',
        metadata: { resourceVersion: String(this.resourceVersion) },
        items,
      });
    }
    const match = new RegExp(`^${base}/([^/]+)$`).exec(url.pathname);
    if (match) {
      const job = this.jobs.get(match[1]);
      if (!job) return this.status(res, 404, 'NotFound', `jobs.batch "${match[1]}" not found`);
      if (req.method === 'GET') return this.json(res, 200, job);
      if (req.method === 'DELETE') {
        this.deleteJob(match[1]);
        return this.json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
      }
    }
    this.status(res, 404, 'NotFound', `${req.method} ${url.pathname} is not served here`);
  }
}
