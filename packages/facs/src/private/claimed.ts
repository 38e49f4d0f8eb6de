// The measured AUs: those whose geometric measure we stand behind, i.e. one that follows the muscle's
// visible action directly: the upper lid falling (blink) and the lower lid rising (narrowing), lip parting
// and the jaw dropping, lip-corner pull/stretch/depression, upper-lip raise and the cheeks rising. S_f,
// the peaks and FER captions use these only. Brow AUs (01/02/04), AU05, AU09, AU17, AU20 and AU23 are
// still computed and written as estimates (scaled by ESTIMATE_GAIN), but their measures are too weak
// (small displacements at landmark resolution, or confounded by head pose and other actions) to claim
// agreement with OpenFace (packages/facs/README.md has the numbers).
import type { AuName } from './types.js';

export const CLAIMED_AUS: readonly AuName[] = [
  'AU06',
  'AU07',
  'AU10',
  'AU12',
  'AU14',
  'AU15',
  'AU25',
  'AU26',
  'AU45',
];
