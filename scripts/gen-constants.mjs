#!/usr/bin/env node
// Generates lib/netlink/constants.ts from the kernel uapi headers.
//
//   node scripts/gen-constants.mjs
//
// House rule: no constant is typed by hand. For each header group we
//   1. scan the header text for #defines and enum members with the group's
//      prefixes (function-like macros are skipped up front),
//   2. write a C program that #includes the group's headers and printf's every
//      candidate, one candidate per line,
//   3. compile it with `cc`; compiler errors are mapped back to candidates by
//      line number, each suspect is confirmed by compiling it on its own, and
//      the confirmed ones are dropped (strings, empty or type-valued macros...),
//   4. run it and emit `export const NAME = value;` in header order.
// Every group is a separate C program, so headers that cannot be included
// together never meet. A name is defined once: the first group wins.
//
// Values follow C semantics: unsigned expressions print unsigned (TC_H_ROOT is
// 4294967295, not -1), signed ones keep their sign (NLA_TYPE_MASK is
// ~0xc000 = -49153, which is what `type & NLA_TYPE_MASK` needs in JS too).
// Values outside Number.MAX_SAFE_INTEGER are emitted as bigint literals so
// they never silently lose precision.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'lib/netlink/constants.ts');
const INCLUDE = '/usr/include';

