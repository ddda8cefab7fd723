#!/usr/bin/env node
'use strict';
// `npm run bench` (root): every workload of the performance issue, each in
// namespaces made for it, with the peers measured in the same run:
//   - raw C, batched: bench/baseline.c, built here with `cc -O2` into a temp dir
//   - `ip -batch`: one ip process reading every command from a file
//   - pyroute2 (IPRoute, one request at a time) when /usr/bin/python3 imports it
//   - one `ip` process per op: a small N, extrapolated
//   - rtnl: bench/rtnl-worker.js, a fresh Node process per run
// Each peer times itself (C, Python, Node: around the work, after setup);
// `ip` is timed from spawn to exit. Medians of RUNS runs. Prints the table
// and rewrites BENCHMARKS.md (the hand-written notes between the markers
// are kept). Benchmarks are not tests: nothing here fails on a number.
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const RUNS = 5;
const ROOT = path.join(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const RUN_ID = randomBytes(3).toString('hex');
const NS_PREFIX = `rtnlbench-${RUN_ID}-`;
const WORKER = path.join(__dirname, 'rtnl-worker.js');
const PY_SCRIPT = path.join(__dirname, 'pyroute2_bench.py');
const MD_FILE = path.join(ROOT, 'BENCHMARKS.md');
const NOTES_START = '<!-- notes: hand-written, kept by bench/run.js -->';
const NOTES_END = '<!-- /notes -->';

// ---------------------------------------------------------------- plumbing

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtnl-bench-'));
const baseline = path.join(tmp, 'baseline');
const namespaces = new Set();
let nsCounter = 0;

function cleanup() {
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  namespaces.clear();
  // Names a netns workload made and did not get to delete (it failed midway).
  let left = [];
  try {
    left = fs.readdirSync('/run/netns').filter((n) => n.startsWith(NS_PREFIX));
  } catch {
    // no /run/netns: nothing left behind
  }
  for (const ns of left) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ').slice(0, 200)} exited ${r.status}: ${(r.stderr || '').slice(0, 500)}`);
  }
  return r.stdout;
}

/** Runs a peer that times itself and prints one JSON line. */
function selfTimed(cmd, args, options) {
  const out = sh(cmd, args, options).trim().split('\n').pop();
  const result = JSON.parse(out);
  if (result.errors)
    throw new Error(`${cmd} ${args.slice(0, 4).join(' ')}: ${result.errors} requests failed: ${result.firstError}`);
  return result;
}

/** Wall time of one process, in seconds, from spawn to exit. */
function wall(cmd, args, options) {
  const t0 = process.hrtime.bigint();
  const out = sh(cmd, args, options);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, out };
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A fresh namespace with veth pairs d0/d1, d2/d3, ... up; d0 has 10.0.0.1/24 (gateway 10.0.0.2 on link). */
function freshNs(pairs = 1) {
  const ns = `${NS_PREFIX}${nsCounter++}`;
  sh('ip', ['netns', 'add', ns]);
  namespaces.add(ns);
  const lines = [];
  for (let i = 0; i < pairs; i++) {
    lines.push(`link add d${2 * i} type veth peer name d${2 * i + 1}`);
    lines.push(`link set d${2 * i} up`, `link set d${2 * i + 1} up`);
  }
  if (pairs > 0) {
    lines.push('addr add 10.0.0.1/24 dev d0');
    ipBatch(ns, lines);
  }
  return ns;
}

function dropNs(ns) {
  sh('ip', ['netns', 'del', ns]);
  namespaces.delete(ns);
  // The kernel tears a namespace down in the background, under the RTNL
  // lock: let it finish before the next measurement.
  sleep(300);
}

function ipBatch(ns, lines) {
  const file = path.join(tmp, 'batch.txt');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return wall('ip', ['-n', ns, '-batch', file]);
}

function median(xs) {
  const s = xs.filter((x) => x !== undefined && x !== null).sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : undefined;
}

