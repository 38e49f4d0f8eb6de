// ECPE pair F1 as the paper's released scorer counts it: per target record, a predicted pair string
// "<emotion utt>_<emotion>,<cause utt>" is right when the same string is a gold pair of that record.
// Records with an empty gold are left out, predictions included; duplicates within a record count once.
// Micro P/R/F1 over the kept records. Stricter than ecpeScores: no synonyms ("4_happy,3" is not
// "4_joy,3"), a pair without its emotion ("4,3") never matches, and pairs are only compared within a record.
import { type Prf, prf } from './ecpe.js';

/** One target record: the model's answer and the gold answer, both "4_joy,4;4_joy,3". */
export interface EcpePaperRecord {
  predicted: string;
  gold: string;
}

/** The distinct pair strings of an answer: split on ";", trimmed, lower-cased (the emotion), empties dropped. */
export function ecpePairStrings(answer: string): Set<string> {
  const out = new Set<string>();
  for (const piece of answer.split(';')) {
    const pair = piece.trim().toLowerCase();
    if (pair !== '') out.add(pair);
  }
  return out;
}

/** Micro P/R/F1 over the records whose gold names at least one pair. */
export function ecpePaperScores(records: readonly EcpePaperRecord[]): Prf {
  let tp = 0;
  let predicted = 0;
  let gold = 0;
  for (const r of records) {
    const golds = ecpePairStrings(r.gold);
    if (golds.size === 0) continue;
    const preds = ecpePairStrings(r.predicted);
    gold += golds.size;
    predicted += preds.size;
    for (const p of preds) if (golds.has(p)) tp++;
  }
  return prf(tp, predicted, gold);
}
