#!/usr/bin/env node
'use strict';
// Records the RTM_NEWLINK requests `ip link add` sends for every link kind,
// including kinds this kernel lacks (the request is recorded before the
// kernel refuses it), into test/fixtures/link-requests.json. The codec tests
// decode each and build it again from the decoded options, attribute for
// attribute. Run as root: node scripts/capture-link-requests.js
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const nl = require('..');
const { captureRequest } = require('./strace-requests');

const ns = `rtnl-capture-${process.pid}`;
const ADD = (name, ...rest) => ['link', 'add', name, ...rest];

const REQUESTS = [
  ADD(
    'br1',
    'type',
    'bridge',
    'stp_state',
    '1',
    'forward_delay',
    '400',
    'vlan_filtering',
    '1',
    'vlan_default_pvid',
    '5',
  ),
  ADD(
    'vx1',
    'type',
    'vxlan',
    'id',
    '42',
    'remote',
    '10.1.1.1',
    'local',
    '10.1.1.2',
    'dev',
    'lower0',
    'dstport',
    '4789',
  ),
  ADD('vx2', 'type', 'vxlan', 'id', '43', 'group', 'ff05::9', 'dev', 'lower0', 'dstport', '4789', 'gbp', 'noudpcsum'),
  ADD('mv1', 'link', 'lower0', 'type', 'macvlan', 'mode', 'bridge'),
  ADD('mvt1', 'link', 'lower0', 'type', 'macvtap', 'mode', 'passthru', 'nopromisc'),
  ADD('vl1', 'link', 'lower0', 'type', 'vlan', 'id', '100', 'protocol', '802.1ad', 'reorder_hdr', 'off'),
  ADD('d1', 'type', 'dummy'),
  ADD('ifb9', 'type', 'ifb'),
  ADD('bo1', 'type', 'bond', 'mode', '802.3ad', 'miimon', '100', 'xmit_hash_policy', 'layer3+4', 'lacp_rate', 'fast'),
  ADD('bo2', 'type', 'bond', 'mode', 'active-backup', 'arp_interval', '200', 'arp_ip_target', '10.0.0.1'),
  ADD('vrf1', 'type', 'vrf', 'table', '10'),
  ADD('ipv1', 'link', 'lower0', 'type', 'ipvlan', 'mode', 'l3', 'private'),
  ADD('ipvt1', 'link', 'lower0', 'type', 'ipvtap', 'mode', 'l2', 'vepa'),
  ADD('gn1', 'type', 'geneve', 'id', '5', 'remote', '10.1.1.1', 'ttl', '10', 'dstport', '6081'),
  ADD('gre1', 'type', 'gre', 'remote', '10.1.1.1', 'local', '10.1.1.2', 'ttl', '64', 'key', '5'),
  ADD('gtap1', 'type', 'gretap', 'remote', '10.1.1.1', 'local', '10.1.1.2', 'nopmtudisc'),
  ADD('g6gre1', 'type', 'ip6gre', 'remote', '2001:db8::1', 'local', '2001:db8::2', 'hoplimit', '32'),
  ADD('g6tap1', 'type', 'ip6gretap', 'remote', '2001:db8::1', 'local', '2001:db8::2'),
  ADD('ipip1', 'type', 'ipip', 'remote', '10.1.1.1', 'local', '10.1.1.2', 'ttl', '64'),
  ADD('sit2', 'type', 'sit', 'remote', '10.1.1.1', 'local', '10.1.1.2', 'ttl', '64'),
  ADD('t6', 'type', 'ip6tnl', 'remote', '2001:db8::1', 'local', '2001:db8::2', 'mode', 'ip6ip6'),
  ADD('vti1', 'type', 'vti', 'remote', '10.1.1.1', 'local', '10.1.1.2', 'key', '7'),
  ADD('vti61', 'type', 'vti6', 'remote', '2001:db8::1', 'local', '2001:db8::2', 'key', '8'),
  ADD('xf1', 'type', 'xfrm', 'dev', 'lower0', 'if_id', '5'),
  ADD('wg1', 'type', 'wireguard'),
  ADD('nlm1', 'type', 'nlmon'),
  ADD(
    'vt1',
    'mtu',
    '1400',
    'address',
    '02:11:22:33:44:55',
    'txqueuelen',
    '500',
    'type',
    'veth',
    'peer',
    'name',
    'vt1p',
  ),
];

function main() {
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'lower0', 'type', 'veth', 'peer', 'name', 'lower1']);
    const links = Object.fromEntries(
      JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show'], { encoding: 'utf8' })).map((l) => [
        l.ifname,
        l.ifindex,
      ]),
    );
    const wanted = new Set([nl.codec.constants.RTM_NEWLINK]);
    const messages = REQUESTS.map((args) => captureRequest('ip', args, ns, wanted));
    const file = path.join(__dirname, '..', 'test', 'fixtures', 'link-requests.json');
    const iproute2 = execFileSync('ip', ['-V'], { encoding: 'utf8' }).trim();
    fs.writeFileSync(
      file,
      `${JSON.stringify({ source: 'ip link add, via strace', iproute2, links, messages }, null, 1)}\n`,
    );
    console.log(`wrote ${messages.length} requests to ${path.relative(process.cwd(), file)}`);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

main();