function ipv4(base, i) {
  const v = base + i;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
const ROUTE_BASE = 16 << 24; // 16.0.0.0, as baseline.c and the workers use
const ADDR_BASE = ((172 << 24) | (16 << 16)) >>> 0; // 172.16.0.0

const hasPyroute2 = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import pyroute2'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
})();

const C = (ns, ...args) => selfTimed(baseline, ns ? ['--netns', ns, ...args.map(String)] : args.map(String));
const PY = (ns, ...args) => selfTimed(PYTHON, [PY_SCRIPT, ns, ...args.map(String)]);
const RTNL = (ns, ...args) => selfTimed(process.execPath, [WORKER, ns, ...args.map(String)]);

/** Progress on stderr: a line rewritten in place on a terminal, nothing but workload names otherwise. */
function log(text) {
  if (process.stderr.isTTY) process.stderr.write(text);
}

// --------------------------------------------------------------- workloads
// Each returns { rows: [{ label, peers: { c, batch, py, each, rtnl } in seconds, notes }] }.

/**
 * Runs `peers` (name -> function returning seconds) RUNS times, the order
 * rotated each run so that no peer always goes first, and keeps medians.
 */
function measure(title, peers) {
  const names = Object.keys(peers);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  const started = Date.now();
  if (!process.stderr.isTTY) process.stderr.write(`${title}\n`);
  for (let r = 0; r < RUNS; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + r) % names.length];
      log(`\r${title}: run ${r + 1}/${RUNS}, ${name}                    `);
      samples[name].push(peers[name]());
    }
  }
  log('\n');
  const result = Object.fromEntries(names.map((n) => [n, median(samples[n])]));
  process.stderr.write(
    `  medians: ${names.map((n) => `${n} ${fmtTime(result[n])}`).join(', ')} (${((Date.now() - started) / 1e3).toFixed(0)} s)\n`,
  );
  return result;
}

/** A mutating workload: every sample in a namespace of its own. */
function inFreshNs(pairs, fn) {
  return () => {
    const ns = freshNs(pairs);
    try {
      return fn(ns);
    } finally {
      dropNs(ns);
    }
  };
}

function addRoutes() {
  const N = 100000;
  const N_PY = 10000;
  const N_EACH = 200;
  const route = (i) => `route add ${ipv4(ROUTE_BASE, i)}/32 via 10.0.0.2 dev d0`;
  const lines = Array.from({ length: N }, (_, i) => route(i));
  const m = measure('add 100k routes', {
    c: inFreshNs(1, (ns) => C(ns, 'add-routes', N, 'd0').seconds),
    batch: inFreshNs(1, (ns) => ipBatch(ns, lines).seconds),
    ...(hasPyroute2 && { py: inFreshNs(1, (ns) => (PY(ns, 'add-routes', N_PY, 'd0').seconds * N) / N_PY) }),
    each: inFreshNs(1, (ns) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_EACH; i++) sh('ip', ['-n', ns, ...route(i).split(' ')]);
      return ((Number(process.hrtime.bigint() - t0) / 1e9) * N) / N_EACH;
    }),
    rtnl: inFreshNs(1, (ns) => RTNL(ns, 'add-routes', N, 'd0').seconds),
    rtnlByName: inFreshNs(1, (ns) => RTNL(ns, 'add-routes-by-name', N, 'd0').seconds),
  });
  return [
    {
      label: 'add 100k IPv4 routes',
      rtnlHow: 'one `h.batch` of `route.add` (gateway + dev index)',
      ...m,
      pyNote: `${N_PY / 1000}k, scaled`,
      eachNote: `${N_EACH}, scaled`,
      target: { vs: 'c', max: 1.5, text: '≤ 1.5× raw C' },
    },
    {
      label: 'add 100k IPv4 routes, dev by name',
      rtnlHow: 'as above, `dev: "d0"`',
      rtnl: m.rtnlByName,
      c: m.c,
      batch: m.batch,
      target: { vs: 'c', max: 1.5, text: '≤ 1.5× raw C' },
    },
  ];
}

