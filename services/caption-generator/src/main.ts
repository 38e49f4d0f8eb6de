// caption-generator: source records + AU scores -> EMT records (shell: wiring only).
import { CaptionGeneratorService } from '@emoverse/proto';
import { defineService, GrpcError, status } from '@emoverse/service-kit';

await defineService({
  name: 'caption-generator',
  defaultPort: 50063,
  start(ctx) {
    ctx.addService(CaptionGeneratorService, {
      buildRecords: () => {
        throw new GrpcError(status.UNIMPLEMENTED, 'caption-generator: not implemented yet');
      },
    });
  },
}).main();
