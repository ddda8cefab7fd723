#!/usr/bin/env node
'use strict';
// Captures real kernel rule and neighbour messages into test/fixtures/rules.json and
// test/fixtures/neighbours.json, each beside what iproute2 (`ip -j -d rule`, `ip -j neigh`,
// `bridge -j fdb`) printed for the same object, so the codec tests decode bytes this kernel sent and
// compare with an independent reading of them. Run as root after `npm run compile`:
//   node scripts/capture-rule-neigh-fixtures.js
// It works in a scratch namespace made with `ip netns add` and deletes it. Objects iproute2 here
// cannot make (dscp, port masks, flow labels) are added with the library and have no `ip` entry.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nl = require('..');
const { captureRequest } = require('./strace-requests');

const { AF_BRIDGE, AF_INET, AF_INET6, AF_UNSPEC, NTF_PROXY } = nl.codec.constants;

const ns = `rtnl-capture-${process.pid}`;
const run = (cmd, args) =>
  execFileSync(cmd, ['-n', ns, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (...args) => run('ip', args);
const json = (cmd, args) => {
  const out = run(cmd, ['-j', ...args]).trim();
  return out === '' ? [] : JSON.parse(out);
};
const hexOf = (r) => nl.codec.buildMessage(r.type, r.flags, r.payload).toString('hex');
const fixtures = path.join(__dirname, '..', 'test', 'fixtures');
const write = (file, data) => {
  fs.writeFileSync(path.join(fixtures, file), JSON.stringify({ kernel: os.release(), ...data }, null, 1) + '\n');
  console.log(`wrote ${data.messages.length} messages to test/fixtures/${file}`);
};

// One rule per feature `ip rule` can express (priority 0/32766/32767 are the namespace's own).
const IP_RULES = [
  ['-4', '100', 'from', '10.0.0.0/8', 'to', '192.168.0.0/16', 'tos', '0x10', 'table', '100'],
  ['-4', '101', 'not', 'from', '10.1.0.0/16', 'goto', '200'],
  ['-4', '102', 'fwmark', '0x10/0xff', 'iif', 'lo', 'oif', 'lo', 'table', '4294967295'],
  [
    '-4',
    '103',
    'fwmark',
    '7',
    'uidrange',
    '100-200',
    'ipproto',
    'tcp',
    'sport',
    '1000-2000',
    'dport',
    '80',
    'table',
    '5',
  ],
  ['-4', '104', 'table', 'main', 'suppress_prefixlength', '0', 'suppress_ifgroup', '5'],
  ['-4', '105', 'blackhole'],
  ['-4', '106', 'prohibit'],
  ['-4', '107', 'unreachable'],
  ['-4', '108', 'nop'],
  ['-4', '109', 'realms', '1/2', 'table', '7'],
  ['-4', '110', 'l3mdev'],
  ['-4', '111', 'iif', 'nosuchdev', 'table', '9'],
  ['-4', '112', 'goto', '999'],
  ['-4', '113', 'tun_id', '5', 'table', '3', 'protocol', 'bgp'],
  ['-6', '100', 'from', '2001:db8::/32', 'to', '2001:db8:1::1', 'ipproto', 'ipv6-icmp', 'table', '100'],
  ['-6', '101', 'oif', 'lo', 'dport', '53', 'table', 'local', 'protocol', 'static'],
];

async function captureRules(h) {
  for (const [family, priority, ...rest] of IP_RULES) ip(family, 'rule', 'add', 'priority', priority, ...rest);
  await h.rule.add({ priority: 200, dscp: 10, table: 5 });
  await h.rule.add({ priority: 201, dscp: 8, dscpMask: 0x38, table: 5 });
  await h.rule.add({ priority: 202, ipProto: 'tcp', dportRange: 0x100, dportMask: 0xff00, table: 5 });
  await h.rule.add({ family: 6, priority: 200, flowlabel: 0x12345, flowlabelMask: 0xfffff, table: 5 });
  const theirs = { 4: json('ip', ['-d', '-4', 'rule', 'show']), 6: json('ip', ['-d', '-6', 'rule', 'show']) };
  const payload = Buffer.alloc(12); // fib_rule_hdr, AF_UNSPEC: both families
  const replies = await h.request({ type: 'RTM_GETRULE', flags: ['dump'], payload });
  const messages = replies
    .filter((r) => r.object.multicast === undefined)
    .map((r) => {
      const { family, priority } = r.object;
      const mine = priority >= 200 && priority < 300;
      return { family, priority, hex: hexOf(r), ip: mine ? null : theirs[family].find((t) => t.priority === priority) };
    });
  write('rules.json', { source: 'RTM_GETRULE dump; ip -j -d rule show', messages });
}

async function captureNeighbours(h) {
  ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  ip('link', 'add', 'br0', 'type', 'bridge');
  ip('link', 'set', 'vb', 'master', 'br0');
  ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '10.9.0.1', 'nolearning');
  ip('link', 'add', 'vx1', 'type', 'vxlan', 'external', 'dstport', '4790');
  ip('link', 'add', 'vx2', 'type', 'vxlan', 'id', '43', 'dstport', '4789', 'local', '2001:db8::1');
  ip('link', 'set', 'vx0', 'master', 'br0');
  for (const l of ['va', 'vb', 'br0', 'vx0', 'vx1', 'vx2']) ip('link', 'set', l, 'up');
  ip('addr', 'add', '10.9.0.1/24', 'dev', 'va');
  ip('neigh', 'add', '10.9.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'va');
  ip('neigh', 'add', '10.9.0.3', 'lladdr', '02:00:00:00:00:03', 'dev', 'va', 'nud', 'reachable');
  ip('neigh', 'add', '10.9.0.4', 'lladdr', '02:00:00:00:00:04', 'dev', 'va', 'nud', 'noarp', 'router');
  ip('neigh', 'add', '10.9.0.5', 'lladdr', '02:00:00:00:00:05', 'dev', 'va', 'nud', 'stale', 'extern_learn');
  ip('neigh', 'add', '10.9.0.6', 'dev', 'va', 'nud', 'failed');
  ip('neigh', 'add', '10.9.0.7', 'dev', 'va', 'managed');
  ip('neigh', 'add', '10.9.0.8', 'lladdr', '02:00:00:00:00:08', 'dev', 'va', 'protocol', 'zebra');
  ip('neigh', 'add', '2001:db8::5', 'lladdr', '02:00:00:00:00:06', 'dev', 'va', 'router');
  ip('neigh', 'add', 'proxy', '10.9.0.77', 'dev', 'va');
  ip('neigh', 'add', 'proxy', '2001:db8::77', 'dev', 'va');
  const bridge = (...args) => run('bridge', args);
  bridge('fdb', 'add', '02:00:00:00:01:01', 'dev', 'vb', 'master', 'static');
  bridge('fdb', 'add', '02:00:00:00:01:02', 'dev', 'vb', 'master', 'sticky', 'static');
  bridge('fdb', 'add', '02:00:00:00:01:03', 'dev', 'vb', 'master', 'dynamic');
  bridge('fdb', 'add', '02:00:00:00:01:04', 'dev', 'vb', 'master', 'static', 'extern_learn');
  bridge('fdb', 'add', '02:00:00:00:01:05', 'dev', 'vb', 'self', 'permanent');
  bridge('fdb', 'add', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.9.0.2', 'self', 'permanent');
  bridge('fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.9.0.3', 'self', 'permanent');
  bridge(
    'fdb',
    'add',
    '02:00:00:00:01:06',
    'dev',
    'vx0',
    'dst',
    '10.9.0.4',
    'port',
    '5000',
    'vni',
    '100',
    'via',
    'va',
    'self',
    'permanent',
  );
  bridge('fdb', 'add', '02:00:00:00:01:07', 'dev', 'vx1', 'dst', '10.9.0.9', 'src_vni', '77', 'vni', '78', 'self');
  bridge('fdb', 'add', '02:00:00:00:01:08', 'dev', 'vx2', 'dst', '2001:db8::9', 'self', 'permanent');
  const links = Object.fromEntries(json('ip', ['link', 'show']).map((l) => [l.ifname, l.ifindex]));
  const messages = [];
  const ndmsg = (family, flags = 0) => Buffer.from([family, 0, 0, 0, 0, 0, 0, 0, 0, 0, flags, 0]);
  const arp = {
    [AF_INET]: json('ip', ['-4', 'neigh', 'show', 'nud', 'all']),
    [AF_INET6]: json('ip', ['-6', 'neigh', 'show', 'nud', 'all']),
  };
  for (const r of await h.request({ type: 'RTM_GETNEIGH', flags: ['dump'], payload: ndmsg(AF_UNSPEC) })) {
    const o = r.object;
    const t = arp[o.family === 4 ? AF_INET : AF_INET6].find((x) => x.dst === o.address && links[x.dev] === o.index);
    if (o.index === links.va) messages.push({ kind: 'neigh', hex: hexOf(r), ip: t ?? null });
  }
  const proxies = json('ip', ['neigh', 'show', 'proxy']);
  for (const r of await h.request({ type: 'RTM_GETNEIGH', flags: ['dump'], payload: ndmsg(AF_UNSPEC, NTF_PROXY) })) {
    const t = proxies.find((x) => x.dst === r.object.address);
    messages.push({ kind: 'proxy', hex: hexOf(r), ip: t ?? null });
  }
  const fdb = json('bridge', ['fdb', 'show']);
  for (const r of await h.request({ type: 'RTM_GETNEIGH', flags: ['dump'], payload: ndmsg(AF_BRIDGE) })) {
    const o = r.object;
    const t = fdb.find((x) => x.mac === o.mac && links[x.ifname] === o.index && x.dst === o.dst);
    messages.push({ kind: 'fdb', hex: hexOf(r), ip: t ?? null });
  }
  write('neighbours.json', { source: 'RTM_GETNEIGH dumps; ip -j neigh show; bridge -j fdb show', links, messages });
}

// iproute2's own requests, recorded with strace, for the codec tests to build the same bytes from
// a spec. The kernel's answer does not matter (a refused request is recorded all the same).
const REQUESTS = [
  ['ip', 'rule', 'add', 'priority', '700', 'from', '10.0.0.0/8', 'table', '100'],
  [
    'ip',
    'rule',
    'add',
    'priority',
    '701',
    'not',
    'to',
    '192.168.1.0/24',
    'fwmark',
    '0x10/0xff',
    'iif',
    'lo',
    'oif',
    'lo',
    'tos',
    '0x10',
    'table',
    '4294967295',
  ],
  [
    'ip',
    'rule',
    'add',
    'priority',
    '702',
    'uidrange',
    '100-200',
    'ipproto',
    'tcp',
    'sport',
    '1000-2000',
    'dport',
    '80',
    'table',
    'main',
    'suppress_prefixlength',
    '0',
    'suppress_ifgroup',
    '5',
  ],
  ['ip', 'rule', 'add', 'priority', '703', 'goto', '800'],
  ['ip', 'rule', 'add', 'priority', '704', 'blackhole'],
  ['ip', 'rule', 'add', 'priority', '705', 'l3mdev'],
  ['ip', 'rule', 'add', 'priority', '706', 'realms', '1/2', 'tun_id', '5', 'protocol', 'bgp', 'table', '7'],
  ['ip', '-6', 'rule', 'add', 'priority', '707', 'from', '2001:db8::/32', 'to', '2001:db8:1::1/128', 'nop'],
  ['ip', 'rule', 'add', 'from', '10.2.0.0/16', 'lookup', '300'],
  ['ip', 'rule', 'del', 'priority', '700'],
  ['ip', 'rule', 'del', 'from', '10.2.0.0/16', 'table', '300'],
  ['ip', 'neigh', 'add', '10.9.0.20', 'lladdr', '02:00:00:00:00:20', 'dev', 'va'],
  ['ip', 'neigh', 'replace', '2001:db8::20', 'lladdr', '02:00:00:00:00:21', 'dev', 'va', 'nud', 'stale', 'router'],
  ['ip', 'neigh', 'add', 'proxy', '10.9.0.78', 'dev', 'va'],
  ['ip', 'neigh', 'add', '10.9.0.21', 'dev', 'va', 'managed'],
  [
    'ip',
    'neigh',
    'add',
    '10.9.0.22',
    'lladdr',
    '02:00:00:00:00:22',
    'dev',
    'va',
    'nud',
    'noarp',
    'extern_learn',
    'protocol',
    'zebra',
  ],
  ['ip', 'neigh', 'del', '10.9.0.20', 'dev', 'va'],
  ['ip', 'neigh', 'del', 'proxy', '10.9.0.78', 'dev', 'va'],
  ['bridge', 'fdb', 'add', '02:00:00:00:02:01', 'dev', 'vb', 'master'],
  ['bridge', 'fdb', 'add', '02:00:00:00:02:02', 'dev', 'vb', 'master', 'static', 'sticky'],
  ['bridge', 'fdb', 'add', '02:00:00:00:02:03', 'dev', 'vb', 'master', 'dynamic', 'vlan', '5'],
  ['bridge', 'fdb', 'add', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.9.0.30', 'self', 'permanent'],
  ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.9.0.31'],
  [
    'bridge',
    'fdb',
    'replace',
    '02:00:00:00:02:04',
    'dev',
    'vx0',
    'dst',
    '10.9.0.32',
    'port',
    '5000',
    'vni',
    '100',
    'via',
    'va',
    'self',
    'permanent',
  ],
  ['bridge', 'fdb', 'del', '02:00:00:00:02:01', 'dev', 'vb', 'master'],
  ['bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.9.0.31', 'self'],
];
// RTM_NEWNEIGH, RTM_DELNEIGH, RTM_NEWRULE, RTM_DELRULE
const WANTED = new Set(
  ['RTM_NEWNEIGH', 'RTM_DELNEIGH', 'RTM_NEWRULE', 'RTM_DELRULE'].map((n) => nl.codec.constants[n]),
);

function captureRequests() {
  const links = Object.fromEntries(json('ip', ['link', 'show']).map((l) => [l.ifname, l.ifindex]));
  const messages = REQUESTS.map(([cmd, ...args]) => captureRequest(cmd, args, ns, WANTED));
  write('requests.json', {
    source: 'iproute2 requests via strace',
    iproute2: run('ip', ['-V']).trim(),
    links,
    messages,
  });
}

async function main() {
  execFileSync('ip', ['netns', 'add', ns]);
  const h = await nl.open({ netns: ns });
  try {
    ip('link', 'set', 'lo', 'up');
    await captureRules(h);
    await captureNeighbours(h);
    captureRequests();
  } finally {
    await h.close();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