function dumpRoutes() {
  const ns = freshNs(1);
  try {
    C(ns, 'add-routes', 100000, 'd0');
    const m = measure('dump 100k routes', {
      c: () => C(ns, 'dump-routes').seconds,
      batch: () => ipBatch(ns, ['route show table main']).seconds,
      ...(hasPyroute2 && { py: () => PY(ns, 'dump-routes').seconds }),
      each: () => {
        const t0 = process.hrtime.bigint();
        const routes = JSON.parse(wall('ip', ['-n', ns, '-j', 'route', 'show', 'table', 'main']).out);
        if (routes.length < 100000) throw new Error(`ip -j route show: ${routes.length} routes`);
        return Number(process.hrtime.bigint() - t0) / 1e9;
      },
      rtnl: () => RTNL(ns, 'dump-routes').seconds,
      rtnlStream: () => RTNL(ns, 'stream-routes').seconds,
    });
    return [
      {
        label: 'dump 100k routes to objects',
        rtnlHow: "`route.list({ table: 'main' })`",
        ...m,
        cNote: 'counts messages',
        batchNote: 'text',
        eachNote: '`ip -j` + JSON.parse',
        target: { vs: 'batch', max: 0.8, text: "≤ 0.8× ip -batch's text dump" },
      },
      {
        label: 'dump 100k routes, streamed',
        rtnlHow: "`for await` over `route.stream({ table: 'main' })`, counting",
        rtnl: m.rtnlStream,
        c: m.c,
        batch: m.batch,
        target: { vs: 'batch', max: 0.8, text: "≤ 0.8× ip -batch's text dump" },
      },
    ];
  } finally {
    dropNs(ns);
  }
}

function addVeth() {
  const N = 1000;
  const N_EACH = 50;
  const veth = (i) => `link add bv${i} type veth peer name bp${i}`;
  const m = measure('create 1000 veth pairs', {
    c: inFreshNs(0, (ns) => C(ns, 'add-veth', N).seconds),
    batch: inFreshNs(
      0,
      (ns) =>
        ipBatch(
          ns,
          Array.from({ length: N }, (_, i) => veth(i)),
        ).seconds,
    ),
    ...(hasPyroute2 && { py: inFreshNs(0, (ns) => PY(ns, 'add-veth', N).seconds) }),
    each: inFreshNs(0, (ns) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_EACH; i++) sh('ip', ['-n', ns, ...veth(i).split(' ')]);
      return ((Number(process.hrtime.bigint() - t0) / 1e9) * N) / N_EACH;
    }),
    rtnl: inFreshNs(0, (ns) => RTNL(ns, 'add-veth', N).seconds),
  });
  return [
    {
      label: 'create 1000 veth pairs',
      rtnlHow: 'one `h.batch` of `link.add` veth',
      ...m,
      eachNote: `${N_EACH}, scaled`,
      target: { vs: 'c', max: 1.2, text: 'within 1.2× raw C' },
    },
  ];
}

function dumpLinks() {
  const ns = freshNs(0);
  try {
    C(ns, 'add-veth', 1000);
    const m = measure('dump 2000 links', {
      c: () => C(ns, 'dump-links').seconds,
      batch: () => ipBatch(ns, ['link show']).seconds,
      ...(hasPyroute2 && { py: () => PY(ns, 'dump-links').seconds }),
      each: () => {
        const t0 = process.hrtime.bigint();
        const links = JSON.parse(wall('ip', ['-n', ns, '-j', 'link', 'show']).out);
        if (links.length < 2000) throw new Error(`ip -j link show: ${links.length} links`);
        return Number(process.hrtime.bigint() - t0) / 1e9;
      },
      rtnl: () => RTNL(ns, 'dump-links').seconds,
      rtnlWarm: () => RTNL(ns, 'dump-links-warm').seconds,
    });
    return [
      {
        label: 'dump 2000 links',
        rtnlHow: '`link.list()`, the second call of a fresh process',
        ...m,
        cNote: 'counts messages',
        batchNote: 'text',
        eachNote: '`ip -j` + JSON.parse',
        target: { vs: 'c', max: 2, text: '≤ 2× raw C' },
      },
      {
        label: 'dump 2000 links, warm',
        rtnlHow: '`link.list()`, median of 7 calls after 3 in one process',
        ...m,
        rtnl: m.rtnlWarm,
        py: undefined,
        each: undefined,
        cNote: 'counts messages',
        batchNote: 'text',
        target: { vs: 'c', max: 2, text: '≤ 2× raw C' },
      },
    ];
  } finally {
    dropNs(ns);
  }
}

