// JSON logs (pino) tagged with the service name and the active trace_id and span_id.
import { type DestinationStream, type Logger, pino } from 'pino';
import { activeTraceIds } from './spans.js';

export type { Logger };

/**
 * JSON logs (pino) tagged with the service name and, inside a span, the active trace_id and span_id,
 * so a log line can be found from a trace and the other way round.
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    mixin: () => activeTraceIds(),
  };
  // Synchronous stdout: the last lines before a crash (or a SIGKILL) are not lost in a buffer.
  return pino(options, destination ?? pino.destination({ fd: 1, sync: true }));
}