// header: where the names are scanned (relative to /usr/include).
// includes: what the C program #includes (defaults to header).
// prefixes / names: which identifiers are candidates.
const GROUPS = [
  {
    header: 'linux/netlink.h',
    prefixes: ['NETLINK_', 'NLM_F_', 'NLMSG_', 'NLMSGERR_ATTR_', 'NLA_', 'NL_ATTR_TYPE_', 'NL_POLICY_TYPE_ATTR_'],
  },
  // SO_* and SOL_SOCKET are uapi (asm/socket.h is asm-generic on x86_64, but
  // these values are arch-specific: they differ on mips, sparc, parisc, alpha).
  {
    header: 'asm-generic/socket.h',
    includes: ['sys/socket.h'],
    prefixes: ['SO_', 'SOL_SOCKET'],
  },
  // Not in the uapi headers at all (the kernel's own linux/socket.h is not
  // exported), so they come from glibc.
  {
    header: 'sys/socket.h',
    comment: 'glibc: SOL_NETLINK, AF_* and SOCK_* are not exported by the uapi headers',
    scan: false,
    names: [
      'SOL_NETLINK',
      'AF_UNSPEC',
      'AF_INET',
      'AF_INET6',
      'AF_NETLINK',
      'AF_BRIDGE',
      'AF_PACKET',
      'AF_MPLS',
      'SOCK_STREAM',
      'SOCK_DGRAM',
      'SOCK_RAW',
      'SOCK_NONBLOCK',
      'SOCK_CLOEXEC',
    ],
  },
  {
    header: 'linux/rtnetlink.h',
    prefixes: [
      'RTM_',
      'RTN_',
      'RTPROT_',
      'RT_SCOPE_',
      'RT_TABLE_',
      'RTA_',
      'RTNH_',
      'RTAX_',
      'RTNLGRP_',
      'RTMGRP_',
      'RTEXT_FILTER_',
      'RTNL_FAMILY_',
      'TCA_',
      'TCAA_',
      'TCM_',
      'NDUSEROPT_',
      'PREFIX_',
    ],
  },
  {
    header: 'linux/if_link.h',
    prefixes: [
      'IFLA_',
      'IN6_ADDR_GEN_MODE_',
      'BRIDGE_MODE_',
      'MACVLAN_',
      'IPVLAN_',
      'VXLAN_',
      'GENEVE_',
      'MACSEC_',
      'XDP_',
      'LINK_XSTATS_TYPE_',
      'PORT_',
      'IPOIB_',
      'HSR_',
      'GTP_',
      'RMNET_',
      'TUNNEL_MSG_',
      'VNIFILTER_',
    ],
  },
  { header: 'linux/veth.h', prefixes: ['VETH_'] },
  {
    header: 'linux/if.h',
    prefixes: ['IFF_', 'IF_OPER_', 'IF_LINK_MODE_'],
    names: ['IFNAMSIZ', 'IFALIASZ', 'ALTIFNAMSIZ', 'IFHWADDRLEN'],
  },
  { header: 'linux/if_addr.h', prefixes: ['IFA_', 'IFAPROT_'] },
  { header: 'linux/neighbour.h', prefixes: ['NDA_', 'NTF_', 'NUD_', 'NDTA_', 'NDTPA_', 'NFEA_', 'FDB_'] },
  { header: 'linux/fib_rules.h', prefixes: ['FRA_', 'FR_ACT_', 'FIB_RULE_'] },
  { header: 'linux/nexthop.h', prefixes: ['NHA_', 'NEXTHOP_GRP_'] },
  { header: 'linux/net_namespace.h', prefixes: ['NETNSA_'] },
  { header: 'linux/netconf.h', prefixes: ['NETCONFA_'] },
  {
    header: 'linux/if_bridge.h',
    prefixes: ['IFLA_BRIDGE_', 'BRIDGE_', 'BR_', 'MDBA_', 'MDB_', 'MDBE_'],
  },
  { header: 'linux/lwtunnel.h', prefixes: ['LWTUNNEL_', 'LWT_'] },
  { header: 'linux/mpls_iptunnel.h', prefixes: ['MPLS_IPTUNNEL_'] },
  { header: 'linux/seg6_iptunnel.h', prefixes: ['SEG6_IPTUNNEL_', 'SEG6_IPTUN_'] },
  // Route encapsulations and RTA_PREF: MPLS label stack entries, the SRv6
  // header inside seg6 encap, IPv6 router preferences.
  { header: 'linux/mpls.h', prefixes: ['MPLS_LS_', 'MPLS_LABEL_'] },
  { header: 'linux/seg6.h', prefixes: ['SR6_'] },
  { header: 'linux/seg6_hmac.h', prefixes: ['SEG6_HMAC_'] },
  { header: 'linux/ipv6.h', names: ['IPV6_SRCRT_TYPE_4'] },
  { header: 'linux/icmpv6.h', prefixes: ['ICMPV6_'] },
  // TUN* covers the _IOW ioctl numbers (TUNSETIFF...), which encode the
  // arch's _IOC layout (x86_64/arm64 here; mips, ppc, sparc differ).
  // if_tun.h uses _IOW without including linux/ioctl.h itself.
  { header: 'linux/if_tun.h', includes: ['linux/ioctl.h', 'linux/if_tun.h'], prefixes: ['TUN', 'IFF_'] },
  { header: 'linux/genetlink.h', prefixes: ['GENL_', 'CTRL_CMD_', 'CTRL_ATTR_'] },
  // nfnetlink.h uses NLMSG_MIN_TYPE without including linux/netlink.h.
  {
    header: 'linux/netfilter/nfnetlink.h',
    includes: ['linux/netlink.h', 'linux/netfilter/nfnetlink.h'],
    prefixes: ['NFNL_', 'NFNLGRP_', 'NFNETLINK_'],
  },
  { header: 'linux/netfilter/nf_tables.h', prefixes: ['NFT_', 'NFTA_'] },
  // nftables: families, hooks, verdicts, NAT range flags, conntrack state
  // bits and the ICMP codes a reject statement sends.
  {
    header: 'linux/netfilter.h',
    prefixes: ['NFPROTO_', 'NF_INET_', 'NF_NETDEV_'],
    names: ['NF_DROP', 'NF_ACCEPT', 'NF_STOLEN', 'NF_QUEUE', 'NF_REPEAT'],
  },
  { header: 'linux/netfilter_arp.h', prefixes: ['NF_ARP_'] },
  { header: 'linux/netfilter/nf_nat.h', prefixes: ['NF_NAT_RANGE_'] },
  { header: 'linux/netfilter/nf_conntrack_common.h', prefixes: ['IP_CT_', 'NF_CT_STATE_'] },
  { header: 'linux/icmp.h', prefixes: ['ICMP_'] },
  // Kernel-internal errno values netlink can return that libuv has no name for
  // (nfnetlink answers a stale batch generation with ERESTART).
  { header: 'asm-generic/errno.h', names: ['ERESTART'], scan: false },
  {
    header: 'linux/pkt_sched.h',
    prefixes: ['TC_', 'TCA_', 'TCQ_', 'TCF_', 'NETEM_', 'CAKE_', 'FQ_', 'SKBPRIO_', 'SFB_'],
  },
  { header: 'linux/pkt_cls.h', prefixes: ['TC_', 'TCA_', 'TCF_', 'FLOW_'] },
  { header: 'linux/if_ether.h', prefixes: ['ETH_'] },
  { header: 'linux/gen_stats.h', prefixes: ['TCA_STATS_'] },
  // tc actions: one header each; tc_gact.h and tc_pedit.h need their own includes.
  { header: 'linux/tc_act/tc_gact.h', prefixes: ['TCA_GACT_', 'PGACT_'] },
  { header: 'linux/tc_act/tc_mirred.h', prefixes: ['TCA_MIRRED_', 'TCA_EGRESS_', 'TCA_INGRESS_'] },
  { header: 'linux/tc_act/tc_skbedit.h', prefixes: ['TCA_SKBEDIT_', 'SKBEDIT_'] },
  { header: 'linux/tc_act/tc_vlan.h', prefixes: ['TCA_VLAN_'] },
  { header: 'linux/tc_act/tc_tunnel_key.h', prefixes: ['TCA_TUNNEL_KEY_'] },
  { header: 'linux/tc_act/tc_csum.h', prefixes: ['TCA_CSUM_'] },
  { header: 'linux/tc_act/tc_pedit.h', prefixes: ['TCA_PEDIT_', 'TCA_PEDIT_KEY_'] },
  // Netlink's clock_t values (nexthop group timers) count USER_HZ ticks, and
  // the HZ userspace headers define is USER_HZ.
  { header: 'asm-generic/param.h', includes: ['asm/param.h'], scan: false, names: ['HZ'] },
  // IP protocol numbers (rule ipproto, route get ipproto).
  { header: 'linux/in.h', prefixes: ['IPPROTO_'] },
  { header: 'linux/in6.h', prefixes: ['IPPROTO_'] },
];

