#!/usr/bin/env node
'use strict';
// Captures real kernel messages into test/fixtures/, so codec tests decode
// bytes this kernel really sent. Run as root after `npm run compile`:
//   node scripts/capture-fixtures.js
// It works in a scratch namespace made with `ip netns add` and deletes it;
// iproute2 makes the kinds whose options the library cannot create yet.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const nl = require('..');

const ns = `rtnl-capture-${process.pid}`;
const ip = (...args) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

async function main() {
  execFileSync('ip', ['netns', 'add', ns]);
  const h = await nl.open({ netns: ns });
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'veth0', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'veth1');
    ip('link', 'add', 'br0', 'type', 'bridge', 'stp_state', '1', 'forward_delay', '400');
    ip('link', 'set', 'veth1', 'master', 'br0');
    ip('link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'remote', '192.0.2.7', 'ttl', '5');
    ip('link', 'add', 'mv0', 'link', 'veth0', 'type', 'macvlan', 'mode', 'bridge');
    ip('link', 'add', 'ifb9', 'type', 'ifb');
    ip('link', 'property', 'add', 'dev', 'veth0', 'altname', 'uplink-with-a-long-name');
    ip('link', 'set', 'veth0', 'alias', 'the uplink');
    ip('link', 'set', 'veth0', 'up');
    const replies = await h.request({ type: 'RTM_GETLINK', flags: ['dump'], payload: Buffer.alloc(16) });
    const messages = replies.map((r) => ({
      name: r.object.name,
      kind: r.object.kind ?? null,
      hex: nl.codec.buildMessage(r.type, r.flags, r.payload).toString('hex'),
    }));
    const out = path.join(__dirname, '..', 'test', 'fixtures', 'links.json');
    fs.writeFileSync(
      out,
      JSON.stringify({ kernel: require('node:os').release(), source: 'RTM_GETLINK dump', messages }, null, 1) + '\n',
    );
    console.log(`wrote ${messages.length} messages to ${out}`);
  } finally {
    await h.close();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
