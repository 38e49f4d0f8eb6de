// What a demo run does, in full or --quick form: which sample videos, how much training, how many test
// records. Everything else (recipes, datasets, models) comes from the packages and services.
import { join } from 'node:path';
import type { ProgressWriter } from './progress.js';

/** A sample video with the expression it is known to show (the FER caption's emotion e). */
export interface SampleVideo {
  /** Path relative to the shared folder. */
  path: string;
  emotion: string;
  /** Why that label: what the clip shows (from the data's SOURCE.md). */
  note: string;
}

export interface DemoProfile {
  name: 'quick' | 'full';
  videos: SampleVideo[];
  /** Frames per second sampled by frame-extractor, and an upper bound per clip. */
  fps: number;
  maxFrames: number;
  /** Training: the shipped recipe, and for --quick the samples per phase of its smoke form. */
  recipe: 'm2se-nano';
  smokeSamples?: number;
  /**
   * Samples of the LM pre-training pass and of each M2SE stage (the shipped recipe reads 'all' ~30k
   * train records, then 14,000 + 12,000 samples: about 20 minutes on a quiet 2-core machine, longer
   * than the demo may take). The demo's run shows the trainer working; the model that learned is the
   * one `npm run experiment -- m2se` trains.
   */
  pretrainingSamples?: number;
  stageSamples?: number;
  /** Wall-clock budget of the training run (the issue's ≤ 15 minutes). */
  trainBudgetS: number;
  /** Test records evaluated per task (MELD ER, MELD MSA, ECF ECPE). */
  evalPerTask: { er: number; msa: number; ecpe: number };
  /** Train utterances per task the bag-of-words baseline row learns from. */
  bowTrainRecords: number;
  /**
   * A model folder the project stores as a release artifact (relative to the repository), published
   * after the demo's own training so that the answers and the evaluation come from a model that
   * learned; absent: the demo serves the model it trained.
   */
  release?: string;
}

const SMILE: SampleVideo = {
  path: 'data/faces/single_face.mp4',
  emotion: 'joy',
  note: 'neutral face turning into a smile',
};

export const PROFILES: Record<'quick' | 'full', DemoProfile> = {
  quick: {
    name: 'quick',
    videos: [SMILE],
    fps: 5,
    maxFrames: 40,
    recipe: 'm2se-nano',
    smokeSamples: 16,
    trainBudgetS: 240,
    evalPerTask: { er: 12, msa: 12, ecpe: 6 },
    bowTrainRecords: 400,
  },
  full: {
    name: 'full',
    videos: [
      SMILE,
      {
        path: 'data/faces/WolfgangLanger_Pexels.mp4',
        emotion: 'joy',
        note: 'crying, calm, then laughing (laughing peak near 18.6 s)',
      },
      {
        path: 'data/openface/samples/default.wmv',
        emotion: 'joy',
        note: "OpenFace's default sample: a man talking; at OpenFace's own peak frame AU12 (2.0) and AU25 (2.4) lead, so the demo labels it joy",
      },
      {
        path: 'data/openface/samples/multi_face.avi',
        emotion: 'joy',
        note: "OpenFace's multi-person sample: people smiling and laughing; each person's peak, then the best person (eq. 2)",
      },
    ],
    fps: 5,
    maxFrames: 120,
    recipe: 'm2se-nano',
    // 150 + 400 optimizer steps of batch 8: 5.5 min at 0.6 s a step (load ~8 on 2 cores), ~13 min at 1.4 s
    // (load ~10); 4,000 samples (900 steps) went over the budget at that load
    pretrainingSamples: 1200,
    stageSamples: 1200,
    trainBudgetS: 15 * 60,
    evalPerTask: { er: 200, msa: 200, ecpe: 80 },
    bowTrainRecords: 10_000,
    release: 'release/models/m2se-nano',
  },
};

export interface DemoOptions {
  profile: DemoProfile;
  /** The read-only shared data folder (data/meld, data/ecf, data/faces, data/openface). */
  sharedDir: string;
  /** Where report.md, the PNGs, traces.jsonl and the service logs go. */
  outDir: string;
  /** Scratch folder: EMT shards, the model cache. */
  workDir: string;
  /** Progress bars and log lines (default stdout). */
  out?: ProgressWriter;
  /** Aborts the run (Ctrl-C): the current stage stops and the stack shuts down. */
  signal?: AbortSignal;
  /** Stop after this stage (the rest of DemoResult is then unset); 'vision' or earlier starts no trainer/gateway. */
  until?: 'stack' | 'dataset' | 'vision' | 'training' | 'serving' | 'evaluation' | 'report';
  /** Mirror every service's output to stderr. */
  verbose?: boolean;
}

export function defaultOutDir(repo: string, quick: boolean): string {
  return quick ? join(repo, 'results', 'demo', 'quick') : join(repo, 'results', 'demo');
}
