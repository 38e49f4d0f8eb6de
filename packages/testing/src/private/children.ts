import type { ChildProcess } from 'node:child_process';

// Processes started by these helpers; killed if the test process exits without stopping them,
// so a failed test never leaves a nats-server or a service running.
const children = new Set<ChildProcess>();
let hooked = false;

export function trackChild(proc: ChildProcess): void {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

export function untrackChild(proc: ChildProcess): void {
  children.delete(proc);
}
