// Browser access on the gRPC port: the same handlers served over Connect and gRPC-web (connect-node, HTTP/1.1),
// with the same SERVER span, latency histogram and status mapping as gRPC, optional CORS, and a fallback for
// other HTTP requests (e.g. static pages). HTTP/2 connections still go to the grpc-js server.

import * as http from 'node:http';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter, cors, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { extractGrpcMetadata, type Histogram, SpanKind, withSpan } from '@emoverse/telemetry';
import * as grpc from '@grpc/grpc-js';
import type { CallContext } from './server-handlers.js';
import { toServiceError } from './server-handlers.js';

export interface BrowserOptions {
  /** Origins allowed to call from a page elsewhere ('*' for any); empty: no CORS headers (same origin only). */
  corsOrigins?: string[];
  /** Largest request body, checked against Content-Length and message prefixes before the body is read. */
  readMaxBytes?: number;
  /** Serves HTTP requests that are not RPCs (answer and return true), e.g. a page and its assets. */
  fallback?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
}

export interface RegisteredService {
  service: DescService;
  impl: Record<string, unknown>;
}

type Fn = (req: unknown, ctx: CallContext) => unknown;

/** Connect's request headers as gRPC metadata (binary `-bin` headers decoded), so handlers read one shape. */
export function headersToMetadata(headers: Headers): grpc.Metadata {
  const md = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith('-bin')) md.set(key, Buffer.from(value, 'base64'));
    else md.set(key, value);
  });
  return md;
}

/** A thrown handler error as a ConnectError with the same code, message and trailers as over gRPC. */
export function toConnectError(err: unknown): ConnectError {
  const s = toServiceError(err);
  const headers = new Headers();
  for (const [k, v] of Object.entries(s.metadata?.getMap() ?? {})) {
    headers.set(k, Buffer.isBuffer(v) ? v.toString('base64') : String(v));
  }
  return new ConnectError(s.details ?? 'error', (s.code ?? Code.Internal) as Code, headers);
}

function callContext(path: string, ctx: HandlerContext): CallContext {
  const timeout = ctx.timeoutMs();
  return {
    method: path,
    metadata: headersToMetadata(ctx.requestHeader),
    signal: ctx.signal,
    deadline: timeout === undefined ? undefined : new Date(Date.now() + timeout),
    peer: ctx.requestHeader.get('x-forwarded-for') ?? 'http',
  };
}

/** One method as a Connect handler: SERVER span from the caller's traceparent, latency by code, errors mapped. */
function connectMethod(service: DescService, method: DescMethod, fn: Fn, duration: Histogram<string>) {
  const path = `/${service.typeName}/${method.name}`;
  const observe = (start: bigint, code: number) =>
    duration.observe(
      { method: path, code: grpc.status[code] },
      Number(process.hrtime.bigint() - start) / 1e9,
    );
  const traced = <T>(ctx: CallContext, work: () => Promise<T>) =>
    withSpan(`grpc.server ${path}`, work, {
      kind: SpanKind.SERVER,
      parent: extractGrpcMetadata(ctx.metadata),
      attributes: { 'rpc.system': 'connect', 'rpc.service': service.typeName, 'rpc.method': method.name },
    });
  const failed = (start: bigint, err: unknown) => {
    const e = toConnectError(err);
    observe(start, e.code);
    return e;
  };
  if (method.methodKind === 'unary') {
    return async (req: unknown, hctx: HandlerContext) => {
      const start = process.hrtime.bigint();
      const ctx = callContext(path, hctx);
      try {
        const res = await traced(ctx, async () => fn(req, ctx));
        observe(start, grpc.status.OK);
        return res;
      } catch (err) {
        throw failed(start, err);
      }
    };
  }
  if (method.methodKind === 'server_streaming') {
    return async function* (req: unknown, hctx: HandlerContext) {
      const start = process.hrtime.bigint();
      const ctx = callContext(path, hctx);
      try {
        yield* fn(req, ctx) as AsyncIterable<unknown>;
        observe(start, grpc.status.OK);
      } catch (err) {
        throw failed(start, err);
      }
    };
  }
  return undefined;
}

