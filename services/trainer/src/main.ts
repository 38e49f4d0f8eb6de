// trainer: `train ...` runs one training run in this process (Kubernetes Jobs, local children);
// otherwise the gRPC service that plans, starts, watches and cancels runs.
import { trainCommand } from './train-command.js';

if (process.argv[2] === 'train') {
  process.exitCode = await trainCommand(process.argv.slice(3));
} else {
  const { createTrainerService } = await import('./service.js');
  await createTrainerService().main();
}
