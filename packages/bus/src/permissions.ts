// Who may do what on the bus: one NATS identity per service and the subjects each may publish and subscribe, written once.
// The chart's NATS config (deploy/helm/emoverse/files/nats-authorization.conf), the local stack of
// @emoverse/testing and the typed manifests of @emoverse/k8s are all generated from this table.
import { blobBuckets, type EventDef, events, kvBuckets, streamSubject } from './subjects.js';

/** The NATS users of EmoVerse: one per service, and `operator` for people, the demo and tests. */
export const identityNames = [
  'frame-extractor',
  'au-scorer',
  'caption-generator',
  'trainer',
  'gateway',
  'operator',
] as const;
export type Identity = (typeof identityNames)[number];

/** What one identity does on the bus, in the bus's own terms (events, KV buckets, object-store buckets). */
export interface Grant {
  /** One line: who uses this identity. */
  about: string;
  /** Events it publishes. */
  publishes: EventDef[];
  /** Work events it consumes through a durable pull consumer (it may also dead-letter them). */
  consumes: EventDef[];
  /** Broadcast events it reads through ordered consumers. */
  subscribes: EventDef[];
  /** KV buckets it reads and writes (kvWrite implies read). */
  kvRead: string[];
  kvWrite: string[];
  /** Object-store buckets it reads and writes (blobWrite implies read). */
  blobRead: string[];
  blobWrite: string[];
  /** Everything under emoverse.>, $JS.API.>, $KV.>, $O.> (the operator only). */
  everything?: boolean;
}

const none = {
  publishes: [],
  consumes: [],
  subscribes: [],
  kvRead: [],
  kvWrite: [],
  blobRead: [],
  blobWrite: [],
};

/**
 * The permission table. Derived from what each service does (grep `bus.` in services/*): e.g. only the
 * trainer publishes model.published and writes the model registry KV and the checkpoint/adapter stores;
 * the gateway only reads them.
 */
export const grants: Record<Identity, Grant> = {
  'frame-extractor': {
    ...none,
    about: 'reads video work, writes frames and video job state, publishes frame batches',
    consumes: [events.videoSubmitted],
    publishes: [events.framesExtracted, events.jobState],
    kvWrite: [kvBuckets.jobs],
    blobRead: [blobBuckets.videos],
    blobWrite: [blobBuckets.videos, blobBuckets.frames],
  },
  'au-scorer': {
    ...none,
    about: 'reads frame batches and frames, writes video job state, publishes AU scores',
    consumes: [events.framesExtracted],
    publishes: [events.auScored, events.jobState],
    kvWrite: [kvBuckets.jobs],
    blobRead: [blobBuckets.videos, blobBuckets.frames],
    blobWrite: [blobBuckets.frames],
  },
  'caption-generator': {
    ...none,
    about: 'reads AU scores and source records, publishes EMT records',
    consumes: [events.auScored, events.sourceRecord],
    publishes: [events.emtRecord],
  },
  trainer: {
    ...none,
    about: 'runs training, writes job state, checkpoints and adapters, publishes models',
    publishes: [events.trainingProgress, events.modelPublished, events.jobState],
    subscribes: [events.trainingProgress, events.modelPublished],
    kvWrite: [kvBuckets.jobs, kvBuckets.models],
    blobRead: [blobBuckets.datasets],
    blobWrite: [blobBuckets.checkpoints, blobBuckets.adapters],
  },
  gateway: {
    ...none,
    about: 'serves the published model: reads the registry, checkpoints and adapters',
    subscribes: [events.modelPublished],
    kvRead: [kvBuckets.models],
    blobRead: [blobBuckets.checkpoints, blobBuckets.adapters],
  },
  operator: {
    ...none,
    about: 'people, the demo and tests: submits work, uploads datasets, administers streams',
    everything: true,
  },
};

/** NATS subject permissions of one user. */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** The reply prefix of an identity: replies (JetStream API answers, deliveries) come only to its own inboxes. */
export function inboxPrefix(identity: Identity): string {
  return `_INBOX_${identity.replace(/[^A-Za-z0-9]/g, '_')}`;
}

const api = '$JS.API';

/** Create (and, for writers, update) a stream, and read its info. */
function streamManage(stream: string, update: boolean): string[] {
  return [
    `${api}.STREAM.INFO.${stream}`,
    `${api}.STREAM.CREATE.${stream}`,
    ...(update ? [`${api}.STREAM.UPDATE.${stream}`] : []),
  ];
}