/** Routes for every registered service (unary and server-streaming methods: what browsers can call). */
export function browserRoutes(services: RegisteredService[], duration: Histogram<string>) {
  return (router: ConnectRouter) => {
    for (const { service, impl } of services) {
      const handlers: Record<string, unknown> = {};
      for (const method of service.methods) {
        const h = connectMethod(service, method, impl[method.localName] as Fn, duration);
        if (h) handlers[method.localName] = h;
      }
      router.service(service, handlers as never);
    }
  };
}

/** CORS for allowed origins; answers preflights. Returns true when the request was answered. */
function applyCors(origins: string[], req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const origin = req.headers.origin;
  if (!origin || origins.length === 0) return false;
  if (!origins.includes('*') && !origins.includes(origin)) return false;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
  res.setHeader('Access-Control-Expose-Headers', cors.exposedHeaders.join(', '));
  if (req.method !== 'OPTIONS') return false;
  res.setHeader('Access-Control-Allow-Methods', cors.allowedMethods.join(', '));
  res.setHeader('Access-Control-Allow-Headers', [...cors.allowedHeaders, 'Authorization'].join(', '));
  res.setHeader('Access-Control-Max-Age', '7200');
  res.writeHead(204).end();
  return true;
}

/** The HTTP/1.1 request handler: CORS, then the RPCs, then the fallback, else 404. */
export function browserHandler(
  services: RegisteredService[],
  duration: Histogram<string>,
  options: BrowserOptions,
): http.RequestListener {
  const rpc = connectNodeAdapter({
    routes: browserRoutes(services, duration),
    readMaxBytes: options.readMaxBytes,
    grpc: false,
    grpcWeb: true,
    connect: true,
    fallback: (req, res) => {
      const out = res as http.ServerResponse;
      Promise.resolve(options.fallback?.(req as http.IncomingMessage, out))
        .then((served) => {
          if (!served) out.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        })
        .catch(() => out.writeHead(500).end());
    },
  });
  return (req, res) => {
    if (applyCors(options.corsOrigins ?? [], req, res)) return;
    rpc(req, res);
  };
}

/** The HTTP/2 connection preface starts with these bytes; HTTP/1.x requests never do. */
const PREFACE = Buffer.from('PRI ');

export interface SharedListener {
  port: number;
  /** Stops accepting connections and closes the HTTP/1.1 ones (grpc-js closes its own on shutdown). */
  close(): Promise<void>;
}

/**
 * Listens on host:port and hands each connection over by its first bytes: the HTTP/2 preface to the
 * grpc-js server (as if it had bound the port itself), anything else to the HTTP/1.1 handler.
 */
export async function listenShared(
  host: string,
  port: number,
  grpcServer: grpc.Server,
  handler: http.RequestListener,
): Promise<SharedListener> {
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const web = http.createServer(handler);
  const front = net.createServer((socket) => route(socket, injector, web));
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, host, () => resolve());
  });
  return {
    port: (front.address() as net.AddressInfo).port,
    // Stops accepting at once: waiting for front's close callback would wait for the gRPC connections
    // it handed over, which grpc-js only ends in its own shutdown, after this (a 10 s hang at SIGTERM).
    close: async () => {
      web.closeAllConnections();
      front.close();
    },
  };
}

/**
 * The socket as a stream that starts with the bytes already read. HTTP/2 reads a net.Socket through its
 * native handle, past anything unshifted, so grpc-js gets a JS stream (which HTTP/2 reads as such).
 */
function replayed(socket: net.Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read: () => socket.resume(),
    write: (chunk, encoding, done) => socket.write(chunk, encoding, done),
    final: (done) => socket.end(done),
    destroy: (err, done) => {
      socket.destroy(err ?? undefined);
      done(err);
    },
  });
  stream.push(head);
  socket.on('data', (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

/** Reads until the protocol is known (at most 4 bytes matter), puts the bytes back, hands the socket over. */
function route(
  socket: net.Socket,
  injector: ReturnType<grpc.Server['createConnectionInjector']>,
  web: http.Server,
): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, PREFACE.length);
    if (n < PREFACE.length && seen.subarray(0, n).equals(PREFACE.subarray(0, n))) return;
    socket.off('data', onData);
    if (seen.subarray(0, PREFACE.length).equals(PREFACE)) {
      injector.injectConnection(replayed(socket, seen));
      return;
    }
    socket.pause();
    socket.unshift(seen);
    web.emit('connection', socket);
    socket.resume();
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}
