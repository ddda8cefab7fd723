#!/usr/bin/env node
// Cross-checks the generated lib/specs tables against the C uapi headers installed on
// this machine (/usr/include/linux), using the C compiler as the source of truth.
//
//   node scripts/check-specs.mjs [--verbose] [ynlDir]
//
// The YNL specs are only read for names and C naming prefixes (name-prefix); every number
// that is compared comes from the generated .ts files, so this checks what we ship.
// The headers may be older than the specs: names the headers lack are counted, not
// failed. A name present in both with different values is a failure.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { camelCase as camel, readSpec } from './gen-specs.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const specDir = path.join(repoRoot, 'lib', 'specs');
const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const ynlDir = path.resolve(repoRoot, args.find((a) => !a.startsWith('--')) ?? '../shared/ynl');

const HEADERS = [
  'linux/types.h',
  'linux/time_types.h',
  'linux/if_link.h',
  'linux/if_addr.h',
  'linux/if_arp.h',
  'linux/if_bridge.h',
  'linux/if_tunnel.h',
  'linux/ip6_tunnel.h',
  'linux/if_macsec.h',
  'linux/veth.h',
  'linux/ip.h',
  'linux/ipv6.h',
  'linux/rtnetlink.h',
  'linux/neighbour.h',
  'linux/fib_rules.h',
  'linux/lwtunnel.h',
  'linux/mpls_iptunnel.h',
  'linux/nexthop.h',
  'linux/gen_stats.h',
  'linux/pkt_sched.h',
  'linux/pkt_cls.h',
  'linux/genetlink.h',
  'linux/wireguard.h',
  'linux/netfilter/nfnetlink.h',
  'linux/netfilter/nf_tables.h',
  'linux/netfilter/nf_nat.h',
  'linux/netfilter/nf_conntrack_tuple_common.h',
  'linux/netfilter.h',
  'linux/if_ether.h',
  'linux/if_vlan.h',
  'linux/snmp.h',
  ...fs
    .readdirSync('/usr/include/linux/tc_act')
    .filter((f) => f.endsWith('.h'))
    .map((f) => `linux/tc_act/${f}`),
];

