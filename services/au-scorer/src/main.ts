// au-scorer: faces -> 17 AU intensities per frame -> S_f -> peaks (shell: wiring only).
import { events } from '@emoverse/bus';
import { AuScorerService } from '@emoverse/proto';
import { defineService, GrpcError, status } from '@emoverse/service-kit';
import { onFrameBatch } from './handlers.js';

await defineService({
  name: 'au-scorer',
  defaultPort: 50062,
  async start(ctx) {
    ctx.addService(AuScorerService, {
      score: () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'au-scorer: not implemented yet');
      },
    });
    await ctx.bus.consume(events.framesExtracted, onFrameBatch, { durable: 'au-scorer' });
  },
}).main();
