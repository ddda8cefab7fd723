#!/usr/bin/env node
'use strict';
// Decoding speed of RTM_NEWLINK messages (issue #7: "dump 2000 links"),
// apart from the socket: the schema-walk decoder (decodeLinkGeneric, the
// reference) against the fixed-shape one link.list() uses (decodeLink).
//
//   node bench/decode-links.js [N]          as root; N warm passes (default 200)
//   node bench/decode-links.js --capture FILE NETNS   (one link dump of NETNS into FILE)
//   node bench/decode-links.js --decode FILE generic|direct N   (one process's timing, JSON)
//
// Without options it makes a throwaway namespace with 1000 veth pairs
// (`ip -batch`, as bench/run.js freshNs does), captures one RTM_GETLINK
// dump of it with the library's own socket (2001 messages: the veths and
// lo), deletes the namespace, then times each decoder in a fresh Node
// process: the first pass over the dump (cold: nothing compiled yet), then
// N passes (warm: the median pass), and prints µs per link, then the
// median over 7 such processes per decoder (the machine is shared: single
// runs vary by 2x). It also runs
// `bench/rtnl-worker.js NS dump-links` (link.list() end to end, one
// warm-up call) in the namespace before deleting it. Needs `npm run
// build:ts` (it loads dist/).
//
// When decodeLink became fixed-shape (2 shared CPUs, medians): warm
// 4.6 -> 1.3 us/link; the first pass in a fresh process about equal
// (~16 us/link either way, most of it before V8 has compiled anything);
// rtnl-worker dump-links 54 -> 30 ms, against a build of the commit
// before, runs alternated.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');

/** The messages of one link dump in `netns`, concatenated, with their offsets and lengths. */
async function capture(netns) {
  const nl = require(dist);
  const { dump } = require(path.join(dist, 'engine', 'requests'));
  const { buildLinkMessage } = require(path.join(dist, 'link'));
  const { RTM_GETLINK, NLM_F_REQUEST, NLM_F_DUMP } = require(path.join(dist, 'netlink', 'constants'));
  const h = await nl.open({ netns });
  try {
    const message = buildLinkMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, {}, {});
    return await dump(h.context.route(), message, (buf, off, len) => Buffer.from(buf.subarray(off, off + len)));
  } finally {
    await h.close();
  }
}

/** File format: the messages back to back (each carries its own length in nlmsghdr). */
function readMessages(file) {
  const all = fs.readFileSync(file);
  const spans = [];
  for (let off = 0; off < all.length;) {
    const len = all.readUInt32LE(off);
    spans.push([off, len]);
    off += (len + 3) & ~3;
  }
  return { all, spans };
}

function decodeMode(file, which, passes) {
  const link = require(path.join(dist, 'link'));
  const decode = which === 'generic' ? (link.decodeLinkGeneric ?? link.decodeLink) : link.decodeLink;
  const { all, spans } = readMessages(file);
  const pass = () => {
    let sink = 0;
    for (const [off, len] of spans) sink += decode(all, off, len).mtu;
    return sink;
  };
  let t0 = process.hrtime.bigint();
  pass();
  const coldUs = Number(process.hrtime.bigint() - t0) / 1e3 / spans.length;
  const perPass = [];
  for (let i = 0; i < passes; i++) {
    t0 = process.hrtime.bigint();
    pass();
    perPass.push(Number(process.hrtime.bigint() - t0) / 1e3 / spans.length);
  }
  perPass.sort((a, b) => a - b);
  const warmUs = perPass[Math.floor(perPass.length / 2)];
  process.stdout.write(JSON.stringify({ which, links: spans.length, coldUs, warmUs }) + '\n');
}

const ROUNDS = 7;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(cmd, args, input) {
  return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
}

async function main() {
  const [a0, a1, a2, a3] = process.argv.slice(2);
  if (a0 === '--decode') return decodeMode(a1, a2, Number(a3 ?? 200));
  if (a0 === '--capture') {
    fs.writeFileSync(a1, Buffer.concat(await capture(a2)));
    return;
  }
  const passes = Number(a0 ?? 200);
  const ns = `rtnl-decbench-${process.pid}`;
  const file = path.join(os.tmpdir(), `${ns}.bin`);
  run('ip', ['netns', 'add', ns]);
  try {
    const lines = [];
    for (let i = 0; i < 1000; i++) lines.push(`link add d${2 * i} type veth peer name d${2 * i + 1}`);
    run('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
    fs.writeFileSync(file, Buffer.concat(await capture(ns)));
    const workerMs = [];
    for (let i = 0; i < ROUNDS; i++) {
      const worker = spawnSync(process.execPath, [path.join(__dirname, 'rtnl-worker.js'), ns, 'dump-links'], {
        encoding: 'utf8',
      });
      const r = JSON.parse(worker.stdout);
      workerMs.push(r.seconds * 1e3);
      console.log(`rtnl-worker dump-links: ${(r.seconds * 1e3).toFixed(1)} ms for ${r.count} links`);
    }
    console.log(
      `rtnl-worker dump-links median of ${ROUNDS}: ${median(workerMs).toFixed(1)} ms (min ${Math.min(...workerMs).toFixed(1)})`,
    );
  } finally {
    run('ip', ['netns', 'del', ns]);
  }
  try {
    const results = { generic: [], direct: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const which of ['generic', 'direct']) {
        const r = JSON.parse(run(process.execPath, [__filename, '--decode', file, which, String(passes)]));
        results[which].push(r);
        console.log(
          `${which.padEnd(8)} ${r.links} links: cold ${r.coldUs.toFixed(2)} µs/link, warm ${r.warmUs.toFixed(2)} µs/link`,
        );
      }
    }
    for (const [which, rs] of Object.entries(results)) {
      const cold = rs.map((r) => r.coldUs);
      const warm = rs.map((r) => r.warmUs);
      console.log(
        `${which.padEnd(8)} median of ${ROUNDS} processes: cold ${median(cold).toFixed(2)} µs/link ` +
          `(min ${Math.min(...cold).toFixed(2)}), warm ${median(warm).toFixed(2)} µs/link (min ${Math.min(...warm).toFixed(2)})`,
      );
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