function addAddrs() {
  const N = 10000;
  const N_EACH = 200;
  const PAIRS = 5; // 10 devices, 1000 addresses each: the kernel's per-device list walk stays small
  const devs = Array.from({ length: 2 * PAIRS }, (_, i) => `d${i}`);
  const addr = (i) => `addr add ${ipv4(ADDR_BASE, i)}/32 dev ${devs[i % devs.length]}`;
  const m = measure('add 10k addresses', {
    c: inFreshNs(PAIRS, (ns) => C(ns, 'add-addrs', N, devs.join(',')).seconds),
    batch: inFreshNs(
      PAIRS,
      (ns) =>
        ipBatch(
          ns,
          Array.from({ length: N }, (_, i) => addr(i)),
        ).seconds,
    ),
    ...(hasPyroute2 && { py: inFreshNs(PAIRS, (ns) => PY(ns, 'add-addrs', N, devs.join(',')).seconds) }),
    each: inFreshNs(PAIRS, (ns) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_EACH; i++) sh('ip', ['-n', ns, ...addr(i).split(' ')]);
      return ((Number(process.hrtime.bigint() - t0) / 1e9) * N) / N_EACH;
    }),
    rtnl: inFreshNs(PAIRS, (ns) => RTNL(ns, 'add-addrs', N, devs.join(',')).seconds),
  });
  return [
    {
      label: 'add 10k IPv4 addresses (10 devices)',
      rtnlHow: 'one `h.batch` of `addr.add` (dev index)',
      ...m,
      eachNote: `${N_EACH}, scaled`,
      target: { vs: 'c', max: 1.2, text: 'within 1.2× raw C' },
    },
  ];
}

function netnsCycle() {
  const N = 100;
  const N_EACH = 20;
  let k = 0;
  const prefix = () => `${NS_PREFIX}n${k++}-`;
  const m = measure('create+delete 100 netns', {
    c: () => C(null, 'netns', N, prefix()).seconds,
    batch: () => {
      const p = prefix();
      const lines = [];
      for (let i = 0; i < N; i++) lines.push(`netns add ${p}${i}`);
      for (let i = 0; i < N; i++) lines.push(`netns del ${p}${i}`);
      const file = path.join(tmp, 'netns.txt');
      fs.writeFileSync(file, lines.join('\n') + '\n');
      return wall('ip', ['-batch', file]).seconds;
    },
    ...(hasPyroute2 && { py: () => PY(prefix(), 'netns', N).seconds }),
    each: () => {
      const p = prefix();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N_EACH; i++) sh('ip', ['netns', 'add', `${p}${i}`]);
      for (let i = 0; i < N_EACH; i++) sh('ip', ['netns', 'del', `${p}${i}`]);
      return ((Number(process.hrtime.bigint() - t0) / 1e9) * N) / N_EACH;
    },
    rtnl: () => RTNL(prefix(), 'netns', N).seconds,
  });
  sleep(500);
  return [
    {
      label: 'create+delete 100 named netns',
      rtnlHow: '`netns.create` then `netns.delete`, awaited one by one',
      ...m,
      eachNote: `${N_EACH}, scaled`,
      target: { vs: 'c', max: 1.2, text: 'within 1.2× raw C' },
    },
  ];
}

