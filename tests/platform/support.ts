import { spawnSync } from 'node:child_process';
import { fromBinary } from '@bufbuild/protobuf';
import type { Bus } from '@emoverse/bus';
import { type DeadLetter, DeadLetterSchema } from '@emoverse/proto';

/** A one-second synthetic test-pattern video (no face) made with the real ffmpeg. */
export function makeTestVideo(path: string): string {
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=10',
      '-t',
      '1',
      '-pix_fmt',
      'yuv420p',
      path,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return path;
}

/** Every stored message of a stream whose subject matches, decoded by `decode`. */
export async function storedMessages<T>(
  bus: Bus,
  stream: string,
  subject: string,
  decode: (b: Uint8Array) => T,
): Promise<T[]> {
  const info = await bus.jsm.streams.info(stream);
  const out: T[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (m && m.subject === subject) out.push(decode(m.data));
  }
  return out;
}

export function deadLetters(bus: Bus, originalSubject: string): Promise<DeadLetter[]> {
  return storedMessages(bus, 'EMOVERSE_DEADLETTER', `emoverse.deadletter.${originalSubject}`, (b) =>
    fromBinary(DeadLetterSchema, b),
  );
}

export { eventually } from '@emoverse/testing';
