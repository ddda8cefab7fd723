#!/usr/bin/env node
'use strict';
// Story 2, a network lab for a test suite: N namespaces on a bridge, a node
// of "the software" in each (here a tiny TCP echo started with
// netns.spawn), a rate limit on one link with tc, a partition between two
// groups with nftables, healed again, and everything torn down at the end,
// also on failure. In a Jest suite, lab.up() goes in beforeAll and
// lab.down() in afterAll.
//
//   node examples/lab.js [nodes]   (default 4)
const { randomBytes } = require('node:crypto');
const net = require('node:net');
const nl = require('..');

const NODE = `require('net').createServer((c) => c.pipe(c)).listen(7000)`; // the "software"

function lab(size) {
  const tag = randomBytes(3).toString('hex');
  const hub = `rtnl-lab-hub-${tag}`;
  const nodes = Array.from({ length: size }, (_, i) => ({
    ns: `rtnl-lab-n${i}-${tag}`,
    address: `10.70.0.${i + 1}`,
    handle: null,
    process: null,
  }));
  return {
    nodes,
    async up() {
      await nl.netns.create(hub);
      const h = await nl.open({ netns: hub });
      await h.link.add({ kind: 'bridge', name: 'br0', up: true });
      for (const [i, n] of nodes.entries()) {
        await nl.netns.create(n.ns);
        await h.link.add({ kind: 'veth', name: `p${i}`, master: 'br0', up: true, peer: { name: 'eth0', netns: n.ns } });
        n.handle = await nl.open({ netns: n.ns });
        await n.handle.link.set('lo', { up: true });
        await n.handle.addr.add('eth0', `${n.address}/24`);
        await n.handle.link.set('eth0', { up: true });
        n.process = nl.netns.spawn(n.ns, process.execPath, ['-e', NODE], { stdio: 'ignore' });
      }
      await h.close();
      await Promise.all(nodes.map((n) => n.handle.link.waitFor('eth0', { carrier: true }, { timeout: 5000 })));
      // the software is up when every node answers (from node 0)
      for (let i = 0; i < nodes.length; i++) {
        const deadline = Date.now() + 10_000;
        while (!(await reaches(this, 0, i)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Limits what node i sends to `rate` (tc tbf on its eth0). */
    async shape(i, rate) {
      await nodes[i].handle.tc.qdisc.replace({
        dev: 'eth0',
        parent: 'root',
        handle: '1:',
        kind: 'tbf',
        options: { rate, burst: '32kb', latency: '50ms' },
      });
    },
    /** Drops traffic between the groups: an nftables table in every node of `a` dropping packets from `b`. */
    async partition(a, b) {
      for (const i of a) {
        await nodes[i].handle.nft.apply([
          { add: 'table', family: 'inet', name: 'partition' },
          {
            add: 'chain',
            family: 'inet',
            table: 'partition',
            name: 'in',
            type: 'filter',
            hook: 'input',
            priority: 0,
            policy: 'accept',
          },
          ...b.map((j) => ({
            add: 'rule',
            family: 'inet',
            table: 'partition',
            chain: 'in',
            match: { saddr: nodes[j].address },
            verdict: 'drop',
          })),
        ]);
      }
    },
    async heal() {
      for (const n of nodes) {
        const { tables } = await n.handle.nft.list({ family: 'inet' });
        if (tables.some((t) => t.name === 'partition'))
          await n.handle.nft.apply([{ delete: 'table', family: 'inet', name: 'partition' }]);
      }
    },
    async down() {
      for (const n of nodes) {
        n.process?.kill();
        await n.handle?.close();
        await nl.netns.delete(n.ns).catch(() => undefined);
      }
      await nl.netns.delete(hub).catch(() => undefined);
    },
  };
}

/** Can node `from` reach node `to`'s echo? (a TCP round trip from inside `from`). */
function reaches(l, from, to, timeout = 500) {
  return new Promise((resolve) => {
    const s = new net.Socket({ fd: nl.netns.socketFd(l.nodes[from].ns, 'tcp4') });
    const timer = setTimeout(() => (s.destroy(), resolve(false)), timeout);
    s.once('error', () => (clearTimeout(timer), resolve(false)));
    s.connect(7000, l.nodes[to].address, () => s.write('x'));
    s.once('data', () => (clearTimeout(timer), s.destroy(), resolve(true)));
  });
}

async function main() {
  const l = lab(Number(process.argv[2] ?? 4));
  try {
    await l.up();
    console.log(
      `lab of ${l.nodes.length} nodes up; 0 -> ${l.nodes.length - 1}: ${await reaches(l, 0, l.nodes.length - 1)}`,
    );
    await l.shape(0, '1mbit');
    console.log('node 0 shaped to 1mbit (tbf)');
    await l.partition(
      [0, 1],
      [2, 3].filter((i) => i < l.nodes.length),
    );
    console.log(`partitioned {0,1} from {2,3}; 2 -> 0: ${await reaches(l, 2, 0)}, 1 -> 0: ${await reaches(l, 1, 0)}`);
    await l.heal();
    console.log(`healed; 2 -> 0: ${await reaches(l, 2, 0)}`);
  } finally {
    await l.down();
    await nl.close();
  }
}

module.exports = { lab };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
