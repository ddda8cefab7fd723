#!/usr/bin/env node
// Captures the requests iproute2's `tc` sends (under strace) into
// test/fixtures/tc-requests.json, so unit tests can prove the library builds
// the same bytes. Run as root: node scripts/capture-tc-requests.mjs
// It works in a scratch namespace (veth va index 10 <-> vb index 11) and
// deletes it. Kinds the kernel lacks are captured too: tc sends the request
// before the kernel refuses it, and the refusal is recorded beside it.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ns = `rtnl-tccap-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'tccap-'));

// name -> tc arguments. Order matters: later commands build on earlier ones.
const COMMANDS = [
  ['qdisc htb root', 'qdisc add dev va root handle 1: htb default 10'],
  ['qdisc htb r2q direct_qlen', 'qdisc replace dev va root handle 1: htb default 0x20 r2q 5 direct_qlen 100'],
  ['class htb rate ceil', 'class add dev va parent 1: classid 1:10 htb rate 10mbit ceil 20mbit'],
  [
    'class htb burst prio quantum',
    'class add dev va parent 1: classid 1:20 htb rate 1mbit ceil 1mbit burst 15k cburst 3000 prio 2 quantum 1500',
  ],
  ['class htb 64-bit rate', 'class add dev va parent 1: classid 1:30 htb rate 50gbit'],
  ['class htb mpu overhead', 'class add dev va parent 1: classid 1:40 htb rate 2mbit mpu 64 overhead 4'],
  ['class htb change', 'class change dev va parent 1: classid 1:10 htb rate 5mbit ceil 20mbit'],
  ['qdisc tbf', 'qdisc add dev va parent 1:10 handle 10: tbf rate 1mbit burst 32kbit latency 400ms'],
  [
    'qdisc tbf limit peakrate',
    'qdisc add dev va parent 1:20 handle 20: tbf rate 1mbit burst 10kb limit 30000 peakrate 2mbit mtu 1600',
  ],
  ['qdisc tbf 64-bit rate', 'qdisc add dev va parent 1:30 handle 30: tbf rate 40gbit burst 1mb latency 10ms'],
  ['qdisc pfifo', 'qdisc add dev vb root handle 2: pfifo limit 100'],
  ['qdisc bfifo', 'qdisc replace dev vb root handle 2: bfifo limit 64kb'],
  ['qdisc pfifo_fast', 'qdisc replace dev vb root handle 2: pfifo_fast'],
  ['qdisc prio', 'qdisc replace dev vb root handle 2: prio bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1'],
  ['qdisc sfq', 'qdisc replace dev vb root handle 2: sfq perturb 10 quantum 1514 limit 127'],
  ['qdisc fq', 'qdisc replace dev vb root handle 2: fq limit 10000 flow_limit 100 quantum 3028 maxrate 1mbit'],
  [
    'qdisc fq_codel',
    'qdisc replace dev vb root handle 2: fq_codel limit 1000 flows 512 target 5ms interval 100ms quantum 1514 ecn',
  ],
  ['qdisc codel', 'qdisc replace dev vb root handle 2: codel limit 1000 target 5ms interval 100ms noecn'],
  ['qdisc cake', 'qdisc replace dev vb root handle 2: cake bandwidth 10mbit'],
  [
    'qdisc netem',
    'qdisc replace dev vb root handle 2: netem delay 100ms loss 1% duplicate 2% reorder 25% rate 1mbit limit 500',
  ],
  [
    'qdisc red',
    'qdisc replace dev vb root handle 2: red limit 400000 min 30000 max 90000 avpkt 1000 burst 55 bandwidth 10mbit probability 0.02',
  ],
  ['qdisc hfsc', 'qdisc replace dev vb root handle 2: hfsc default 1'],
  ['qdisc drr', 'qdisc replace dev vb root handle 3: drr'],
  ['class drr', 'class add dev vb parent 3: classid 3:1 drr quantum 1500'],
  ['qdisc hfsc again', 'qdisc replace dev vb root handle 4: hfsc default 1'],
  ['class hfsc', 'class add dev vb parent 4: classid 4:1 hfsc sc rate 1mbit ul rate 2mbit'],
  ['class hfsc rt m1 d', 'class add dev vb parent 4: classid 4:2 hfsc rt m1 2mbit d 10ms m2 1mbit ls rate 1mbit'],
  ['qdisc del root', 'qdisc del dev vb root'],
  ['qdisc ingress', 'qdisc add dev vb ingress'],
  ['qdisc clsact', 'qdisc add dev va clsact'],
  ['filter u32 ip dst', 'filter add dev va parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.0/24 classid 1:10'],
  [
    'filter u32 ip proto sport',
    'filter add dev va parent 1: protocol ip prio 2 handle 800::5 u32 match ip protocol 6 0xff match ip sport 80 0xffff flowid 1:20',
  ],
  ['filter u32 hash table', 'filter add dev va parent 1: protocol ip prio 3 handle 2: u32 divisor 256'],
  [
    'filter u32 link hashkey',
    'filter add dev va parent 1: protocol ip prio 3 u32 ht 800:: match ip dst 10.1.0.0/16 hashkey mask 0x000000ff at 16 link 2:',
  ],
  [
    'filter u32 in hash bucket',
    'filter add dev va parent 1: protocol ip prio 3 u32 ht 2:7: match ip dst 10.1.0.7/32 flowid 1:10',
  ],
  [
    'filter u32 mirred',
    'filter add dev va ingress protocol ip prio 5 u32 match ip dst 10.9.0.0/16 action mirred egress redirect dev vb',
  ],
  [
    'filter u32 mirror ingress',
    'filter add dev va ingress protocol all prio 6 u32 match u32 0 0 action mirred ingress mirror dev vb',
  ],
  ['filter matchall gact', 'filter add dev va ingress prio 7 matchall action drop'],
  ['filter matchall classid', 'filter add dev va egress prio 8 matchall skip_hw classid 1:1'],
  [
    'filter flower',
    'filter add dev va ingress protocol ip prio 9 flower ip_proto tcp dst_ip 10.0.0.0/8 dst_port 80 action drop',
  ],
  ['filter basic', 'filter add dev va parent 1: protocol ip prio 10 basic classid 1:10'],
  ['filter fw', 'filter add dev va parent 1: protocol ip prio 11 handle 5 fw classid 1:20'],
  ['filter fw mask', 'filter add dev va parent 1: protocol ip prio 12 handle 6/0xff fw classid 1:20'],
  ['filter bpf bytecode', 'filter add dev va ingress prio 13 bpf bytecode "1,6 0 0 4294967295," classid 1:1'],
  [
    'filter police',
    'filter add dev va ingress protocol ip prio 14 u32 match u32 0 0 action police rate 1mbit burst 10k conform-exceed drop/pipe',
  ],
  [
    'filter skbedit',
    'filter add dev va ingress protocol ip prio 15 u32 match u32 0 0 action skbedit mark 7 priority 1:2',
  ],
  [
    'filter vlan push',
    'filter add dev va ingress protocol ip prio 16 u32 match u32 0 0 action vlan push id 5 priority 3',
  ],
  ['filter vlan pop', 'filter add dev va ingress protocol ip prio 17 u32 match u32 0 0 action vlan pop'],
  [
    'filter tunnel_key set',
    'filter add dev va ingress protocol ip prio 18 u32 match u32 0 0 action tunnel_key set src_ip 192.0.2.1 dst_ip 192.0.2.2 id 42 dst_port 4789',
  ],
  [
    'filter tunnel_key unset',
    'filter add dev va ingress protocol ip prio 19 u32 match u32 0 0 action tunnel_key unset',
  ],
  ['filter csum', 'filter add dev va ingress protocol ip prio 20 u32 match u32 0 0 action csum ip4h tcp udp'],
  [
    'filter pedit',
    'filter add dev va ingress protocol ip prio 21 u32 match u32 0 0 action pedit munge offset 12 u32 set 0x0a000001 pipe',
  ],
  ['filter gact pass', 'filter add dev va ingress protocol ip prio 22 u32 match u32 0 0 action pass'],
  ['filter del prio', 'filter del dev va parent 1: protocol ip prio 1'],
  ['filter del handle', 'filter del dev va parent 1: protocol ip prio 2 handle 800::5 u32'],
  ['class del', 'class del dev va classid 1:40'],
  ['action add gact', 'action add action drop index 7'],
  ['action add mirred', 'action add action mirred egress redirect dev vb index 8'],
  ['action del', 'action del action gact index 7'],
];

