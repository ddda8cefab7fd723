#!/usr/bin/env node
'use strict';
// Captures dumps of the object types the other fixtures lack (addresses,
// nexthops, qdiscs, classes, filters with actions, actions, netconf, nsid,
// bridge vlans) into test/fixtures/fuzz-seeds.json: seeds for the codec
// fuzzer (test/reliability/fuzz.ts). Run as root: node scripts/capture-fuzz-seeds.js
// It works in a scratch namespace made with `ip netns add` and deletes it.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
require('../test/reliability/ts-register');
const nl = require('../lib');
const { Writer } = require('../lib/netlink/attributes');
const { buildMessage } = require('../lib/netlink/message');

const ns = `rtnl-seeds-${process.pid}`;
const run = (cmd, ...args) => execFileSync(cmd, ['-n', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (...args) => run('ip', ...args);
const tc = (...args) => run('tc', ...args);
const tryRun = (f) => {
  try {
    f();
  } catch (e) {
    console.warn(`skipped: ${String(e.stderr || e.message).trim()}`);
  }
};

function header(size, fill) {
  const w = new Writer();
  w.zeros(size);
  fill?.(w.buf);
  return w;
}

async function main() {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'add', `${ns}-peer`]);
  const h = await nl.open({ netns: ns });
  const messages = [];
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    ip('link', 'add', 'br0', 'type', 'bridge');
    tryRun(() => ip('link', 'set', 'br0', 'type', 'bridge', 'vlan_filtering', '1'));
    ip('link', 'set', 'vb', 'master', 'br0');
    for (const d of ['va', 'vb', 'br0']) ip('link', 'set', d, 'up');
    tryRun(() => ip('link', 'set', 'lo', 'up'));
    tryRun(() => run('bridge', 'vlan', 'add', 'dev', 'vb', 'vid', '10-20'));
    tryRun(() => run('bridge', 'vlan', 'add', 'dev', 'vb', 'vid', '5', 'pvid', 'untagged'));
    ip('addr', 'add', '10.1.0.1/24', 'dev', 'va', 'broadcast', '+', 'label', 'va:one');
    ip('addr', 'add', '10.1.0.9/32', 'peer', '10.9.9.9', 'dev', 'va');
    ip('addr', 'add', '2001:db8:1::1/64', 'dev', 'va', 'nodad', 'valid_lft', '3000', 'preferred_lft', '2000');
    tryRun(() => ip('addr', 'add', '10.1.0.2/24', 'dev', 'va', 'proto', '99', 'metric', '5'));
    ip('nexthop', 'add', 'id', '5', 'via', '10.1.0.2', 'dev', 'va');
    ip('nexthop', 'add', 'id', '6', 'via', '10.1.0.3', 'dev', 'va');
    ip('nexthop', 'add', 'id', '7', 'blackhole');
    ip('nexthop', 'add', 'id', '8', 'group', '5,3/6');
    tryRun(() => ip('nexthop', 'add', 'id', '9', 'group', '5/6', 'type', 'resilient', 'buckets', '8'));
    tryRun(() => ip('nexthop', 'add', 'id', '10', 'encap', 'mpls', '100', 'via', '10.1.0.2', 'dev', 'va'));
    tc('qdisc', 'add', 'dev', 'va', 'root', 'handle', '1:', 'htb', 'default', '10');
    tc('class', 'add', 'dev', 'va', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10mbit', 'ceil', '20mbit');
    tryRun(() =>
      tc(
        'qdisc',
        'add',
        'dev',
        'va',
        'parent',
        '1:10',
        'handle',
        '10:',
        'netem',
        'delay',
        '10ms',
        '2ms',
        '25%',
        'loss',
        '1%',
        'rate',
        '1mbit',
      ),
    );
    tryRun(() => tc('qdisc', 'add', 'dev', 'vb', 'root', 'handle', '2:', 'fq_codel'));
    tryRun(() =>
      tc(
        'qdisc',
        'add',
        'dev',
        'br0',
        'root',
        'handle',
        '3:',
        'tbf',
        'rate',
        '1mbit',
        'burst',
        '32kbit',
        'latency',
        '400ms',
      ),
    );
    tc('qdisc', 'add', 'dev', 'va', 'clsact');
    tryRun(() =>
      tc(
        'filter',
        'add',
        'dev',
        'va',
        'ingress',
        'protocol',
        'ip',
        'prio',
        '1',
        'u32',
        'match',
        'ip',
        'dst',
        '10.0.0.0/8',
        'action',
        'drop',
      ),
    );
    tryRun(() =>
      tc(
        'filter',
        'add',
        'dev',
        'va',
        'ingress',
        'protocol',
        'ip',
        'prio',
        '2',
        'flower',
        'ip_proto',
        'tcp',
        'dst_port',
        '80',
        'action',
        'mirred',
        'egress',
        'redirect',
        'dev',
        'vb',
      ),
    );
    tryRun(() =>
      tc(
        'filter',
        'add',
        'dev',
        'va',
        'egress',
        'prio',
        '3',
        'matchall',
        'action',
        'police',
        'rate',
        '1mbit',
        'burst',
        '10k',
        'conform-exceed',
        'drop',
      ),
    );
    tryRun(() =>
      tc(
        'filter',
        'add',
        'dev',
        'va',
        'parent',
        '1:',
        'protocol',
        'ip',
        'prio',
        '4',
        'fw',
        'handle',
        '7',
        'classid',
        '1:10',
      ),
    );
    tryRun(() => tc('actions', 'add', 'action', 'gact', 'pass', 'index', '42'));
    tryRun(() => tc('actions', 'add', 'action', 'skbedit', 'mark', '5', 'index', '43'));
    tryRun(() => run('ip', 'netns', 'set', `${ns}-peer`, '7'));

    const dump = async (label, type, payload) => {
      try {
        const replies = await h.request({ type, flags: ['dump'], payload: payload.take() });
        for (const r of replies) {
          messages.push({ kind: label, hex: buildMessage(r.type, r.flags, r.payload).toString('hex') });
        }
      } catch (e) {
        console.warn(`${label}: ${e.message}`);
      }
    };
    const links = await h.link.list();
    await dump(
      'addr4',
      'RTM_GETADDR',
      header(8, (b) => (b[0] = 2)),
    );
    await dump(
      'addr6',
      'RTM_GETADDR',
      header(8, (b) => (b[0] = 10)),
    );
    await dump('nexthop', 'RTM_GETNEXTHOP', header(8));
    await dump('qdisc', 'RTM_GETQDISC', header(20));
    for (const link of links) {
      await dump(
        'class',
        'RTM_GETTCLASS',
        header(20, (b) => b.writeInt32LE(link.index, 4)),
      );
      for (const parent of [0xfffffff2, 0xfffffff3, 0x10000]) {
        await dump(
          'filter',
          'RTM_GETTFILTER',
          header(20, (b) => (b.writeInt32LE(link.index, 4), b.writeUInt32LE(parent, 12))),
        );
      }
    }
    for (const kind of ['gact', 'skbedit']) {
      const w = header(4);
      const tab = w.begin(1); // TCA_ACT_TAB
      const one = w.begin(1);
      w.attrString(1, kind); // TCA_ACT_KIND
      w.end(one);
      w.end(tab);
      await dump('action', 'RTM_GETACTION', w);
    }
    await dump(
      'netconf',
      'RTM_GETNETCONF',
      header(4, (b) => (b[0] = 0)),
    );
    await dump('nsid', 'RTM_GETNSID', header(4));
    const brvlan = header(16, (b) => (b[0] = 7)); // AF_BRIDGE
    brvlan.attrU32(29, 2); // IFLA_EXT_MASK = RTEXT_FILTER_BRVLAN
    await dump('bridge-vlan', 'RTM_GETLINK', brvlan);
  } finally {
    await h.close();
    execFileSync('ip', ['netns', 'del', ns]);
    execFileSync('ip', ['netns', 'del', `${ns}-peer`]);
  }
  const out = path.join(__dirname, '..', 'test', 'fixtures', 'fuzz-seeds.json');
  const content = { kernel: require('node:os').release(), source: 'dumps in a scratch namespace', messages };
  fs.writeFileSync(out, JSON.stringify(content, null, 1) + '\n');
  const counts = {};
  for (const m of messages) counts[m.kind] = (counts[m.kind] ?? 0) + 1;
  console.log(`wrote ${messages.length} messages to ${out}`, counts);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
