// gateway: the five M2SE tasks over gRPC (shell: wiring only).
import { GatewayService } from '@emoverse/proto';
import { defineService, GrpcError, status } from '@emoverse/service-kit';

const unimplemented = () => {
  throw new GrpcError(status.UNIMPLEMENTED, 'gateway: not implemented yet');
};

await defineService({
  name: 'gateway',
  defaultPort: 50060,
  start(ctx) {
    ctx.addService(GatewayService, {
      sentiment: unimplemented,
      emotion: unimplemented,
      facialExpression: unimplemented,
      emotionReason: unimplemented,
      emotionCausePairs: unimplemented,
      // biome-ignore lint/correctness/useYield: a shell that fails before streaming anything
      async *generate() {
        unimplemented();
      },
    });
  },
}).main();
