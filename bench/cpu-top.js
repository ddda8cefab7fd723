#!/usr/bin/env node
'use strict';
// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`):
//   node bench/cpu-top.js FILE.cpuprofile [N]
const fs = require('node:fs');
const path = require('node:path');

const [file, n = '25'] = process.argv.slice(2);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const deltas = profile.timeDeltas;
const selfUs = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const dt = deltas[i] ?? 0;
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url ? path.basename(f.url) : ''}:${f.lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  total += dt;
}
const rows = [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
console.log(`total ${(total / 1e3).toFixed(0)} ms`);
for (const [key, us] of rows) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(1).padStart(8)} ms  ${key}`);
}
