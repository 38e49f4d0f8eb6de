// Text clean-up shared by the loaders.

// Windows-1252 bytes 0x80-0x9F: the characters a UTF-8 file shows when it was once decoded as cp1252
// (MELD's original release has "Iâ€™m" for "I’m").
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function cp1252Byte(ch: string): number | undefined {
  const code = ch.charCodeAt(0);
  if (code < 0x80) return code;
  const k = CP1252_HIGH.indexOf(ch);
  if (k >= 0) return 0x80 + k;
  if (code >= 0xa0 && code <= 0xff) return code;
  return undefined;
}

const MOJIBAKE_RUN = /[\u00c2-\u00f4][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]+/g;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Repairs UTF-8 text that went through a cp1252/latin-1 decode ("â€™" → "’", "Ã©" → "é"), and lone C1
 * control characters that stand for cp1252 punctuation ("\u0092" → "’"). Correct text is left as it is.
 */
export function repairMojibake(text: string): string {
  let out = text.replace(MOJIBAKE_RUN, (run) => {
    const bytes: number[] = [];
    for (const ch of run) {
      const b = cp1252Byte(ch);
      if (b === undefined) return run;
      bytes.push(b);
    }
    try {
      return decoder.decode(new Uint8Array(bytes));
    } catch {
      return run;
    }
  });
  out = out.replace(/[\u0080-\u009f]/g, (c) => {
    const k = c.charCodeAt(0) - 0x80;
    const mapped = CP1252_HIGH[k];
    return mapped && mapped.charCodeAt(0) > 0x9f ? mapped : '';
  });
  return out;
}

/**
 * Repairs mis-encoded characters, turns line breaks and tabs into spaces, removes zero-width characters and
 * trims. Runs of spaces inside are kept: the paper's released prompts keep MELD's text as it is.
 */
export function cleanText(text: string): string {
  return repairMojibake(text)
    .replace(/[\u200b-\u200d\ufeff]/g, '')
    .replace(/[\r\n\t]+/g, ' ')
    .trim();
}

const CONTRACTIONS: [RegExp, string][] = [
  [/\bcan't\b/g, 'can not'],
  [/\bwon't\b/g, 'will not'],
  [/\bshan't\b/g, 'shall not'],
  [/n't\b/g, ' not'],
  [/'re\b/g, ' are'],
  [/'m\b/g, ' am'],
  [/'ll\b/g, ' will'],
  [/'ve\b/g, ' have'],
  [/'d\b/g, ' would'],
  // ECF writes "it's" as "it is" but drops the possessive ("Monica's" -> "Monica"): drop both sides' "'s"
  // and the word "is" so they meet.
  [/'s\b/g, ''],
];

/**
 * Words for matching MELD's raw text against ECF's tokenised, contraction-expanded text:
 * "I’m fine, don’t worry!" and "I am fine , do not worry !" give the same words.
 */
export function matchWords(text: string): string[] {
  let t = repairMojibake(text).toLowerCase().replace(/[’‘`]/g, "'");
  for (const [re, rep] of CONTRACTIONS) t = t.replace(re, rep);
  return t.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0 && w !== 'is');
}

/** Dice similarity of two word lists as multisets (1 = same words). */
export function wordDice(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const counts = new Map<string, number>();
  for (const w of a) counts.set(w, (counts.get(w) ?? 0) + 1);
  let common = 0;
  for (const w of b) {
    const c = counts.get(w) ?? 0;
    if (c > 0) {
      common++;
      counts.set(w, c - 1);
    }
  }
  return (2 * common) / (a.length + b.length);
}