// C prefixes for sets and enums whose spec gives no name-prefix (or one that is not the
// uapi spelling). An array tries several; a trailing expression adjusts the C value.
const PREFIXES = {
  nftables: {
    'batch-attrs': 'nfnl-batch-',
    'table-attrs': 'nfta-table-',
    'chain-attrs': 'nfta-chain-',
    'counter-attrs': 'nfta-counter-',
    'nft-counter-attrs': 'nfta-counter-',
    'nft-hook-attrs': 'nfta-hook-',
    'hook-dev-attrs': 'nfta-device-',
    'rule-attrs': 'nfta-rule-',
    'expr-list-attrs': 'nfta-list-',
    'set-desc-concat-attrs': 'nfta-list-',
    'setelem-list-elem-attrs': 'nfta-list-',
    'set-list-attrs': 'nfta-list-',
    'expr-attrs': 'nfta-expr-',
    'rule-compat-attrs': 'nfta-rule-compat-',
    'set-attrs': 'nfta-set-',
    'set-desc-attrs': 'nfta-set-desc-',
    'set-field-attrs': 'nfta-set-field-',
    'setelem-attrs': 'nfta-set-elem-',
    'setelem-list-attrs': 'nfta-set-elem-list-',
    'gen-attrs': 'nfta-gen-',
    'obj-attrs': 'nfta-obj-',
    'quota-attrs': 'nfta-quota-',
    'flowtable-attrs': 'nfta-flowtable-',
    'flowtable-hook-attrs': 'nfta-flowtable-hook-',
    'expr-bitwise-attrs': 'nfta-bitwise-',
    'expr-cmp-attrs': 'nfta-cmp-',
    'data-attrs': 'nfta-data-',
    'verdict-attrs': 'nfta-verdict-',
    'expr-counter-attrs': 'nfta-counter-',
    'expr-fib-attrs': 'nfta-fib-',
    'expr-ct-attrs': 'nfta-ct-',
    'expr-flow-offload-attrs': 'nfta-flow-',
    'expr-immediate-attrs': 'nfta-immediate-',
    'expr-lookup-attrs': 'nfta-lookup-',
    'expr-meta-attrs': 'nfta-meta-',
    'expr-nat-attrs': 'nfta-nat-',
    'expr-payload-attrs': 'nfta-payload-',
    'expr-reject-attrs': 'nfta-reject-',
    'expr-target-attrs': 'nfta-target-',
    'expr-tproxy-attrs': 'nfta-tproxy-',
    'expr-objref-attrs': 'nfta-objref-',
    'expr-limit-attrs': 'nfta-limit-',
    'expr-log-attrs': 'nfta-log-',
    'expr-masq-attrs': 'nfta-masq-',
    'expr-redir-attrs': 'nfta-redir-',
    'expr-range-attrs': 'nfta-range-',
    'expr-dynset-attrs': 'nfta-dynset-',
    'expr-byteorder-attrs': 'nfta-byteorder-',
    'meta-keys': 'nft-meta-',
    'bitwise-ops': 'nft-bitwise-',
    'cmp-ops': 'nft-cmp-',
    'object-type': 'nft-object-',
    'nat-range-flags': 'nf-nat-range-',
    'table-flags': 'nft-table-f-',
    'chain-flags': 'nft-chain-',
    'set-flags': 'nft-set-',
    'lookup-flags': 'nft-lookup-f-',
    'ct-keys': 'nft-ct-',
    'ct-direction': 'ip-ct-dir-',
    'quota-flags': 'nft-quota-f-',
    'verdict-code': ['nft-', 'nf-'],
    'fib-result': 'nft-fib-result-',
    'fib-flags': 'nfta-fib-f-',
    'reject-types': 'nft-reject-',
  },
  nlctrl: { 'op-flags': 'genl-', 'attr-type': 'nl-attr-type-' },
  'rt-link': {
    'vlan-protocols': 'eth-p-',
    // The spec numbers devconf entries as array indexes: IPV4_DEVCONF_* starts at 1.
    'ipv4-devconf': ['ipv4-devconf-', ' - 1'],
    'ipv6-devconf': 'devconf-',
    'ifla-icmp6-stats': 'icmp6-mib-',
    'ifla-inet6-stats': 'ipstats-mib-',
    'vlan-flags': 'vlan-flag-',
    'ifla-vf-link-state-enum': 'ifla-vf-link-state-',
    'rtext-filter': 'rtext-filter-',
  },
  'rt-neigh': { 'nud-state': 'nud-', 'ntf-flags': 'ntf-', 'ntf-ext-flags': 'ntf-ext-', 'rtm-type': 'rtn-' },
  'rt-rule': { 'fr-act': 'fr-act-' },
  tc: { 'cls-flags': 'tca-cls-flags-', 'hfsc-attrs': 'tca-hfsc-' },
};
// C member prefixes where the spec drops them from struct member names.
const MEMBER_PREFIXES = {
  tcmsg: 'tcm_',
  rtgenmsg: 'rtgen_',
  ndtmsg: 'ndtm_',
  'nda-cacheinfo': 'ndm_',
  'ndt-config': 'ndtc_',
  'ndt-stats': 'ndts_',
  '--kernel-timespec': 'tv_',
};

const cName = (s) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
const cMember = (s) => s.replace(/-/g, '_');

// The generated files are TS only by their header and one annotation; the body is a
// plain object literal.
function loadGenerated(file) {
  const src = fs.readFileSync(file, 'utf8');
  const body = src.slice(
    src.indexOf('export const spec: FamilySpecDef =') + 'export const spec: FamilySpecDef ='.length,
  );
  return new Function(`return (${body.trim().replace(/;\s*$/, '')});`)();
}

