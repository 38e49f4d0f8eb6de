// The AUs whose geometric measure we stand behind, i.e. a measure that follows the muscle's visible
// action directly: blinks and eyelid narrowing (mesh eyelids with iris refinement), lip parting and jaw
// opening, lip-corner pull/stretch/depression, upper-lip raise and the cheek raise seen at the lower lids.
// Brow AUs (01/02/04), AU05, AU09, AU17, AU20 and AU23 are still computed and written, but their
// measures are too weak (small displacements at landmark resolution, or confounded by other actions)
// to claim agreement with OpenFace.
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
