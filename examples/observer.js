#!/usr/bin/env node
'use strict';
// Story 5, an observability agent: link counters, addresses and routes of
// every namespace on the host, read by namespace id from here (no socket,
// no process in each), and one monitor across all of them.
//
//   node examples/observer.js [seconds]   (default 3; the demo makes two
//                                          namespaces to observe, and removes them)
const { randomBytes } = require('node:crypto');
const nl = require('..');

const SECONDS = Number(process.argv[2] ?? 3);

async function main() {
  const tag = randomBytes(3).toString('hex');
  const watched = [`rtnl-obs-a-${tag}`, `rtnl-obs-b-${tag}`];
  for (const ns of watched) await nl.netns.create(ns);
  // an observer namespace of its own, so ids are assigned there, not on the host
  const self = `rtnl-obs-${tag}`;
  await nl.netns.create(self);
  const h = await nl.open({ netns: self });
  try {
    const monitor = h.monitor({ groups: ['link', 'addr'], allNamespaces: true });
    monitor.on('event', (ev) => {
      if (ev.type !== 'new' && ev.type !== 'del') return;
      const what = ev.object === 'link' ? ev.data.name : `${ev.data.address}/${ev.data.prefixLength}`;
      console.log(`  [${ev.netns ?? ev.nsid ?? 'here'}] ${ev.type} ${ev.object} ${what}`);
    });
    await new Promise((r) => setTimeout(r, 200)); // ids assigned to every named namespace
    // something happens in the watched namespaces
    for (const [i, ns] of watched.entries()) {
      const w = await nl.open({ netns: ns });
      await w.link.add({ kind: 'bridge', name: `br${i}`, up: true });
      await w.addr.add(`br${i}`, `10.60.${i}.1/24`);
      await w.close();
    }
    const deadline = Date.now() + SECONDS * 1000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const ns of watched) {
        const nsid = await h.nsid.get(ns);
        const links = await h.link.list({ nsid });
        const counters = links.map((l) => `${l.name} rx ${l.stats?.rxPackets ?? 0} tx ${l.stats?.txPackets ?? 0}`);
        console.log(`${ns} (nsid ${nsid}): ${counters.join(', ')}`);
      }
    }
    monitor.close();
  } finally {
    await h.close();
    for (const ns of [...watched, self]) await nl.netns.delete(ns);
    await nl.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
