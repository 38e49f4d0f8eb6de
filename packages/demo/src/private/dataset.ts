// Stage 2a: EMT from MELD + ECF (text-level build of @emoverse/emt, the same code as `npm run emt:build`).
// The shards are what the trainer service reads (StartRun.dataset_path) and the test subsets the
// evaluation stage sends to the gateway.
import { buildEmt, type EmtManifest } from '@emoverse/emt';
import { type ProgressWriter, progress } from './progress.js';

export interface DatasetResult {
  dir: string;
  manifest: EmtManifest;
  /** Records per task and split, e.g. counts.er.test. */
  counts: EmtManifest['counts'];
  dropped: Partial<Record<string, number>>;
  seconds: number;
}

export async function buildDataset(
  sharedDir: string,
  outDir: string,
  out?: ProgressWriter,
): Promise<DatasetResult> {
  const t0 = performance.now();
  const bar = progress('EMT build (MELD+ECF)', 0, out);
  try {
    const r = await buildEmt({ sharedDir, outDir, seed: 0, onWarning: () => {} });
    bar.finish(`${r.manifest.total} records`);
    return {
      dir: outDir,
      manifest: r.manifest,
      counts: r.manifest.counts,
      dropped: r.quality.dropped,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    bar.fail((e as Error).message);
    throw e;
  }
}
