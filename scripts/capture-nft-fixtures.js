#!/usr/bin/env node
'use strict';
// Records the batches `nft` sends (strace -e write= on its netlink socket) for everyday rules, into
// test/fixtures/nft-requests.json: each command with every message of its batch as hex. The codec
// tests build the same rules with the library and compare attribute for attribute. Run as root:
//   node scripts/capture-nft-fixtures.js
// It works in a scratch namespace made with `ip netns add` and deletes it.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ns = `rtnl-nftcap-${process.pid}`;
const SETUP = [
  'add table inet fw',
  'add chain inet fw input { type filter hook input priority 0 ; policy accept ; }',
  'add chain inet fw post { type nat hook postrouting priority 100 ; }',
  'add chain inet fw pre { type nat hook prerouting priority -100 ; }',
  'add chain inet fw other',
  'add table ip t4',
  'add chain ip t4 c',
];
// Each is written in the order the library emits its fields (matches, then statements). They go
// through `sh -c`, so no quotes.
const COMMANDS = [
  'add rule inet fw input meta l4proto tcp ip saddr 10.0.0.0/8 tcp dport 7777 counter drop',
  'add rule inet fw input meta l4proto udp udp sport 1000-2000 accept',
  'add rule inet fw input iifname lo meta mark 0x10 accept',
  'add rule inet fw input ct state established,related accept',
  'add rule inet fw input ip daddr 10.0.0.0/12 continue',
  'add rule inet fw input ip6 saddr 2001:db8::/32 drop',
  'add rule inet fw input limit rate 10/second burst 5 packets log prefix hi level info meta mark set 0x20 jump other',
  'add rule inet fw input meta l4proto tcp reject with tcp reset',
  'add rule inet fw input reject with icmpx type admin-prohibited',
  'add rule inet fw post oifname veth1 masquerade',
  'add rule inet fw post meta l4proto udp ip saddr 10.0.0.0/8 snat ip to 1.2.3.4',
  'add rule inet fw pre meta l4proto tcp tcp dport 80 dnat ip to 10.0.0.2:8080',
  'add rule inet fw pre meta l4proto tcp tcp dport 81 redirect to :8081',
  'add rule ip t4 c ip saddr 192.168.1.1 return',
];

const run = (args, opts = {}) => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', ...opts });

/** The bytes of every sendmsg on fd 3, from strace's hex dump. */
function sent(command) {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', ns, 'strace', '-f', '-qq', '-e', 'trace=sendmsg', '-e', 'write=3', 'sh', '-c', `nft ${command}`],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`nft ${command}: ${r.stderr}`);
  return r.stderr;
}

function hexDumps(text) {
  const buffers = [];
  let current = null;
  for (const line of text.split('\n')) {
    const m = /\| ([0-9a-f]{5}) {2}(.{48}) /.exec(line);
    if (!m) {
      if (current) buffers.push(Buffer.from(current.join(''), 'hex'));
      current = null;
      continue;
    }
    if (m[1] === '00000') {
      if (current) buffers.push(Buffer.from(current.join(''), 'hex'));
      current = [];
    }
    current.push(m[2].replace(/ /g, ''));
  }
  if (current) buffers.push(Buffer.from(current.join(''), 'hex'));
  return buffers;
}

function messages(buf) {
  const out = [];
  for (let off = 0; off + 16 <= buf.length;) {
    const len = buf.readUInt32LE(off);
    out.push(buf.subarray(off, off + len).toString('hex'));
    off += (len + 3) & ~3;
  }
  return out;
}

execFileSync('ip', ['netns', 'add', ns]);
try {
  for (const c of SETUP) run(['nft', ...c.split(' ')]);
  const result = [];
  for (const command of COMMANDS) {
    // The batch is the sendmsg whose first message is NFNL_MSG_BATCH_BEGIN (0x10).
    const batch = hexDumps(sent(command)).find((b) => b.length >= 20 && b.readUInt16LE(4) === 0x10);
    if (!batch) throw new Error(`no batch captured for: ${command}`);
    result.push({ command, messages: messages(batch) });
  }
  const file = path.join(__dirname, '..', 'test', 'fixtures', 'nft-requests.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ nft: run(['nft', '--version']).trim(), kernel: os.release(), batches: result }, null, 1) + '\n',
  );
  console.log(`wrote ${result.length} batches to test/fixtures/nft-requests.json`);
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
}
