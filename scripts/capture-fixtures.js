#!/usr/bin/env node
'use strict';
// Captures real kernel messages into test/fixtures/, so codec tests decode
// bytes this kernel really sent. Run as root after `npm run compile`:
//   node scripts/capture-fixtures.js
// It works in a scratch namespace made with `ip netns add` and deletes it;
// iproute2 makes the kinds whose options the library cannot create yet.
// Arguments pick what to capture ('links', 'routes'); the default is all.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const nl = require('..');

const ns = `rtnl-capture-${process.pid}`;
const ip = (...args) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });

const wanted = process.argv.slice(2);
const wants = (what) => wanted.length === 0 || wanted.includes(what);

function write(file, source, messages, extra = {}) {
  const out = path.join(__dirname, '..', 'test', 'fixtures', file);
  const content = { kernel: require('node:os').release(), source, ...extra, messages };
  fs.writeFileSync(out, JSON.stringify(content, null, 1) + '\n');
  console.log(`wrote ${messages.length} messages to ${out}`);
}

async function main() {
  if (wants('links')) await captureLinks();
  if (wants('routes')) await captureRoutes();
}

// Every route kind this kernel takes, made by iproute2, with what `ip -j -d`
// printed for each message beside its bytes.
async function captureRoutes() {
  execFileSync('ip', ['netns', 'add', ns]);
  const h = await nl.open({ netns: ns });
  try {
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
    ip('link', 'set', 'va', 'up');
    ip('link', 'set', 'vb', 'up');
    ip('addr', 'add', '10.1.0.1/24', 'dev', 'va');
    ip('addr', 'add', '2001:db8:1::1/64', 'dev', 'va', 'nodad');
    ip('nexthop', 'add', 'id', '5', 'via', '10.1.0.2', 'dev', 'va');
    const routes = [
      ['10.2.0.0/24', 'via', '10.1.0.2', 'metric', '7', 'proto', 'static'],
      ['10.3.0.0/24', 'dev', 'va', 'table', '1000000', 'proto', '200', 'src', '10.1.0.1', 'scope', 'link'],
      ['10.4.0.0/24', 'via', '10.1.0.2', 'mtu', 'lock', '1400', 'advmss', '1300', 'rtt', '10ms', 'rttvar', '5ms'],
      ['10.4.1.0/24', 'via', '10.1.0.2', 'hoplimit', '20', 'initcwnd', '10', 'congctl', 'cubic', 'features', 'ecn'],
      ['10.5.0.0/24', 'nexthop', 'via', '10.1.0.2', 'dev', 'va', 'weight', '3'],
      ['10.5.0.0/24', 'nexthop', 'via', '10.1.0.3', 'dev', 'va', 'onlink'],
      ['10.7.0.0/24', 'nhid', '5'],
      ['10.8.0.0/24', 'via', 'inet6', '2001:db8:1::2', 'dev', 'va'],
      ['blackhole', '10.66.0.0/16', 'table', '300'],
      ['unreachable', '10.67.0.0/16'],
      ['prohibit', '10.68.0.0/16'],
      ['throw', '10.69.0.0/16', 'table', '50'],
      ['multicast', '224.1.0.0/16', 'dev', 'va'],
      ['10.9.0.0/24', 'encap', 'seg6', 'mode', 'encap', 'segs', '2001:db8::5,2001:db8::6', 'dev', 'va'],
      ['-6', '2001:db8:5::/64', 'via', '2001:db8:1::2', 'expires', '3000', 'pref', 'high'],
      ['-6', '2001:db8:6::/64', 'nexthop', 'via', '2001:db8:1::2', 'dev', 'va', 'weight', '2'],
      ['-6', '2001:db8:6::/64', 'nexthop', 'via', '2001:db8:1::3', 'dev', 'va'],
      ['-6', '2001:db8:9::/64', 'encap', 'seg6', 'mode', 'inline', 'segs', '2001:db8::7', 'dev', 'va'],
      ['-6', '2001:db8:a::/64', 'encap', 'seg6', 'mode', 'encap', 'segs', '2001:db8::8', 'hmac', '0x2a', 'dev', 'va'],
      ['-6', 'blackhole', '2001:db8:66::/48'],
    ];
    // Hops of one multipath route come in one command: merge consecutive entries with the same prefix.
    const commands = [];
    for (const r of routes) {
      const last = commands[commands.length - 1];
      const key = r.find((a) => a.includes('/'));
      if (last && last.key === key && r.includes('nexthop')) last.args.push(...r.slice(r.indexOf('nexthop')));
      else commands.push({ key, args: [...r] });
    }
    for (const { args } of commands) {
      const family = args[0] === '-6' ? ['-6'] : [];
      ip(...family, 'route', 'add', ...args.slice(family.length));
    }
    const messages = [];
    for (const family of [2, 10]) {
      const payload = Buffer.alloc(12);
      payload[0] = family;
      const replies = await h.request({ type: 'RTM_GETROUTE', flags: ['dump'], payload });
      const shown = JSON.parse(
        execFileSync('ip', ['-n', ns, '-j', '-d', family === 2 ? '-4' : '-6', 'route', 'show', 'table', 'all']),
      );
      replies.forEach((r, i) => {
        messages.push({ ip: shown[i], hex: nl.codec.buildMessage(r.type, r.flags, r.payload).toString('hex') });
      });
    }
    // ip prints device names; the messages carry indexes.
    const links = Object.fromEntries((await h.link.list()).map((l) => [l.name, l.index]));
    write('routes.json', 'RTM_GETROUTE dumps (AF_INET, AF_INET6) beside `ip -j -d route show table all`', messages, {
      links,
    });
  } finally {
    await h.close();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

async function captureLinks() {
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
    write('links.json', 'RTM_GETLINK dump', messages);
  } finally {
    await h.close();
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