function linkGet() {
  const N_LIB = 20000;
  const N_IP = 200;
  const ns = freshNs(1);
  try {
    let inFlight = [];
    const m = measure('link.get round trip', {
      each: () => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < N_IP; i++) JSON.parse(wall('ip', ['-n', ns, '-j', 'link', 'show', 'dev', 'd0']).out);
        return Number(process.hrtime.bigint() - t0) / 1e9 / N_IP;
      },
      rtnl: () => {
        const r = RTNL(ns, 'link-get', N_LIB, 'd0');
        inFlight.push(r.inFlight);
        return r.seconds;
      },
    });
    return {
      label: 'one `link.get` round trip',
      each: m.each,
      rtnl: m.rtnl,
      rtnlInFlight: median(inFlight),
      nIp: N_IP,
      nLib: N_LIB,
    };
  } finally {
    dropNs(ns);
  }
}

function memory() {
  const N = 1000000;
  const ns = freshNs(1);
  try {
    log('memory: filling 1M routes with the C baseline\n');
    const fill = C(ns, 'add-routes', N, 'd0');
    const samples = { stream: [], list: [] };
    for (let r = 0; r < RUNS; r++) {
      log(`\rmemory: run ${r + 1}/${RUNS}          `);
      samples.stream.push(selfTimed(process.execPath, ['--expose-gc', WORKER, ns, 'rss-stream']));
      let list;
      try {
        list = selfTimed(process.execPath, ['--expose-gc', '--max-old-space-size=8192', WORKER, ns, 'rss-list']);
      } catch (e) {
        list = { error: String(e.message).split('\n')[0] };
      }
      samples.list.push(list);
    }
    log('\n');
    const pick = (xs, key) => median(xs.map((x) => x[key]));
    return {
      fillSeconds: fill.seconds,
      count: samples.stream[0].count,
      stream: { seconds: pick(samples.stream, 'seconds'), growth: pick(samples.stream, 'peakGrowthMB') },
      list: samples.list.some((x) => x.error)
        ? { error: samples.list.find((x) => x.error).error }
        : { seconds: pick(samples.list, 'seconds'), growth: pick(samples.list, 'peakGrowthMB') },
      baseRss: pick(samples.stream, 'rssBeforeMB'),
    };
  } finally {
    dropNs(ns);
  }
}

// ------------------------------------------------------------------ report

function fmtTime(s) {
  if (s === undefined) return '—';
  if (s >= 10) return `${s.toFixed(1)} s`;
  if (s >= 1) return `${s.toFixed(2)} s`;
  if (s >= 0.001) return `${(s * 1e3).toFixed(s >= 0.1 ? 0 : 1)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

function fmtRatio(x) {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`;
}

function cell(seconds, note) {
  return note && seconds !== undefined ? `${fmtTime(seconds)} (${note})` : fmtTime(seconds);
}

const PEER_NAMES = { c: 'raw C', batch: 'ip -batch', py: 'pyroute2', each: 'one ip per op' };

