// Positional ECPE baselines per target record (one emotion utterance to find causes for), answered in the
// EMT/paper format "4_joy,4;4_joy,3" so they are scored exactly like a model's answers.

/** One ECPE target: the emotion utterance (1-based), its emotion, and how many utterances its conversation has. */
export interface EcpeTargetRecord {
  targetUtt: number;
  emotion: string;
  utterances: number;
}

/**
 * "self": the target is its own only cause — (t, t).
 * "self+previous": (t, t) and, when t > 1, the utterance before it — (t, t−1).
 */
export type EcpePositionalBaseline = 'self' | 'self+previous';

function causesOf(t: number, kind: EcpePositionalBaseline): number[] {
  return kind === 'self' || t === 1 ? [t] : [t, t - 1];
}

/** The baseline's answer for one record, e.g. "4_joy,4;4_joy,3". */
export function ecpeBaselineAnswer(record: EcpeTargetRecord, kind: EcpePositionalBaseline): string {
  const t = record.targetUtt;
  if (!Number.isInteger(t) || t < 1 || t > record.utterances) {
    throw new Error(`target utterance ${t} is outside 1..${record.utterances}`);
  }
  const emotion = record.emotion.trim().toLowerCase();
  return causesOf(t, kind)
    .map((c) => `${t}_${emotion},${c}`)
    .join(';');
}

/** The baseline's answers for every record, in order. */
export function ecpeBaselineAnswers(
  records: readonly EcpeTargetRecord[],
  kind: EcpePositionalBaseline,
): string[] {
  return records.map((r) => ecpeBaselineAnswer(r, kind));
}
