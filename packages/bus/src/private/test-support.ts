// Shared by the bus spec files: the bus's waits are short (200 polls, 50 ms apart).
import { eventually as poll } from '@emoverse/testing';

export const eventually = <T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  tries = 200,
  everyMs = 50,
): Promise<T> => poll(probe, what, tries, everyMs);
