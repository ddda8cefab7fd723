/**
 * Runs fuzz.ts in worker threads with a watchdog: a worker that reports no
 * progress for `stallMs` is stopped and its last reported index recorded
 * as a hang (replay it from the seed). Shared by the quick run in the test
 * suite and `npm run fuzz`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FuzzResult } from './fuzz';

export interface RunnerOptions {
  seeds: number[];
  countPerSeed: number;
  /** A worker silent this long is hung (default 30 s). */
  stallMs?: number;
  /** Simultaneous workers (default: the CPU count). */
  parallel?: number;
  /** Each worker's heap limit: a decoder that allocates without bound dies of it (default 512 MB). */
  maxHeapMB?: number;
  onProgress?: (seed: number, index: number) => void;
}

export interface SeedOutcome {
  seed: number;
  result?: FuzzResult;
  /** Hang or crash (out of memory included): what stopped the worker. */
  failure?: string;
  lastIndex: number;
}

function runSeed(seed: number, options: RunnerOptions): Promise<SeedOutcome> {
  const stallMs = options.stallMs ?? 30_000;
  const maxHeapMB = options.maxHeapMB ?? 512;
  return new Promise((resolve) => {
    const outcome: SeedOutcome = { seed, lastIndex: -1 };
    const worker = new Worker(path.join(__dirname, 'fuzz-worker.js'), {
      workerData: { seed, count: options.countPerSeed, every: 500 },
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMB },
    });
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        outcome.failure = `no progress for ${stallMs} ms after input ${outcome.lastIndex} (a hang)`;
        void worker.terminate();
      }, stallMs);
    };
    arm();
    worker.on('message', (m: { progress?: number; result?: FuzzResult }) => {
      if (m.progress !== undefined) {
        outcome.lastIndex = m.progress;
        options.onProgress?.(seed, m.progress);
        arm();
      }
      if (m.result) outcome.result = m.result;
    });
    worker.on('error', (e) => (outcome.failure ??= `worker died: ${e.message}`));
    worker.on('exit', () => {
      clearTimeout(timer);
      if (!outcome.result && !outcome.failure) outcome.failure = 'worker exited without a result';
      resolve(outcome);
    });
  });
}

/** Runs every seed, `parallel` at a time. */
export async function runSeeds(options: RunnerOptions): Promise<SeedOutcome[]> {
  const parallel = Math.max(1, options.parallel ?? os.availableParallelism());
  const queue = [...options.seeds];
  const out: SeedOutcome[] = [];
  await Promise.all(
    Array.from({ length: Math.min(parallel, queue.length) }, async () => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) out.push(await runSeed(seed, options));
    }),
  );
  return out.sort((a, b) => a.seed - b.seed);
}
