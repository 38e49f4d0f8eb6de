// A run refused before any compute (bad recipe, missing shard, mismatched base checkpoint). The gRPC
// API answers it with INVALID_ARGUMENT; the `train` command exits with badInputExitCode (2).
export class RunRejected extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `run rejected:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RunRejected';
  }
}
