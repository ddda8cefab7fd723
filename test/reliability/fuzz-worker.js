'use strict';
// A fuzz run on a thread of its own (test/reliability/fuzz.ts), so that the
// parent can stop a decoder that hangs: worker.terminate() interrupts even a
// synchronous endless loop, which nothing in the same thread could.
// workerData: { seed, count, every }. Posts { progress } and finally { result }.
const { parentPort, workerData } = require('node:worker_threads');
require('./ts-register');
const { runFuzz } = require('./fuzz.ts');

const result = runFuzz({
  seed: workerData.seed,
  count: workerData.count,
  every: workerData.every ?? 1000,
  slowMs: workerData.slowMs,
  progress: (index) => parentPort.postMessage({ progress: index }),
});
parentPort.postMessage({ result });