/** Read a stream: its info (where a subscription starts), get messages, create/read/delete consumers on it, pull, flow control. */
function streamRead(stream: string): string[] {
  return [
    `${api}.STREAM.INFO.${stream}`,
    `${api}.STREAM.MSG.GET.${stream}`,
    `${api}.DIRECT.GET.${stream}`,
    `${api}.DIRECT.GET.${stream}.>`,
    `${api}.CONSUMER.CREATE.${stream}`,
    `${api}.CONSUMER.CREATE.${stream}.>`,
    `${api}.CONSUMER.INFO.${stream}.>`,
    `${api}.CONSUMER.DELETE.${stream}.>`,
    `${api}.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

const kvStream = (bucket: string) => `KV_${bucket}`;
const objStream = (bucket: string) => `OBJ_${bucket}`;

/** The streams an identity declares at connect (Bus.connect with `identity`). */
export function eventsOf(identity: Identity): EventDef[] {
  const g = grants[identity];
  if (g.everything) return Object.values(events);
  const out = new Set<EventDef>([...g.publishes, ...g.consumes, ...g.subscribes]);
  if (g.consumes.length) out.add(events.deadLetter);
  return [...out];
}

/** The NATS permissions of an identity, expanded from its grant. Sorted and without repeats. */
export function natsPermissions(identity: Identity): NatsPermissions {
  const g = grants[identity];
  const inbox = `${inboxPrefix(identity)}.>`;
  if (g.everything) {
    return {
      publish: ['emoverse.>', `${api}.>`, '$JS.ACK.>', '$JS.FC.>', '$KV.>', '$O.>', '_INBOX.>', `${inbox}`],
      subscribe: ['emoverse.>', '$JS.EVENT.>', '_INBOX.>', inbox],
    };
  }
  // INFO: the account check of every JetStream client; STREAM.NAMES: a push subscription finds its stream
  // (object-store reads). Both only list, they change nothing.
  const pub = new Set<string>([`${api}.INFO`, `${api}.STREAM.NAMES`]);
  const sub = new Set<string>([inbox]);
  const add = (set: Set<string>, items: string[]) => {
    for (const s of items) set.add(s);
  };
  const writesStream = new Set<string>();
  for (const e of g.publishes) {
    pub.add(e.tokenized ? streamSubject(e) : e.subject);
    writesStream.add(e.stream);
  }
  const consumes = [...g.consumes];
  if (consumes.length) {
    // A consumer dead-letters what it cannot handle and remembers what it handled (KV markers).
    pub.add(streamSubject(events.deadLetter));
    writesStream.add(events.deadLetter.stream);
  }
  for (const e of eventsOf(identity)) add(pub, streamManage(e.stream, writesStream.has(e.stream)));
  for (const e of consumes) {
    add(pub, streamRead(e.stream));
    add(pub, [
      `${api}.CONSUMER.DURABLE.CREATE.${e.stream}.>`,
      `$JS.ACK.${e.stream}.>`,
      // The max-deliveries advisory handler moves the message to the dead letters.
      `${api}.STREAM.MSG.DELETE.${e.stream}`,
    ]);
    sub.add(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${e.stream}.>`);
  }
  for (const e of g.subscribes) add(pub, streamRead(e.stream));

  const kvWrite = [...g.kvWrite, ...(consumes.length ? [kvBuckets.processed] : [])];
  for (const b of new Set([...g.kvRead, ...kvWrite])) {
    const writes = kvWrite.includes(b);
    add(pub, streamManage(kvStream(b), writes));
    add(pub, streamRead(kvStream(b)));
    if (writes) pub.add(`$KV.${b}.>`);
  }
  for (const b of new Set([...g.blobRead, ...g.blobWrite])) {
    const writes = g.blobWrite.includes(b);
    add(pub, streamManage(objStream(b), writes));
    add(pub, streamRead(objStream(b)));
    // A put replaces the previous chunks of the name (purge); a delete purges them too.
    if (writes) add(pub, [`$O.${b}.>`, `${api}.STREAM.PURGE.${objStream(b)}`]);
  }
  return { publish: [...pub].sort(), subscribe: [...sub].sort() };
}

/** The environment variable holding an identity's password, e.g. NATS_PASSWORD_FRAME_EXTRACTOR. */
export function passwordVariable(identity: Identity): string {
  return `NATS_PASSWORD_${identity.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

const quote = (s: string) => JSON.stringify(s);

/**
 * The nats-server `authorization { users = [...] }` block for every identity: user + password, the
 * password read by nats-server from the environment variable passwordVariable(identity) (the chart
 * fills them from a Secret; the local stack with random ones). `no_auth_user` is not set: a client
 * without credentials is refused.
 */
export function natsAuthorizationConfig(): string {
  const lines = [
    '# Generated from packages/bus/src/permissions.ts (npm run nats:authorization -w @emoverse/bus); do not edit.',
    'authorization {',
    '  users = [',
  ];
  for (const id of identityNames) {
    const p = natsPermissions(id);
    lines.push(
      `    # ${id}: ${grants[id].about}`,
      `    { user: ${quote(id)}, password: $${passwordVariable(id)}, permissions: {`,
      `        publish: { allow: [${p.publish.map(quote).join(', ')}] }`,
      `        subscribe: { allow: [${p.subscribe.map(quote).join(', ')}] }`,
      '    } }',
    );
  }
  lines.push('  ]', '}');
  return `${lines.join('\n')}\n`;
}
