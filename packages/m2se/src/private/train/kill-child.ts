// Child process of the kill -9 test: trains the toy recipe with a checkpoint every 2 steps into the
// folder given as argv[2] and prints each finished step, until the parent kills it.
import { DirectoryCheckpointStore } from './checkpoint-store.js';
import { toyTrainOptions } from './fixtures.js';
import { train } from './loop.js';

const dir = process.argv[2];
await train({
  ...toyTrainOptions(),
  store: new DirectoryCheckpointStore(dir),
  checkpointEvery: 2,
  onStep: async (p) => {
    process.stdout.write(`step ${p.globalStep + 1}\n`);
    // slow down so the parent can kill it mid-run
    await new Promise((r) => setTimeout(r, 30));
  },
});
process.stdout.write('done\n');
