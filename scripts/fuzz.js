#!/usr/bin/env node
'use strict';
// The long codec fuzz run (test/reliability/fuzz.ts): `npm run fuzz` feeds
// 10M mutated real messages to every decoder, in worker threads (one per
// CPU) with a hang watchdog and a heap limit. Options:
//   --count N     inputs in all (default 10000000)
//   --chunk N     inputs per seed (default 250000); seeds are 1, 2, ... from --first
//   --first N     first seed (default: derived from the time, printed)
//   --parallel N  workers (default: CPU count)
// Exits 1 if any input made a decoder throw something other than DecodeError,
// hang, or blow its heap; prints each finding with its seed and index.
require('../test/reliability/ts-register');
const os = require('node:os');
const { runSeeds } = require('../test/reliability/fuzz-runner.ts');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 10_000_000);
const chunk = arg('chunk', 250_000);
const first = arg('first', Math.floor(Date.now() / 1000) % 1_000_000);
const parallel = arg('parallel', os.availableParallelism());

(async () => {
  const seeds = Array.from({ length: Math.ceil(count / chunk) }, (_, i) => first + i);
  const started = Date.now();
  let done = 0;
  console.log(`fuzz: ${count} inputs, seeds ${seeds[0]}..${seeds[seeds.length - 1]}, ${parallel} workers`);
  const outcomes = await runSeeds({
    seeds,
    countPerSeed: chunk,
    parallel,
    stallMs: 60_000,
    onProgress: () => {
      if (++done % 400 === 0) {
        const n = done * 500;
        process.stdout.write(`  ${n} inputs, ${((Date.now() - started) / 1000).toFixed(0)} s\r`);
      }
    },
  });
  const total = { inputs: 0, calls: 0, decoded: 0, decodeErrors: 0, slowestMs: 0, slowestTarget: '', largest: 0 };
  const findings = [];
  const failures = [];
  for (const o of outcomes) {
    if (o.failure) failures.push(`seed ${o.seed}: ${o.failure}`);
    const r = o.result;
    if (!r) continue;
    total.inputs += r.inputs;
    total.calls += r.calls;
    total.decoded += r.decoded;
    total.decodeErrors += r.decodeErrors;
    total.largest = Math.max(total.largest, r.largestResult);
    if (r.slowestMs > total.slowestMs) [total.slowestMs, total.slowestTarget] = [r.slowestMs, r.slowestTarget];
    findings.push(...r.findings);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `\nfuzz: ${total.inputs} inputs, ${total.calls} decoder calls in ${seconds.toFixed(0)} s ` +
      `(${Math.round(total.inputs / seconds)}/s); ${total.decoded} decoded, ${total.decodeErrors} DecodeError; ` +
      `slowest call ${total.slowestMs.toFixed(1)} ms (${total.slowestTarget}); largest result ${total.largest} values; ` +
      `${findings.length} findings, ${failures.length} hangs/crashes; node ${process.version}, ${os.release()}`,
  );
  for (const f of findings)
    console.log(`FINDING seed ${f.seed} index ${f.index} ${f.target}: ${f.error}\n  input ${f.input}`);
  for (const f of failures) console.log(`FAILURE ${f}`);
  process.exitCode = findings.length || failures.length ? 1 : 0;
})();
