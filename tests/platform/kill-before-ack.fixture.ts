// Test fixture, loaded with `node --import` into a service process: every work consumer of that process kills it after the handler, before the ack.
import { writeSync } from 'node:fs';
import { Bus, type ConsumeOptions } from '@emoverse/bus';

const consume = Bus.prototype.consume;
Bus.prototype.consume = function (this: Bus, event, handler, options: ConsumeOptions) {
  return consume.call(this, event, handler, {
    ...options,
    faults: {
      beforeAck: async ({ subject, msgId }) => {
        writeSync(2, `fault injection: killing process before ack (${subject} ${msgId})\n`);
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => {});
      },
    },
  });
} as typeof consume;
