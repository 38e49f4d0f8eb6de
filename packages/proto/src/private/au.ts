// The 17 OpenFace intensity action units in the order of every AuVector (ActionUnit enum order).
import { AU_NAMES, type AuName } from '@emoverse/facs';

// The AU list is domain knowledge and lives in @emoverse/facs; the wire contract re-exports it.
export { AU_NAMES, type AuName };

/** Position of an AU in an AuVector, e.g. auIndex('AU12') === 8. Throws on an unknown name. */
export function auIndex(name: string): number {
  const i = (AU_NAMES as readonly string[]).indexOf(name);
  if (i < 0)
    throw new Error(`unknown action unit ${JSON.stringify(name)}; expected one of ${AU_NAMES.join(' ')}`);
  return i;
}

/** {AU01: 0.3, ...} from the 17 intensities. */
export function auVectorToRecord(intensity: ArrayLike<number>): Record<AuName, number> {
  if (intensity.length !== AU_NAMES.length) {
    throw new Error(`an AU vector has ${AU_NAMES.length} intensities, got ${intensity.length}`);
  }
  const out = {} as Record<AuName, number>;
  AU_NAMES.forEach((name, i) => {
    out[name] = intensity[i];
  });
  return out;
}

/** The 17 intensities from {AU01: 0.3, ...}; missing units are 0. */
export function auRecordToVector(record: Partial<Record<string, number>>): number[] {
  return AU_NAMES.map((name) => record[name] ?? 0);
}