// Names the library relies on: if a header change or a missing include makes
// one of these fail to compile, stop instead of silently dropping it.
const REQUIRED = [
  'NLMSG_ERROR',
  'NLMSG_DONE',
  'NLM_F_REQUEST',
  'NLM_F_DUMP',
  'NLM_F_ACK_TLVS',
  'NETLINK_ROUTE',
  'NETLINK_GENERIC',
  'NETLINK_NETFILTER',
  'NETLINK_EXT_ACK',
  'NETLINK_GET_STRICT_CHK',
  'NLMSGERR_ATTR_MSG',
  'NLA_TYPE_MASK',
  'SOL_NETLINK',
  'SO_RCVBUFFORCE',
  'AF_NETLINK',
  'RTM_NEWLINK',
  'IFLA_IFNAME',
  'IFNAMSIZ',
  'TC_H_ROOT',
  'TUNSETIFF',
  'GENL_ID_CTRL',
  'NFNL_MSG_BATCH_BEGIN',
];

const log = (...a) => process.stderr.write(a.join(' ') + '\n');

// ---- 1. scan ---------------------------------------------------------------

function stripComments(src) {
  // Replace with a space so tokens on either side stay apart.
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

// Splits an enum body on top-level commas (values may contain parentheses).
function splitEnumBody(body) {
  const items = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      items.push([start, body.slice(start, i)]);
      start = i + 1;
    }
  }
  items.push([start, body.slice(start)]);
  return items;
}

