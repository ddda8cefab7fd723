#!/usr/bin/env node
'use strict';
// rtnl side of `npm run bench`: one workload in a fresh Node process, timed
// inside it, in the namespace bench/run.js made. Mirrors bench/baseline.c
// (same prefixes, gateway and names). Prints one JSON line.
//
//   node bench/rtnl-worker.js NETNS MODE [N] [DEVS]
//
// Modes: add-routes (dev index), add-routes-by-name, dump-routes (list),
// stream-routes (count a stream), add-veth, dump-links (the second call),
// dump-links-warm (median of 7 calls after 3), add-addrs (DEVS
// comma-separated, round robin), netns (NETNS is the name prefix),
// link-get (N awaited one by one, then N in flight), rss-stream / rss-list
// (peak RSS growth of a dump of the main table).
// Profile one with: node --cpu-prof bench/rtnl-worker.js ...
const fs = require('node:fs');
const nl = require('..');

const [netns, mode, nArg, extra = ''] = process.argv.slice(2);
const n = Number(nArg ?? 0);

function ipv4(base, i) {
  const v = base + i;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
const ROUTE_BASE = 16 << 24; // 16.0.0.0, as in baseline.c
const ADDR_BASE = ((172 << 24) | (16 << 16)) >>> 0; // 172.16.0.0

const now = () => process.hrtime.bigint();
const seconds = (t0) => Number(now() - t0) / 1e9;

function report(fields) {
  process.stdout.write(JSON.stringify(fields) + '\n');
}

/** Runs a batch and reports its time and failures. */
async function timedBatch(h, build) {
  const t0 = now();
  const results = await h.batch(build);
  const s = seconds(t0);
  const failed = results.filter((r) => !r.ok);
  report({ seconds: s, count: results.length, errors: failed.length, firstError: failed[0]?.error.message ?? '' });
}

function statusKb(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return Number(m[1]);
}

async function main() {
  if (mode === 'netns') {
    const names = Array.from({ length: n }, (_, i) => `${netns}${i}`);
    const t0 = now();
    for (const name of names) await nl.netns.create(name);
    for (const name of names) await nl.netns.delete(name);
    report({ seconds: seconds(t0), count: n });
    return;
  }
  const h = await nl.open({ netns });
  try {
    switch (mode) {
      case 'add-routes':
      case 'add-routes-by-name': {
        const dev = mode === 'add-routes' ? (await h.link.get(extra)).index : extra;
        const dsts = Array.from({ length: n }, (_, i) => `${ipv4(ROUTE_BASE, i)}/32`);
        await timedBatch(h, (b) => {
          for (const dst of dsts) b.route.add({ dst, gateway: '10.0.0.2', dev });
        });
        break;
      }
      case 'dump-routes': {
        await h.route.list({ table: 'main' }); // warm-up, as every peer does
        const t0 = now();
        const routes = await h.route.list({ table: 'main' });
        report({ seconds: seconds(t0), count: routes.length });
        break;
      }
      case 'stream-routes': {
        for await (const _ of h.route.stream({ table: 'main' }));
        const t0 = now();
        let count = 0;
        for await (const _ of h.route.stream({ table: 'main' })) count++;
        report({ seconds: seconds(t0), count });
        break;
      }
      case 'add-veth': {
        const t0 = now();
        const results = await h.batch((b) => {
          for (let i = 0; i < n; i++) b.link.add({ kind: 'veth', name: `bv${i}`, peer: { name: `bp${i}` } });
        });
        const failed = results.filter((r) => !r.ok);
        report({ seconds: seconds(t0), count: n, errors: failed.length, firstError: failed[0]?.error.message ?? '' });
        break;
      }
      case 'dump-links': {
        await h.link.list();
        const t0 = now();
        const links = await h.link.list();
        report({ seconds: seconds(t0), count: links.length });
        break;
      }
      case 'dump-links-warm': {
        // A program that lists links again and again: the median of 7 calls after 3.
        for (let i = 0; i < 3; i++) await h.link.list();
        const times = [];
        let count = 0;
        for (let i = 0; i < 7; i++) {
          const t0 = now();
          count = (await h.link.list()).length;
          times.push(seconds(t0));
        }
        times.sort((x, y) => x - y);
        report({ seconds: times[3], count });
        break;
      }
      case 'add-addrs': {
        const names = extra.split(',');
        const devs = await Promise.all(names.map(async (d) => (await h.link.get(d)).index));
        const cidrs = Array.from({ length: n }, (_, i) => `${ipv4(ADDR_BASE, i)}/32`);
        await timedBatch(h, (b) => {
          for (let i = 0; i < n; i++) b.addr.add(devs[i % devs.length], cidrs[i]);
        });
        break;
      }
      case 'link-get': {
        for (let i = 0; i < 1000; i++) await h.link.get(extra); // warm-up
        let t0 = now();
        for (let i = 0; i < n; i++) await h.link.get(extra);
        const awaited = seconds(t0) / n;
        t0 = now();
        await Promise.all(Array.from({ length: n }, () => h.link.get(extra)));
        const inFlight = seconds(t0) / n;
        report({ seconds: awaited, inFlight, count: n });
        break;
      }
      case 'rss-stream':
      case 'rss-list': {
        // Peak RSS (VmHWM) is reset just before the dump, so the growth is the dump's alone.
        if (global.gc) global.gc();
        const before = statusKb('VmRSS');
        fs.writeFileSync('/proc/self/clear_refs', '5');
        const t0 = now();
        let count = 0;
        if (mode === 'rss-stream') {
          for await (const _ of h.route.stream({ table: 'main' })) count++;
        } else {
          count = (await h.route.list({ table: 'main' })).length;
        }
        const s = seconds(t0);
        const peak = statusKb('VmHWM');
        report({ seconds: s, count, rssBeforeMB: before / 1024, peakGrowthMB: (peak - before) / 1024 });
        break;
      }
      default:
        throw new Error(`unknown mode ${mode}`);
    }
  } finally {
    await h.close();
    await nl.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
