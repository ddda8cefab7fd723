#!/usr/bin/env node
'use strict';
// One link lookup: rtnl's link.get round trip against spawning
// `ip -j link show dev X` (what Node programs do today), measured in the
// same run, in a scratch namespace. Prints a table with the ratio.
// Run as root after `npm run compile`: node bench/link-get.js
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const nl = require('..');

const N_LIB = 20000;
const N_IP = 200;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function main() {
  const ns = `rtnl-bench-${randomBytes(3).toString('hex')}`;
  await nl.netns.create(ns);
  const h = await nl.open({ netns: ns });
  try {
    await h.link.add({ kind: 'veth', name: 'bench0', peer: { name: 'bench1' } });
    for (let i = 0; i < 1000; i++) await h.link.get('bench0'); // warm up
    const libRuns = [];
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_LIB; i++) await h.link.get('bench0');
      libRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / N_LIB);
    }
    const pipelined = [];
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: N_LIB }, () => h.link.get('bench0')));
      pipelined.push(Number(process.hrtime.bigint() - t0) / 1e3 / N_LIB);
    }
    const ipRuns = [];
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_IP; i++) {
        JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', 'bench0'], { encoding: 'utf8' }));
      }
      ipRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / N_IP);
    }
    const lib = median(libRuns);
    const pipe = median(pipelined);
    const ip = median(ipRuns);
    console.log('| one link lookup (median of 3 runs) | us per lookup | vs spawning ip |');
    console.log('|---|---:|---:|');
    console.log(`| spawn \`ip -j link show dev X\` (${N_IP}x) | ${ip.toFixed(1)} | 1x |`);
    console.log(
      `| rtnl \`link.get\`, awaited one by one (${N_LIB}x) | ${lib.toFixed(1)} | ${(ip / lib).toFixed(0)}x faster |`,
    );
    console.log(
      `| rtnl \`link.get\`, ${N_LIB} in flight at once | ${pipe.toFixed(1)} | ${(ip / pipe).toFixed(0)}x faster |`,
    );
  } finally {
    await h.close();
    await nl.netns.delete(ns);
    await nl.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