/** Returns { names: [object-like names in order of appearance], functionLike: Set }. */
function scanHeader(file) {
  const src = stripComments(readFileSync(join(INCLUDE, file), 'utf8'));
  const found = []; // [offset, name]
  const functionLike = new Set();

  for (const m of src.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\()?/gm)) {
    if (m[2]) functionLike.add(m[1]);
    else found.push([m.index, m[1]]);
  }
  for (const m of src.matchAll(/\benum\b[^{;()]*\{([^}]*)\}/g)) {
    const bodyStart = m.index + m[0].indexOf('{') + 1;
    // Preprocessor lines inside enums (#if __UAPI_DEF_...) are not members.
    const body = m[1].replace(/^[ \t]*#[^\n]*$/gm, (s) => ' '.repeat(s.length));
    for (const [off, item] of splitEnumBody(body)) {
      const im = /^\s*([A-Za-z_]\w*)/.exec(item);
      if (im) found.push([bodyStart + off, im[1]]);
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  const seen = new Set();
  const names = [];
  for (const [, name] of found) {
    // `#define IFF_UP IFF_UP` repeats enum members; keep the first.
    if (!seen.has(name)) {
      seen.add(name);
      names.push(name);
    }
  }
  return { names, functionLike };
}

function candidatesFor(group) {
  const wanted = (n) =>
    !n.startsWith('__') && ((group.prefixes ?? []).some((p) => n.startsWith(p)) || (group.names ?? []).includes(n));
  if (group.scan === false) return { names: [...group.names], functionLike: [] };
  const { names, functionLike } = scanHeader(group.header);
  const picked = names.filter(wanted);
  // Explicitly named identifiers missing from the scan still get a try.
  for (const n of group.names ?? []) if (!picked.includes(n)) picked.push(n);
  return { names: picked, functionLike: [...functionLike].filter(wanted) };
}

// ---- 2./3. compile and run -------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'gen-constants-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let programCount = 0;

// case (x): rejects anything that is not an integer constant expression
// (strings, types, floats, empty macros); the sign test picks %lld/%llu by the
// expression's own C type.
const PRELUDE = `#include <stdio.h>
#define EMIT(x) do { \\
  switch (0) { case (x): break; } \\
  _Static_assert(sizeof(x) <= sizeof(long long), #x " is wider than 64 bits"); \\
  if ((x) < 0) printf("%s %lld\\n", #x, (long long)(x)); \\
  else printf("%s %llu\\n", #x, (unsigned long long)(x)); \\
} while (0)
`;

function buildProgram(includes, names) {
  const head = PRELUDE + includes.map((h) => `#include <${h}>\n`).join('') + 'int main(void) {\n';
  const firstLine = head.split('\n').length; // 1-based line of names[0]
  const body = names.map((n) => `EMIT(${n});\n`).join('');
  return { src: head + body + 'return 0;\n}\n', firstLine };
}

/** Compiles; returns { ok, exe, badNames: Set, stderr }. */
function compile(includes, names) {
  const id = programCount++;
  const cFile = join(tmp, `p${id}.c`);
  const exe = join(tmp, `p${id}`);
  const { src, firstLine } = buildProgram(includes, names);
  writeFileSync(cFile, src);
  // -ftrack-macro-expansion=0 makes errors inside header macros point at our
  // EMIT line, which is what maps them back to a name. -w: warnings are noise
  // here (e.g. "comparison of unsigned < 0 is always false").
  const r = spawnSync('cc', ['-std=gnu11', '-w', '-ftrack-macro-expansion=0', '-o', exe, cFile], {
    encoding: 'utf8',
  });
  const badNames = new Set();
  if (r.status !== 0) {
    const re = new RegExp(`^${cFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):\\d+: (?:fatal )?error:`, 'gm');
    for (const m of r.stderr.matchAll(re)) {
      const idx = Number(m[1]) - firstLine;
      if (idx >= 0 && idx < names.length) badNames.add(names[idx]);
    }
  }
  return { ok: r.status === 0, exe, badNames, stderr: r.stderr };
}

function firstError(stderr) {
  const m = /error: ([^\n]*)/.exec(stderr);
  return m ? m[1] : stderr.trim().split('\n')[0];
}

/** Returns { values: Map<name, bigint>, dropped: [[name, reason]] }. */
function evaluate(group, names) {
  const includes = group.includes ?? [group.header];
  let keep = [...names];
  const dropped = [];
  let res = compile(includes, keep);
  while (!res.ok) {
    if (res.badNames.size === 0) {
      throw new Error(`${group.header}: compile failed outside the candidates:\n${res.stderr}`);
    }
    // Confirm each suspect alone, so one odd macro cannot take its neighbours
    // down with a cascading error.
    const confirmed = [];
    for (const n of res.badNames) {
      const alone = compile(includes, [n]);
      if (!alone.ok) confirmed.push([n, firstError(alone.stderr)]);
    }
    if (confirmed.length === 0) {
      throw new Error(`${group.header}: errors that no single candidate reproduces:\n${res.stderr}`);
    }
    dropped.push(...confirmed);
    const gone = new Set(confirmed.map(([n]) => n));
    keep = keep.filter((n) => !gone.has(n));
    res = compile(includes, keep);
  }
  const out = execFileSync(res.exe, { encoding: 'utf8' });
  const values = new Map();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [name, v] = line.split(' ');
    values.set(name, BigInt(v));
  }
  return { values, dropped };
}

// ---- 4. emit ---------------------------------------------------------------

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const literal = (v) => (v > MAX_SAFE || v < -MAX_SAFE ? `${v}n` : `${v}`);

const defined = new Map(); // name -> { value, header }
const lines = [
  '// Generated by scripts/gen-constants.mjs from the uapi headers in /usr/include/linux. Do not edit.',
  '',
];
const report = { functionLike: [], dropped: [], duplicates: [], conflicts: [], bigints: [] };

for (const group of GROUPS) {
  const { names, functionLike } = candidatesFor(group);
  report.functionLike.push(...functionLike.map((n) => `${group.header}:${n}`));
  const { values, dropped } = evaluate(group, names);
  report.dropped.push(...dropped.map(([n, why]) => `${group.header}:${n} (${why})`));

  const body = [];
  for (const name of names) {
    if (!values.has(name)) continue;
    const value = values.get(name);
    const prev = defined.get(name);
    if (prev) {
      // Same name from an earlier header: first wins; a different value would
      // mean the headers disagree, which deserves a loud note.
      (prev.value === value ? report.duplicates : report.conflicts).push(
        `${name} (${group.header}=${value}, ${prev.header}=${prev.value})`,
      );
      continue;
    }
    defined.set(name, { value, header: group.header });
    if (value > MAX_SAFE || value < -MAX_SAFE) report.bigints.push(`${name}=${value}n`);
    body.push(`export const ${name} = ${literal(value)};`);
  }
  if (body.length === 0) continue;
  lines.push(`// ${group.header}${group.comment ? ` (${group.comment})` : ''}`, ...body, '');
}

// Reverse maps. Computed keys reference the constants above, so the tables
// cannot drift from them.
function reverseMap(name, doc, keys) {
  const byValue = new Map();
  for (const k of keys) if (!byValue.has(defined.get(k).value)) byValue.set(defined.get(k).value, k);
  const entries = [...byValue.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  lines.push(
    `/** ${doc} */`,
    `export const ${name}: Record<number, string> = {`,
    ...entries.map(([, k]) => `  [${k}]: '${k}',`),
    '};',
    '',
  );
}

const rtmTypes = [...defined.keys()].filter(
  (n) => defined.get(n).header === 'linux/rtnetlink.h' && /^RTM_(NEW|DEL|GET|SET)[A-Z0-9_]*$/.test(n),
);
reverseMap(
  'RTM_NAMES',
  'rtnetlink message type -> name, for the RTM_NEW, RTM_DEL, RTM_GET and RTM_SET message types only.',
  rtmTypes,
);
reverseMap('NLMSG_NAMES', 'Netlink control message type -> name.', [
  'NLMSG_NOOP',
  'NLMSG_ERROR',
  'NLMSG_DONE',
  'NLMSG_OVERRUN',
]);

log(`${defined.size} constants from ${GROUPS.length} header groups`);
log(`function-like macros skipped: ${report.functionLike.length}`);
if (process.env.VERBOSE) for (const d of report.functionLike) log(`  ${d}`);
log(`dropped (not integer constants): ${report.dropped.length}`);
for (const d of report.dropped) log(`  ${d}`);
log(`same name+value in a later header (skipped): ${report.duplicates.length}`);
for (const d of report.duplicates) log(`  ${d}`);
if (report.conflicts.length) {
  log(`CONFLICTING values, first header kept: ${report.conflicts.length}`);
  for (const d of report.conflicts) log(`  ${d}`);
}
if (report.bigints.length) log(`emitted as bigint (beyond 2^53): ${report.bigints.join(', ')}`);

const missing = REQUIRED.filter((n) => !defined.has(n));
if (missing.length) {
  log(`required constants missing, ${OUT} not written: ${missing.join(', ')}`);
  process.exit(1);
}
writeFileSync(OUT, lines.join('\n').replace(/\n+$/, '\n'));
log(`wrote ${OUT}`);
