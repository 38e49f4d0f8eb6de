// trainer: the M2SE recipe as runs (shell: wiring only).
import { TrainerService } from '@emoverse/proto';
import { defineService, GrpcError, status } from '@emoverse/service-kit';

const unimplemented = () => {
  throw new GrpcError(status.UNIMPLEMENTED, 'trainer: not implemented yet');
};

await defineService({
  name: 'trainer',
  defaultPort: 50064,
  start(ctx) {
    ctx.addService(TrainerService, {
      startRun: unimplemented,
      getRun: unimplemented,
      // biome-ignore lint/correctness/useYield: a shell that fails before streaming anything
      async *watchRun() {
        unimplemented();
      },
      cancelRun: unimplemented,
    });
  },
}).main();