function sh(cmd, args) {
  return spawnSync(cmd, args, { encoding: 'utf8' });
}

function capture(args) {
  const out = join(dir, 'strace.txt');
  const r = sh('strace', [
    '-f',
    '-e',
    'trace=sendmsg',
    '-xx',
    '-s',
    '65536',
    '-o',
    out,
    'ip',
    'netns',
    'exec',
    ns,
    'sh',
    '-c',
    `tc ${args}`,
  ]);
  const text = readFileSync(out, 'utf8');
  const messages = [];
  const re = /nlmsg_len=(\d+), nlmsg_type=(0x[0-9a-f]+|RTM_\w+).*?nlmsg_flags=([^,]+),.*?\}, "((?:\\x[0-9a-f]{2})*)"/g;
  for (const m of text.matchAll(re)) {
    messages.push({ length: Number(m[1]), type: m[2], flags: m[3], payload: m[4].replace(/\\x/g, '') });
  }
  const error = r.status === 0 ? undefined : r.stderr.trim();
  return { messages, ...(error ? { error } : {}) };
}

try {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', [
    '-n',
    ns,
    'link',
    'add',
    'va',
    'index',
    '10',
    'type',
    'veth',
    'peer',
    'name',
    'vb',
    'index',
    '11',
  ]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'va', 'up']);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'vb', 'up']);
  const fixtures = [];
  for (const [name, args] of COMMANDS) {
    const { messages, error } = capture(args);
    // The request is the last message tc sent (name lookups come before it).
    const request = messages.at(-1);
    fixtures.push({ name, command: `tc ${args}`, ...request, ...(error ? { error } : {}) });
  }
  const file = join(ROOT, 'test', 'fixtures', 'tc-requests.json');
  const tc = sh('tc', ['-V']).stdout.trim();
  writeFileSync(
    file,
    JSON.stringify({ kernel: release(), tc, ifindex: { va: 10, vb: 11 }, requests: fixtures }, null, 1) + '\n',
  );
  console.log(`wrote ${fixtures.length} requests to ${file}`);
} finally {
  sh('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
}
