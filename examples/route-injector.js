#!/usr/bin/env node
'use strict';
// Story 4, a route injector: a table of prefixes installed through one
// nexthop group, in one pipelined batch; the group's members replaced when
// a peer goes away (every route follows at once); the table streamed back
// without holding it in memory; a monitor that resyncs after overruns.
//
//   node examples/route-injector.js [count]     (default 100000, in a scratch namespace)
const { randomBytes } = require('node:crypto');
const nl = require('..');

const COUNT = Number(process.argv[2] ?? 100_000);

const prefix = (i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;
const ms = (t0) => `${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`;

async function main() {
  const ns = `rtnl-injector-${randomBytes(3).toString('hex')}`;
  await nl.netns.create(ns);
  const h = await nl.open({ netns: ns });
  try {
    // two uplinks with four peers each
    await h.link.add({ kind: 'veth', name: 'up0', peer: { name: 'up0p' }, up: true });
    await h.link.add({ kind: 'veth', name: 'up1', peer: { name: 'up1p' }, up: true });
    await h.link.set('up0p', { up: true });
    await h.link.set('up1p', { up: true });
    await h.addr.add('up0', '192.0.2.1/24');
    await h.addr.add('up1', '198.51.100.1/24');
    for (let i = 0; i < 4; i++) {
      await h.nexthop.add({ id: 1 + i, gateway: `192.0.2.${10 + i}`, dev: 'up0' });
      await h.nexthop.add({ id: 11 + i, gateway: `198.51.100.${10 + i}`, dev: 'up1' });
    }
    await h.nexthop.add({ id: 100, group: [1, 2, 3, 4] });

    // watch routes; a resync snapshot follows any overrun
    const events = h.monitor({ groups: ['nexthop'] });
    events.on(
      'event',
      (ev) =>
        ev.type === 'new' &&
        ev.object === 'nexthop' &&
        ev.data.id === 100 &&
        console.log(`  event: group 100 now ${ev.data.group.map((m) => m.id).join(',')}`),
    );

    let t0 = process.hrtime.bigint();
    const results = await h.batch((b) => {
      for (let i = 0; i < COUNT; i++) b.route.add({ dst: prefix(i), nhid: 100 });
    });
    console.log(`installed ${results.filter((r) => r.ok).length} routes on nexthop group 100 in ${ms(t0)}`);

    const probe = prefix(COUNT >> 1).replace('/32', '');
    console.log(`  ${probe} goes via ${(await h.route.get(probe)).gateway}`);
    t0 = process.hrtime.bigint();
    await h.nexthop.replace({ id: 100, group: [11, 12, 13, 14] }); // uplink 0 is gone
    console.log(
      `replaced the group's members in ${ms(t0)}; ${probe} now goes via ${(await h.route.get(probe)).gateway}`,
    );

    t0 = process.hrtime.bigint();
    const rss0 = process.memoryUsage().rss;
    let n = 0;
    for await (const r of h.route.stream({ table: 'main', family: 4 })) if (r.nhid === 100) n++;
    console.log(
      `streamed ${n} routes back in ${ms(t0)}, RSS +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB`,
    );
    events.close();
  } finally {
    await h.close();
    await nl.netns.delete(ns);
    await nl.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
