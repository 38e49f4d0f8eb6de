// The five tasks by their short names ("msa", "er", ...) and to and from the protobuf Task enum.
import { Task } from '../gen/emoverse/v1/common_pb.js';

// Short lower-case task names used in recipes, file names and metrics ("msa", "er", ...).
export const TASK_NAMES = ['msa', 'er', 'fer', 'eri', 'ecpe'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

const byName: Record<TaskName, Task> = {
  msa: Task.MSA,
  er: Task.ER,
  fer: Task.FER,
  eri: Task.ERI,
  ecpe: Task.ECPE,
};

/** Task enum from a name, case-insensitive ("MSA", "er"); throws naming the valid ones. */
export function taskFromName(name: string): Task {
  const t = byName[name.toLowerCase() as TaskName];
  if (t === undefined)
    throw new Error(`unknown task ${JSON.stringify(name)}; expected one of ${TASK_NAMES.join(', ')}`);
  return t;
}

/** Name of a Task enum value ("msa"); throws for TASK_UNSPECIFIED. */
export function taskName(task: Task): TaskName {
  const found = TASK_NAMES.find((n) => byName[n] === task);
  if (!found) throw new Error(`task ${task} has no name`);
  return found;
}
