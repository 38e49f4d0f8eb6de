// trainer: `train ...` runs one training run in this process (Kubernetes Jobs, local children);
// otherwise the gRPC service that plans, starts, watches and cancels runs.
import { trainCommand } from './train-command.js';

if (process.argv[2] === 'train') {
  const code = await trainCommand(process.argv.slice(3));
  // a child of the service holds an IPC channel that would keep this process alive
  if (process.connected) process.disconnect();
  process.exitCode = code;
} else {
  const { createTrainerService } = await import('./service.js');
  await createTrainerService().main();
}
