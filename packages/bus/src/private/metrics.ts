// Prometheus metrics of a bus: what consumers did with each message and how long handlers took.
import { Counter, Histogram, type Registry } from '@emoverse/telemetry';

/** Prometheus metrics of a bus: what consumers did with each message, and how long handlers took. */
export class BusMetrics {
  readonly messages: Counter<'subject' | 'durable' | 'outcome'>;
  readonly handlerSeconds: Histogram<'subject' | 'durable'>;
  readonly published: Counter<'subject'>;

  constructor(registry: Registry) {
    this.messages = new Counter({
      name: 'emoverse_bus_messages_total',
      help: 'Messages settled by work consumers, by outcome (ok, retry, dead_letter, duplicate)',
      labelNames: ['subject', 'durable', 'outcome'],
      registers: [registry],
    });
    this.handlerSeconds = new Histogram({
      name: 'emoverse_bus_handler_duration_seconds',
      help: 'Time a work-event handler took',
      labelNames: ['subject', 'durable'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 120],
      registers: [registry],
    });
    this.published = new Counter({
      name: 'emoverse_bus_published_total',
      help: 'Events published (including de-duplicated re-publishes)',
      labelNames: ['subject'],
      registers: [registry],
    });
  }
}