// Compiles `lines` (one C expression check per line) and drops lines the compiler
// rejects (names or members the installed headers don't have) until the rest builds.
function evalInC(checks) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'check-specs-'));
  const src = path.join(tmp, 'c.c');
  const exe = path.join(tmp, 'c');
  let live = checks.slice();
  try {
    for (let round = 0; round < 20; round++) {
      const prelude = ['#include <stdio.h>', '#include <stddef.h>', ...HEADERS.map((h) => `#include <${h}>`)];
      prelude.push('#define P(id, e) printf("%d %lld\\n", id, (long long)(e))', 'int main(void) {');
      const first = prelude.length + 1;
      const text = [...prelude, ...live.map((c) => `P(${c.id}, ${c.expr});`), 'return 0; }', ''].join('\n');
      fs.writeFileSync(src, text);
      const r = spawnSync('cc', ['-w', '-fmax-errors=0', '-o', exe, src], { encoding: 'utf8' });
      if (r.status === 0) break;
      const bad = new Set();
      for (const m of r.stderr.matchAll(/c\.c:(\d+):\d+: error/g)) bad.add(Number(m[1]) - first);
      if (bad.size === 0) throw new Error(`cc failed:\n${r.stderr}`);
      live = live.filter((_, i) => !bad.has(i));
    }
    const out = spawnSync(exe, { encoding: 'utf8' }).stdout;
    const values = new Map();
    for (const line of out.trim().split('\n')) {
      const [id, v] = line.split(' ');
      values.set(Number(id), Number(v));
    }
    return values;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const SIZES = { u8: 1, s8: 1, u16: 2, s16: 2, u32: 4, s32: 4, u64: 8, s64: 8 };

function main() {
  const checks = [];
  const exprs = [];
  const structs = [];
  // One check per spec value; each candidate C spelling is its own line for the compiler.
  const add = (group, label, candidates, expected, extra = {}) => {
    const c = { group, label, expected, exprs: [], ...extra };
    for (const expr of candidates) {
      const e = { id: exprs.length, expr };
      exprs.push(e);
      c.exprs.push(e);
    }
    checks.push(c);
    return c;
  };
  const specs = {};

  for (const f of fs.readdirSync(ynlDir).filter((f) => f.endsWith('.yaml'))) {
    // Names as the generator saw them, i.e. with its errata applied.
    const doc = readSpec(path.join(ynlDir, f));
    const spec = loadGenerated(path.join(specDir, `${doc.name}.ts`));
    specs[doc.name] = spec;
    const fam = doc.name;

    const names = (owner, defaultPrefix, name) => {
      const p = PREFIXES[fam]?.[owner] ?? defaultPrefix;
      if (Array.isArray(p) && p[1]?.startsWith(' ')) return [`(${cName(p[0] + name)}${p[1]})`];
      return (Array.isArray(p) ? p : [p]).map((x) => cName(x + name));
    };
    for (const s of doc['attribute-sets'] ?? []) {
      if (s['subset-of']) continue;
      const prefix = s['name-prefix'] ?? `${fam}-a-${s.name}-`;
      for (const a of spec.attributeSets[s.name].attributes) {
        const y = s.attributes.find((x) => camel(x.name) === a.name);
        add(`${fam}/${s.name}`, a.name, names(s.name, prefix, y.name), a.value);
      }
    }
    for (const d of doc.definitions ?? []) {
      if (d.type === 'enum' || d.type === 'flags') {
        const prefix = d['name-prefix'] ?? `${fam}-${d.name}-`;
        for (const e of spec.enums[d.name].entries) {
          // Negative C enumerators (NFT_CONTINUE = -1) travel as u32: compare as such.
          add(`${fam}/enum ${d.name}`, e.name, names(d.name, prefix, e.name), e.value, { u32: true });
        }
      } else if (d.type === 'struct') {
        const st = spec.structs[d.name];
        const cs = `struct ${cMember(d.name)}`;
        const group = `${fam}/struct ${d.name}`;
        const layout = { group, spec: structSize(spec, st), members: [] };
        structs.push(layout);
        add(group, 'sizeof', [`sizeof(${cs})`], layout.spec, { layout });
        let off = 0;
        for (const m of st.members) {
          if (m.type !== 'pad') {
            const y = d.members.find((x) => camel(x.name) === m.name);
            const member = `${MEMBER_PREFIXES[d.name] ?? ''}${cMember(y.name)}`;
            layout.members.push(add(group, m.name, [`offsetof(${cs}, ${member})`], off));
          }
          off += memberSize(spec, m);
        }
      }
    }
    const ops = doc.operations ?? {};
    if (ops['name-prefix']) {
      for (const op of spec.operations) {
        const y = ops.list.find((o) => camel(o.name) === op.name);
        const v = op.requestValue ?? op.replyValue;
        if (v !== undefined) add(`${fam}/operations`, op.name, [cName(ops['name-prefix'] + y.name)], v);
      }
    }
  }

  const values = evalInC(exprs);
  for (const c of checks) {
    const found = c.exprs.filter((e) => values.has(e.id));
    c.found = found.length > 0;
    const same = (v) => v === c.expected || (c.u32 && v < 0 && v >>> 0 === c.expected);
    const hit = found.find((e) => same(values.get(e.id)));
    c.ok = Boolean(hit);
    c.actual = found.length ? values.get(found[0].id) : undefined;
    c.cExpr = found[0]?.expr;
  }
  // A struct whose size differs is still consistent with the header when the
  // difference is explained by the shape of the spec's description.
  const explained = new Map();
  for (const l of structs) {
    const sizeCheck = checks.find((c) => c.layout === l);
    if (!sizeCheck.found || sizeCheck.ok || l.members.some((m) => m.found && !m.ok)) continue;
    const cSize = sizeCheck.actual;
    const missing = l.members.filter((m) => !m.found);
    const last = l.members[l.members.length - 1];
    if (l.spec > cSize && missing.length && missing.every((m) => m.expected >= cSize)) {
      explained.set(sizeCheck, 'newer than the installed header (members appended)');
    } else if (l.spec > cSize && last?.found && last.expected === cSize) {
      explained.set(sizeCheck, `last member is a C flexible array, described as one element`);
    } else if (l.spec > cSize && !missing.length && l.members.every((m) => m.expected < cSize)) {
      explained.set(sizeCheck, 'spec pads the struct beyond its C size');
    } else if (l.spec < cSize && !missing.length) {
      explained.set(sizeCheck, 'spec lists only the leading members of the C struct');
    }
  }

  const groups = new Map();
  const mismatches = [];
  for (const c of checks) {
    const g = groups.get(c.group) ?? { ok: 0, missing: [] };
    groups.set(c.group, g);
    if (!c.found) g.missing.push(c.label);
    else if (c.ok) g.ok++;
    else if (explained.has(c)) console.log(`known: ${c.group}: size ${c.expected}, C ${c.actual}: ${explained.get(c)}`);
    else mismatches.push(`${c.group} ${c.label}: spec ${c.expected}, C ${c.cExpr} = ${c.actual}`);
  }

  // Spot checks that must hold whatever the header coverage.
  const spot = [];
  const skipped = new Set();
  const expectAttr = (fam, set, name, value, extra = {}) => {
    // Some kinds (e.g. vxlan) are not described by every spec revision.
    if (!specs[fam].attributeSets[set]) return skipped.add(`${fam}/${set}`);
    const a = specs[fam].attributeSets[set].attributes.find((x) => x.name === name);
    const ok = a && a.value === value && Object.entries(extra).every(([k, v]) => a[k] === v);
    if (!ok)
      spot.push(`${fam}/${set}.${name}: expected ${JSON.stringify({ value, ...extra })}, got ${JSON.stringify(a)}`);
  };
  expectAttr('rt-link', 'link-attrs', 'address', 1);
  expectAttr('rt-link', 'link-attrs', 'ifname', 3);
  expectAttr('rt-link', 'link-attrs', 'mtu', 4);
  expectAttr('rt-link', 'link-attrs', 'txqlen', 13);
  expectAttr('rt-link', 'link-attrs', 'linkinfo', 18);
  expectAttr('rt-link', 'link-attrs', 'stats64', 23);
  expectAttr('rt-link', 'link-attrs', 'propList', 52);
  expectAttr('rt-link', 'link-attrs', 'altIfname', 53);
  expectAttr('rt-link', 'prop-list-link-attrs', 'altIfname', 53, { multiAttr: true, type: 'string' });
  expectAttr('rt-link', 'linkinfo-attrs', 'kind', 1);
  expectAttr('rt-link', 'linkinfo-attrs', 'data', 2, { type: 'sub-message', selector: 'kind' });
  expectAttr('rt-link', 'linkinfo-attrs', 'slaveKind', 4);
  expectAttr('rt-link', 'linkinfo-vxlan-attrs', 'id', 1);
  expectAttr('rt-link', 'linkinfo-vxlan-attrs', 'group', 2);
  expectAttr('rt-link', 'linkinfo-vxlan-attrs', 'port', 15, { type: 'u16', byteOrder: 'big-endian' });
  expectAttr('rt-link', 'linkinfo-bridge-attrs', 'vlanFiltering', 7);
  const ifi = specs['rt-link'].structs.ifinfomsg.members.map((m) => `${m.type}${m.len ?? ''}`).join(',');
  if (ifi !== 'u8,pad1,u16,s32,u32,u32') spot.push(`ifinfomsg members: ${ifi}`);
  const s64 = specs['rt-link'].structs['rtnl-link-stats64'].members;
  if (s64.some((m) => m.type !== 'u64')) spot.push('rtnl-link-stats64 has non-u64 members');

  let ok = 0;
  let missing = 0;
  for (const [name, g] of groups) {
    ok += g.ok;
    missing += g.missing.length;
    if (g.missing.length && verbose) {
      console.log(`${name}: ${g.ok} ok, not in headers: ${g.missing.join(' ')}`);
    }
  }
  const matched = [...groups].filter(([, g]) => g.ok > 0).length;
  console.log(
    `${checks.length} checks: ${ok} match the headers, ${explained.size} differ for a known reason, ` +
      `${mismatches.length} differ, ${missing} not in the headers`,
  );
  console.log(`${matched} of ${groups.size} sets/enums/structs had at least one name found in the headers`);
  for (const set of skipped) console.log(`note: no set ${set} in this spec revision, its spot checks skipped`);
  for (const m of mismatches) console.log(`MISMATCH ${m}`);
  for (const s of spot) console.log(`SPOT CHECK FAILED ${s}`);
  if (mismatches.length || spot.length) process.exit(1);
}

function structSize(spec, st) {
  return st.members.reduce((n, m) => n + memberSize(spec, m), 0);
}

function memberSize(spec, m) {
  if (m.type === 'pad' || (m.type === 'binary' && m.len !== undefined)) return m.len;
  if (m.type === 'binary') return structSize(spec, spec.structs[m.struct]);
  return SIZES[m.type];
}

main();