function renderTables(rows, lookup, mem) {
  const out = [];
  out.push(
    '| workload | raw C, batched | ip -batch | pyroute2 | one `ip` per op | rtnl | rtnl ÷ raw C | rtnl ÷ ip -batch | target | met |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
  const verdicts = [];
  for (const r of rows) {
    const vsC = r.c ? r.rtnl / r.c : undefined;
    const vsBatch = r.batch ? r.rtnl / r.batch : undefined;
    const ratio = r.rtnl / r[r.target.vs];
    const met = ratio <= r.target.max;
    verdicts.push({ label: r.label, met, text: `${r.target.text}: ${fmtRatio(ratio)} vs ${PEER_NAMES[r.target.vs]}` });
    out.push(
      `| ${r.label}<br><sub>rtnl: ${r.rtnlHow}</sub> | ${cell(r.c, r.cNote)} | ${cell(r.batch, r.batchNote)} | ` +
        `${r.py === undefined && !hasPyroute2 ? 'not installed' : cell(r.py, r.pyNote)} | ${cell(r.each, r.eachNote)} | ` +
        `${fmtTime(r.rtnl)} | ${fmtRatio(vsC)} | ${fmtRatio(vsBatch)} | ${r.target.text} | ${met ? 'met' : '**not met**'} |`,
    );
  }
  const speedup = lookup.each / lookup.rtnl;
  const lookupMet = speedup >= 200;
  verdicts.push({
    label: lookup.label,
    met: lookupMet,
    text: `≥ 200× faster than spawning ip: ${speedup.toFixed(0)}×`,
  });
  out.push('');
  out.push('| one link lookup | µs per lookup | vs spawning ip | target | met |');
  out.push('|---|---:|---:|---|---|');
  out.push(
    `| spawn \`ip -j link show dev X\` + JSON.parse (${lookup.nIp}×) | ${(lookup.each * 1e6).toFixed(0)} | 1× | | |`,
  );
  out.push(
    `| rtnl \`link.get\`, awaited one by one (${lookup.nLib}×) | ${(lookup.rtnl * 1e6).toFixed(1)} | ` +
      `${speedup.toFixed(0)}× faster | ≥ 200× faster | ${lookupMet ? 'met' : '**not met**'} |`,
  );
  out.push(
    `| rtnl \`link.get\`, ${lookup.nLib} in flight at once | ${(lookup.rtnlInFlight * 1e6).toFixed(1)} | ` +
      `${(lookup.each / lookup.rtnlInFlight).toFixed(0)}× faster | | |`,
  );
  const memMet = mem.stream.growth < 150;
  verdicts.push({ label: 'streamed 1M dump RSS', met: memMet, text: `< 150 MB: ${mem.stream.growth.toFixed(0)} MB` });
  out.push('');
  out.push(
    `| dump of ${(mem.count / 1e6).toFixed(1)}M routes (table filled by raw C in ${fmtTime(mem.fillSeconds)}) | time | peak RSS growth | target | met |`,
  );
  out.push('|---|---:|---:|---|---|');
  out.push(
    `| rtnl \`for await\` over \`route.stream({ table: 'main' })\`, counting | ${fmtTime(mem.stream.seconds)} | ` +
      `${mem.stream.growth.toFixed(0)} MB | < 150 MB | ${memMet ? 'met' : '**not met**'} |`,
  );
  out.push(
    mem.list.error
      ? `| rtnl \`route.list({ table: 'main' })\` (for contrast) | failed: ${mem.list.error} | | | |`
      : `| rtnl \`route.list({ table: 'main' })\` (for contrast) | ${fmtTime(mem.list.seconds)} | ${mem.list.growth.toFixed(0)} MB | | |`,
  );
  return { table: out.join('\n'), verdicts };
}

function environment() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const ip = sh('ip', ['-V']).trim();
  const py = hasPyroute2
    ? sh(PYTHON, ['-c', 'import sys, pyroute2.config as c; print(sys.version.split()[0])']).trim()
    : undefined;
  return (
    `Linux ${os.release()}, ${os.cpus().length} × ${cpu}, Node ${process.version}, ${ip}` +
    (py ? `, pyroute2 (Debian python3-pyroute2) on Python ${py}` : ', pyroute2 not installed')
  );
}

