// The five EMT instruction tasks of the M2SE paper, in the order the paper lists them.
// MSA: multimodal sentiment analysis; ER: emotion recognition; FER: facial expression recognition
// (AU captions); ERI: emotion reason inference; ECPE: emotion-cause pair extraction.
export const TASKS = ['MSA', 'ER', 'FER', 'ERI', 'ECPE'] as const;
export type TaskName = (typeof TASKS)[number];

export function isTaskName(name: string): name is TaskName {
  return (TASKS as readonly string[]).includes(name);
}

/** Sorts task names into the canonical order above (so that data order never depends on key order). */
export function canonicalTaskOrder(tasks: Iterable<TaskName>): TaskName[] {
  return [...new Set(tasks)].sort((a, b) => TASKS.indexOf(a) - TASKS.indexOf(b));
}
