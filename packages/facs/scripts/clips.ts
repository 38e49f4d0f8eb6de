// The six clips with a real OpenFace reference, and their face geometry, computed once and kept in .cache.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { FrameGeometry } from '@emoverse/facs';
import { analyzeVideo } from '@emoverse/video';

export const SHARED = process.env.EMOVERSE_SHARED ?? resolve(import.meta.dirname, '../../../../shared');
const STATIC = 'openface/reference/openface-2.0.2-clnf-static';

export interface Clip {
  name: string;
  video: string;
  openface: string;
}

/** default.wmv (the dev clip) and the five OpenFace 2.0.2 references of SOURCE.md. */
export const CLIPS: readonly Clip[] = [
  { name: 'default', video: 'openface/samples/default.wmv', openface: 'openface/reference/default.csv' },
  { name: 'single_face', video: 'faces/single_face.mp4', openface: `${STATIC}/single_face.csv` },
  {
    name: 'WolfgangLanger_Pexels',
    video: 'faces/WolfgangLanger_Pexels.mp4',
    openface: `${STATIC}/WolfgangLanger_Pexels.csv`,
  },
  { name: 'face_noface', video: 'faces/face_noface.mov', openface: `${STATIC}/face_noface.csv` },
  { name: 'multi_face', video: 'openface/samples/multi_face.avi', openface: `${STATIC}/multi_face.csv` },
  {
    name: '2015-10-15-15-14',
    video: 'openface/samples/2015-10-15-15-14.avi',
    openface: `${STATIC}/2015-10-15-15-14.csv`,
  },
].map((c) => ({ ...c, video: join(SHARED, 'data', c.video), openface: join(SHARED, 'data', c.openface) }));

/**
 * Every frame's faces (no descriptors) of a video at its own frame rate, from `cacheDir` when a previous
 * run stored them for the same file (name, size, mtime), else computed and stored there.
 */
export async function clipGeometry(video: string, cacheDir?: string): Promise<FrameGeometry[]> {
  const st = statSync(video);
  const file = cacheDir && join(cacheDir, `${basename(video)}-${st.size}-${Math.floor(st.mtimeMs)}.json`);
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as FrameGeometry[];
  const frames: FrameGeometry[] = [];
  for await (const f of analyzeVideo(video)) {
    frames.push({
      index: f.index,
      timeS: f.timeS,
      faces: f.faces.map(({ descriptor: _d, ...face }) => face),
    });
  }
  if (file && cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(file, JSON.stringify(frames));
  }
  return frames;
}