const DEFAULT_NOTES = `How to read it: times are medians of ${RUNS} runs in one session; every run of a
mutating workload gets a fresh namespace. The ratios are what matter (the
machine is shared and noisy). "rtnl ÷ raw C" below 1 would mean rtnl beat the
C floor; the target column names the ratio the performance issue asks for.

- raw C, batched (\`bench/baseline.c\`): every request built back to back,
  sent in ~64 KiB sendmsg chunks, ACKs drained between chunks; dumps only
  count messages. The floor, not a competitor.
- \`ip -batch\`: one \`ip -n NS -batch FILE\` process, timed spawn to exit.
  Dumps: \`route show table main\` / \`link show\` as text.
- pyroute2: \`IPRoute\`, one request at a time, timed inside Python; the
  route adds run 10k and are scaled to 100k (it does ~2-3k/s).
- one \`ip\` per op: a small N of spawns, scaled; for dumps, one
  \`ip -j ... show\` spawn plus \`JSON.parse\` (to objects, like rtnl).
- rtnl: \`bench/rtnl-worker.js\` in a fresh Node process, timed around the
  call after \`nl.open({ netns })\`; its dumps are warmed up once
  in-process (JIT). C and CPython have nothing to warm.
- Addresses go round robin onto 10 devices: on one device the kernel's
  duplicate check walks the whole list and makes every peer quadratic.
- Memory: peak RSS (VmHWM, reset just before the dump) minus RSS before it,
  in a fresh Node process. Most of the growth is garbage V8 has not yet
  collected: capped with \`--max-old-space-size=64\` the same stream
  completes with about half the growth, slower.
- Profiling the rtnl side of a row: \`node --cpu-prof bench/rtnl-worker.js
  NS MODE N DEV\` in a namespace set up like the runner's, then
  \`node bench/cpu-top.js CPU.cpuprofile\` for the top self-time functions.`;

function writeMarkdown(table, verdicts, env) {
  let notes = DEFAULT_NOTES;
  if (fs.existsSync(MD_FILE)) {
    const old = fs.readFileSync(MD_FILE, 'utf8');
    const a = old.indexOf(NOTES_START);
    const b = old.indexOf(NOTES_END);
    if (a >= 0 && b > a) notes = old.slice(a + NOTES_START.length, b).trim();
  }
  const md = [
    '# Benchmarks',
    '',
    'Regenerated by `npm run bench` (as root; needs `cc`, iproute2, optionally',
    '`python3-pyroute2`). Everything runs in namespaces the runner creates and',
    'deletes; the host namespace is never touched. Benchmarks are not tests: CI',
    'times nothing.',
    '',
    NOTES_START,
    notes,
    NOTES_END,
    '',
    `## Last run (${new Date().toISOString().slice(0, 10)})`,
    '',
    env,
    '',
    table,
    '',
    '### Targets',
    '',
    ...verdicts.map((v) => `- ${v.met ? 'met' : '**not met**'}: ${v.label} — ${v.text}`),
    '',
  ].join('\n');
  fs.writeFileSync(MD_FILE, md);
}

function main() {
  if (process.getuid() !== 0) throw new Error('npm run bench needs root (it creates namespaces)');
  sh('cc', ['-O2', '-Wall', '-o', baseline, path.join(__dirname, 'baseline.c')]);
  if (!hasPyroute2)
    log(`pyroute2: not importable by ${PYTHON} (apt install python3-pyroute2); its column is skipped\n`);
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (name) => !only || only.includes(name);
  const t0 = Date.now();
  const rows = [];
  if (want('routes')) rows.push(...addRoutes(), ...dumpRoutes());
  if (want('veth')) rows.push(...addVeth());
  if (want('links')) rows.push(...dumpLinks());
  if (want('addrs')) rows.push(...addAddrs());
  if (want('netns')) rows.push(...netnsCycle());
  const lookup = want('get') ? linkGet() : undefined;
  const mem = want('memory') ? memory() : undefined;
  if (only) {
    console.log(JSON.stringify({ rows, lookup, mem }, null, 2));
    return;
  }
  const env = environment();
  const { table, verdicts } = renderTables(rows, lookup, mem);
  console.log(`\n${env}\n\n${table}\n`);
  for (const v of verdicts) console.log(`${v.met ? 'met    ' : 'NOT MET'}  ${v.label}: ${v.text}`);
  writeMarkdown(table, verdicts, env);
  console.log(`\nBENCHMARKS.md rewritten (${((Date.now() - t0) / 1000).toFixed(0)} s).`);
}

try {
  main();
} catch (e) {
  console.error(e);
  process.exitCode = 1;
}
