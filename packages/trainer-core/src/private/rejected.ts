// A run refused before any compute (bad recipe, missing shard, mismatched base checkpoint), and an execution
// provider that cannot be used here. The trainer service answers them as INVALID_ARGUMENT / FAILED_PRECONDITION;
// its `train` command exits with badInputExitCode (2).
export class RunRejected extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `run rejected:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RunRejected';
  }
}

/** The run's execution provider cannot be used where it would run (FAILED_PRECONDITION). */
export class DeviceUnavailable extends Error {
  constructor(
    readonly device: string,
    readonly reason: string,
  ) {
    super(`device ${device} is not available here: ${reason}`);
    this.name = 'DeviceUnavailable';
  }
}
