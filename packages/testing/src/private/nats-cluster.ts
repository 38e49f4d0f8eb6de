// A three-node JetStream cluster on loopback: real nats-server processes with authenticated routes, each with its own store, running the generated users and permissions.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { eventually, eventuallyWithin } from './eventually.js';
import {
  generatedUsers,
  haltNatsServer,
  type IdentityAccess,
  identityAccess,
  randomPassword,
  spawnNatsServer,
} from './nats-process.js';
import { freePort } from './ports.js';

/** One server of the cluster. */
export interface NatsNode {
  /** server_name, e.g. 'n1': what stream info reports as a leader or replica. */
  name: string;
  /** nats://127.0.0.1:<port> for clients. */
  url: string;
  port: number;
  /** Route port (cluster traffic). */
  clusterPort: number;
  /** HTTP monitoring port (/healthz, /jsz). */
  monitorPort: number;
  /** JetStream store folder, kept while the node is down. */
  storeDir: string;
  /** Whether its process is running. */
  running(): boolean;
}

export interface NatsCluster extends IdentityAccess {
  nodes: NatsNode[];
  /** Every node's client URL (services get them all, comma-separated in NATS_URL). */
  urls: string[];
  /** The node with this server name or index. */
  node(which: string | number): NatsNode;
  /** Kills a node's process (default SIGKILL: no lame duck, no flush) and waits until it exited. */
  kill(which: string | number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again on its ports and store; it rejoins the cluster and catches up. */
  start(which: string | number): Promise<void>;
  /**
   * The server name of the current leader of a stream (e.g. `KV_emoverse-models`), asked of the running
   * nodes; waits for one while the stream elects (at most `waitMs`, default timeoutMs).
   */
  leaderOf(stream: string, waitMs?: number): Promise<string>;
  /**
   * Resolves once every running node answers /healthz ok (its JetStream meta group and every stream and
   * consumer it holds are current), or rejects after timeoutMs (default 30 s).
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node and removes the stores and configs. */
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Nodes (default 3). */
  size?: number;
  /** Milliseconds to wait for the cluster to elect a JetStream meta leader (default 30000). */
  timeoutMs?: number;
}

interface NodeState extends NatsNode {
  confFile: string;
  proc?: ChildProcess;
}

const q = JSON.stringify;

/** One node's config: its listeners, its store, the routes to every node with their own credentials, the users. */
function nodeConfig(node: NodeState, all: NodeState[], route: { user: string; pass: string }, users: string) {
  const routes = all.map((n) => q(`nats-route://${route.user}:${route.pass}@127.0.0.1:${n.clusterPort}`));
  return [
    `server_name: ${q(node.name)}`,
    `listen: ${q(`127.0.0.1:${node.port}`)}`,
    `http: ${q(`127.0.0.1:${node.monitorPort}`)}`,
    `jetstream { store_dir: ${q(node.storeDir)} }`,
    'cluster {',
    '  name: "emoverse"',
    `  listen: ${q(`127.0.0.1:${node.clusterPort}`)}`,
    // Routes log in with a user of their own, not one of the client identities.
    `  authorization { user: ${q(route.user)}, password: ${q(route.pass)} }`,
    `  routes: [${routes.join(', ')}]`,
    '}',
    users,
  ].join('\n');
}

async function makeNode(index: number, confDir: string): Promise<NodeState> {
  const [port, clusterPort, monitorPort] = [await freePort(), await freePort(), await freePort()];
  const node: NodeState = {
    name: `n${index + 1}`,
    url: `nats://127.0.0.1:${port}`,
    port,
    clusterPort,
    monitorPort,
    storeDir: mkdtempSync(join(tmpdir(), `emoverse-nats-n${index + 1}-`)),
    confFile: join(confDir, `n${index + 1}.conf`),
    running: () => node.proc !== undefined && node.proc.exitCode === null && node.proc.signalCode === null,
  };
  return node;
}

/** Whether a node's /healthz says its JetStream is current. */
async function healthy(node: NatsNode): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.monitorPort}/healthz`, {
      signal: AbortSignal.timeout(2_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Starts a JetStream cluster of real nats-server processes on loopback (default three): routes between
 * all of them with their own credentials, a store folder each, and the generated users and permissions
 * of packages/bus. Resolves once every node is healthy (a meta leader is elected and every node current).
 */
export async function startNatsCluster(options: StartClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const confDir = mkdtempSync(join(tmpdir(), 'emoverse-nats-cluster-'));
  const users = generatedUsers();
  const route = { user: 'route', pass: randomPassword() };
  const nodes: NodeState[] = [];
  for (let i = 0; i < size; i++) nodes.push(await makeNode(i, confDir));
  for (const n of nodes)
    writeFileSync(n.confFile, `${nodeConfig(n, nodes, route, users.conf)}\n`, { mode: 0o600 });
  const access = identityAccess(
    nodes.map((n) => n.url),
    users.passwords,
  );

  const node = (which: string | number) => {
    const found = typeof which === 'number' ? nodes[which] : nodes.find((n) => n.name === which);
    if (!found) throw new Error(`no node ${q(which)}: the nodes are ${nodes.map((n) => n.name).join(', ')}`);
    return found;
  };
  const start = async (which: string | number) => {
    const n = node(which);
    if (n.running()) return;
    n.proc = await spawnNatsServer(['-c', n.confFile], users.serverEnv, timeoutMs);
  };
  const kill = async (which: string | number, signal: NodeJS.Signals = 'SIGKILL') => {
    const n = node(which);
    await haltNatsServer(n.proc, signal);
  };
  /** An operator connection to the running nodes, for questions about the cluster. */
  const operator = async <T>(ask: (nc: NatsConnection) => Promise<T>): Promise<T> => {
    const { servers, auth } = access.client('operator');
    const running = nodes.filter((n) => n.running()).map((n) => n.url);
    const nc = await connect({
      servers: running.length ? running : servers,
      user: auth.user,
      pass: auth.pass,
    });
    try {
      return await ask(nc);
    } finally {
      await nc.close();
    }
  };
  const waitHealthy = async (ms = timeoutMs) => {
    const tries = Math.max(1, Math.ceil(ms / 250));
    await eventually(
      async () => (await Promise.all(nodes.filter((n) => n.running()).map(healthy))).every(Boolean),
      `every running NATS node to report /healthz ok`,
      tries,
      250,
    );
    // A meta leader answers account info.
    await eventually(
      () =>
        operator((nc) => nc.jetstreamManager({ timeout: 15_000 }).then((jsm) => jsm.getAccountInfo())).then(
          () => true,
          () => false,
        ),
      'a JetStream meta leader',
      tries,
      250,
    );
  };
  const stop = async () => {
    await Promise.all(nodes.map((n) => haltNatsServer(n.proc)));
    for (const n of nodes) rmSync(n.storeDir, { recursive: true, force: true });
    rmSync(confDir, { recursive: true, force: true });
  };

  try {
    await Promise.all(nodes.map((n) => start(n.name)));
    await waitHealthy();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ...access,
    nodes,
    urls: nodes.map((n) => n.url),
    node,
    kill,
    start,
    waitHealthy,
    stop,
    leaderOf: (stream, waitMs = timeoutMs) =>
      eventuallyWithin(
        () =>
          operator(async (nc) => {
            const info = await (await nc.jetstreamManager({ timeout: 5_000 })).streams.info(stream);
            return info.cluster?.leader;
          }),
        `a leader of stream ${stream}`,
        waitMs,
      ),
  };
}
