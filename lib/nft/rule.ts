/**
 * The typed rule builder: a rule's match and statements become the
 * expression list `nft` would generate for the same rule (learned from
 * `nft --debug=netlink`), and expression lists decode back to the typed
 * form. A rule the typed form cannot express decodes to its raw
 * expressions instead.
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import { parsePrefix, formatIP } from '../netlink/address';
import {
  IP_CT_ESTABLISHED,
  IP_CT_IS_REPLY,
  IP_CT_NEW,
  IP_CT_RELATED,
  NF_CT_STATE_INVALID_BIT,
  NF_CT_STATE_UNTRACKED_BIT,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFT_OBJECT_COUNTER,
  NFT_OBJECT_QUOTA,
  NFT_PAYLOAD_NETWORK_HEADER,
  NFT_PAYLOAD_TRANSPORT_HEADER,
  NFT_REG_1,
  NFT_REG_2,
  NFT_REG_3,
  NFT_REG_VERDICT,
  NFT_LIMIT_PKTS,
  NFT_LIMIT_PKT_BYTES,
  NFT_LIMIT_F_INV,
  NFT_NAT_SNAT,
  NFT_NAT_DNAT,
  ETH_P_IP,
  ETH_P_IPV6,
  ICMP_NET_UNREACH,
  ICMP_HOST_UNREACH,
  ICMP_PROT_UNREACH,
  ICMP_PORT_UNREACH,
  ICMP_NET_ANO,
  ICMP_HOST_ANO,
  ICMP_PKT_FILTERED,
  ICMPV6_NOROUTE,
  ICMPV6_ADM_PROHIBITED,
  ICMPV6_ADDR_UNREACH,
  ICMPV6_PORT_UNREACH,
  ICMPV6_POLICY_FAIL,
  ICMPV6_REJECT_ROUTE,
  NFT_REJECT_ICMPX_NO_ROUTE,
  NFT_REJECT_ICMPX_PORT_UNREACH,
  NFT_REJECT_ICMPX_HOST_UNREACH,
  NFT_REJECT_ICMPX_ADMIN_PROHIBITED,
  IFNAMSIZ,
} from '../netlink/constants';
import {
  DATA_TYPES,
  LIMIT_UNITS,
  LOG_LEVELS,
  PORT_PROTOCOLS,
  ifnameBytes,
  l4protoName,
  l4protoValue,
  type DataType,
  type NftFamily,
} from './names';
import type {
  NftAddressMatch,
  NftElement,
  NftExpression,
  NftMatch,
  NftNat,
  NftPortMatch,
  NftReject,
  NftRule,
  NftRuleBody,
  NftVerdictName,
} from './types';

/** What building a rule needs from the transaction around it. */
export interface RuleBuildContext {
  family: NftFamily;
  /** The interface index of a name (resolved before building). */
  ifindex(name: string, argument: string): number;
  /** Adds an anonymous set to the transaction; its name and id go in the lookup. */
  anonymousSet(
    type: DataType,
    elements: NftElement[],
    interval: boolean,
    argument: string,
  ): { name: string; id: number };
}

const CT_STATES: Record<string, number> = {
  invalid: NF_CT_STATE_INVALID_BIT,
  // NF_CT_STATE_BIT(ctinfo) = 1 << (ctinfo % IP_CT_IS_REPLY + 1)
  established: 1 << ((IP_CT_ESTABLISHED % IP_CT_IS_REPLY) + 1),
  related: 1 << ((IP_CT_RELATED % IP_CT_IS_REPLY) + 1),
  new: 1 << ((IP_CT_NEW % IP_CT_IS_REPLY) + 1),
  untracked: NF_CT_STATE_UNTRACKED_BIT,
};

const REJECT_CODES: Record<'icmp' | 'icmpv6' | 'icmpx', Record<string, number>> = {
  icmp: {
    'net-unreachable': ICMP_NET_UNREACH,
    'host-unreachable': ICMP_HOST_UNREACH,
    'prot-unreachable': ICMP_PROT_UNREACH,
    'port-unreachable': ICMP_PORT_UNREACH,
    'net-prohibited': ICMP_NET_ANO,
    'host-prohibited': ICMP_HOST_ANO,
    'admin-prohibited': ICMP_PKT_FILTERED,
  },
  icmpv6: {
    'no-route': ICMPV6_NOROUTE,
    'admin-prohibited': ICMPV6_ADM_PROHIBITED,
    'addr-unreachable': ICMPV6_ADDR_UNREACH,
    'port-unreachable': ICMPV6_PORT_UNREACH,
    'policy-fail': ICMPV6_POLICY_FAIL,
    'reject-route': ICMPV6_REJECT_ROUTE,
  },
  icmpx: {
    'no-route': NFT_REJECT_ICMPX_NO_ROUTE,
    'port-unreachable': NFT_REJECT_ICMPX_PORT_UNREACH,
    'host-unreachable': NFT_REJECT_ICMPX_HOST_UNREACH,
    'admin-prohibited': NFT_REJECT_ICMPX_ADMIN_PROHIBITED,
  },
};

const NAT_FLAGS: Record<string, string> = {
  random: 'proto-random',
  'fully-random': 'proto-random-fully',
  persistent: 'persistent',
};

const VERDICTS = new Set(['accept', 'drop', 'continue', 'return', 'jump', 'goto', 'reject']);

// ---- small builders --------------------------------------------------------

const value = (b: Buffer) => ({ value: b });
const cmp = (op: string, data: Buffer): NftExpression => ({
  name: 'cmp',
  data: { sreg: NFT_REG_1, op, data: value(data) },
});
const meta = (key: string): NftExpression => ({ name: 'meta', data: { key, dreg: NFT_REG_1 } });
const payload = (base: number, offset: number, len: number): NftExpression => ({
  name: 'payload',
  data: { dreg: NFT_REG_1, base, offset, len },
});
const immediate = (dreg: number, data: Buffer): NftExpression => ({
  name: 'immediate',
  data: { dreg, data: value(data) },
});

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}
function be16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}

function u32Argument(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer', v);
  if (v < 0 || v > 0xffffffff) throw outOfRange(argument, '>= 0 and <= 4294967295', v);
  return v;
}

function portArgument(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'a port number', v);
  if (v < 0 || v > 65535) throw outOfRange(argument, '>= 0 and <= 65535', v);
  return v;
}

/** An address or prefix: its family, bytes, and prefix length. */
function prefixArgument(v: unknown, argument: string): { family: 4 | 6; bytes: Buffer; prefixLength: number } {
  if (typeof v !== 'string') throw invalidType(argument, "an address or CIDR string like '10.0.0.0/8'", v);
  const p = v === 'default' ? null : parsePrefix(v);
  if (!p) throw invalidValue(argument, v, "must be an IP address or a CIDR prefix like '10.0.0.0/8'");
  return p;
}

function maskBytes(len: number, prefixLength: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    b[i] = (0xff00 >> bits) & 0xff;
  }
  return b;
}

/** The typed element key forms a set of addresses accepts: address, prefix, or [first, last]. */
export function addressInterval(
  v: unknown,
  family: 4 | 6,
  argument: string,
): { first: Buffer; last: Buffer; single: boolean } {
  if (Array.isArray(v)) {
    if (v.length !== 2) throw invalidValue(argument, v, 'must be [first, last]');
    const a = prefixArgument(v[0], `${argument}[0]`);
    const b = prefixArgument(v[1], `${argument}[1]`);
    if (a.family !== family || b.family !== family) throw invalidValue(argument, v, `must hold IPv${family} addresses`);
    if (Buffer.compare(a.bytes, b.bytes) > 0) throw invalidValue(argument, v, 'must not end before it starts');
    return { first: a.bytes, last: b.bytes, single: false };
  }
  const p = prefixArgument(v, argument);
  if (p.family !== family) throw invalidValue(argument, v, `must be an IPv${family} address or prefix`);
  const mask = maskBytes(p.bytes.length, p.prefixLength);
  const first = Buffer.from(p.bytes.map((x, i) => x & mask[i]));
  if (!first.equals(p.bytes)) throw invalidValue(argument, v, 'has host bits set beyond its prefix length');
  const last = Buffer.from(first.map((x, i) => x | (~mask[i] & 0xff)));
  return { first, last, single: p.prefixLength === p.bytes.length * 8 };
}

function addressFamilyOf(v: NftAddressMatch, argument: string): 4 | 6 {
  const sample = Array.isArray(v) ? (Array.isArray(v[0]) ? v[0][0] : v[0]) : v;
  if (typeof v === 'string' && v.startsWith('@')) return 0 as never; // named set: family from the set
  return prefixArgument(sample, argument).family;
}

// ---- rule -> expressions ---------------------------------------------------

/**
 * The expressions of a rule, in the order `nft` emits them for the same
 * statement: matches, then limit, counter, quota, log, meta mark set,
 * NAT, and the verdict.
 */
export function buildRuleExpressions(rule: NftRuleBody, ctx: RuleBuildContext, argument: string): NftExpression[] {
  const out: NftExpression[] = [];
  const { family } = ctx;
  const m = rule.match ?? {};
  if (typeof m !== 'object' || m === null) throw invalidType(`${argument}.match`, 'an object', m);
  const known = new Set([
    'nfproto',
    'l4proto',
    'saddr',
    'daddr',
    'sport',
    'dport',
    'iif',
    'oif',
    'iifname',
    'oifname',
    'mark',
    'ctState',
  ]);
  for (const k of Object.keys(m)) {
    if (!known.has(k))
      throw invalidValue(`${argument}.match.${k}`, (m as Record<string, unknown>)[k], 'is not a match field');
  }

  for (const dir of ['iif', 'oif'] as const) {
    const v = m[dir];
    if (v === undefined) continue;
    const index =
      typeof v === 'string' ? ctx.ifindex(v, `${argument}.match.${dir}`) : u32Argument(v, `${argument}.match.${dir}`);
    out.push(meta(dir), cmp('eq', u32le(index)));
  }
  for (const dir of ['iifname', 'oifname'] as const) {
    const v = m[dir];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw invalidType(`${argument}.match.${dir}`, 'a string', v);
    const wildcard = v.endsWith('*') && v.length > 1;
    const bytes = ifnameBytes(wildcard ? v.slice(0, -1) : v, `${argument}.match.${dir}`);
    out.push(meta(dir), cmp('eq', wildcard ? bytes.subarray(0, Buffer.byteLength(v) - 1) : bytes));
  }
  if (m.mark !== undefined) out.push(meta('mark'), cmp('eq', u32le(u32Argument(m.mark, `${argument}.match.mark`))));

  let l4: string | number | undefined;
  if (m.l4proto !== undefined) {
    const n = l4protoValue(m.l4proto, `${argument}.match.l4proto`);
    l4 = l4protoName(n);
    out.push(meta('l4-proto'), cmp('eq', Buffer.from([n])));
  }

  // Layer 3: which protocol the addresses belong to.
  let l3: 4 | 6 | undefined;
  if (m.nfproto !== undefined) {
    if (m.nfproto !== 'ipv4' && m.nfproto !== 'ipv6')
      throw invalidValue(`${argument}.match.nfproto`, m.nfproto, "must be 'ipv4' or 'ipv6'");
    l3 = m.nfproto === 'ipv4' ? 4 : 6;
  }
  for (const dir of ['saddr', 'daddr'] as const) {
    const v = m[dir];
    if (v === undefined || (typeof v === 'string' && v.startsWith('@'))) continue;
    const f = addressFamilyOf(v, `${argument}.match.${dir}`);
    if (l3 !== undefined && f !== l3) {
      throw invalidValue(`${argument}.match.${dir}`, v, `must be an IPv${l3} address like the rest of the match`);
    }
    l3 = f;
  }
  if ((m.saddr !== undefined || m.daddr !== undefined) && l3 === undefined) {
    if (family === 'ip') l3 = 4;
    else if (family === 'ip6') l3 = 6;
    else
      throw invalidValue(
        `${argument}.match.nfproto`,
        undefined,
        "must be given ('ipv4' or 'ipv6') to match a named address set in this family",
      );
  }
  if (l3 !== undefined) {
    if (family === 'arp') throw invalidValue(`${argument}.match`, m, 'cannot match IP addresses in the arp family');
    if ((family === 'ip' && l3 === 6) || (family === 'ip6' && l3 === 4)) {
      throw invalidValue(`${argument}.match`, m, `cannot match IPv${l3} addresses in the ${family} family`);
    }
    if (family === 'inet') {
      out.push(meta('nfproto'), cmp('eq', Buffer.from([l3 === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6])));
    } else if (family === 'bridge' || family === 'netdev') {
      out.push(meta('protocol'), cmp('eq', be16(l3 === 4 ? ETH_P_IP : ETH_P_IPV6)));
    }
  }
  for (const dir of ['saddr', 'daddr'] as const) {
    const v = m[dir];
    if (v === undefined) continue;
    const arg = `${argument}.match.${dir}`;
    const len = l3 === 4 ? 4 : 16;
    const offset = l3 === 4 ? (dir === 'saddr' ? 12 : 16) : dir === 'saddr' ? 8 : 24;
    if (typeof v === 'string' && v.startsWith('@')) {
      out.push(payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len), lookupNamed(v, arg));
    } else if (Array.isArray(v)) {
      if (v.length === 0) throw invalidValue(arg, v, 'must not be empty');
      const type = DATA_TYPES[l3 === 4 ? 'ipv4_addr' : 'ipv6_addr'];
      const elements = v.map((e, i) => {
        const r = addressInterval(e, l3!, `${arg}[${i}]`);
        return r;
      });
      const interval = elements.some((e) => !e.single);
      const set = ctx.anonymousSet(type, v as NftElement[], interval, arg);
      out.push(payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len), lookup(set));
    } else {
      const p = prefixArgument(v, arg);
      const r = addressInterval(v, l3!, arg);
      if (p.prefixLength === 0) throw invalidValue(arg, v, 'matches every address: leave it out');
      // As nft does: whole bytes of a prefix are compared directly; otherwise
      // the whole address is loaded and masked.
      const bytes = p.prefixLength % 8 === 0 ? p.prefixLength / 8 : len;
      out.push(payload(NFT_PAYLOAD_NETWORK_HEADER, offset, bytes));
      if (p.prefixLength % 8 !== 0) {
        out.push({
          name: 'bitwise',
          data: {
            sreg: NFT_REG_1,
            dreg: NFT_REG_1,
            len: bytes,
            mask: value(maskBytes(bytes, p.prefixLength)),
            xor: value(Buffer.alloc(bytes)),
          },
        });
      }
      out.push(cmp('eq', r.first.subarray(0, bytes)));
    }
  }

  for (const dir of ['sport', 'dport'] as const) {
    const v = m[dir];
    if (v === undefined) continue;
    const arg = `${argument}.match.${dir}`;
    if (l4 === undefined || !PORT_PROTOCOLS.has(String(l4))) {
      throw invalidValue(arg, v, `needs match.l4proto to be one of ${[...PORT_PROTOCOLS].join(', ')}`);
    }
    out.push(payload(NFT_PAYLOAD_TRANSPORT_HEADER, dir === 'sport' ? 0 : 2, 2));
    out.push(...portMatch(v, arg, ctx));
  }

  if (m.ctState !== undefined) {
    const arg = `${argument}.match.ctState`;
    if (!Array.isArray(m.ctState) || m.ctState.length === 0)
      throw invalidType(arg, 'a non-empty array of state names', m.ctState);
    let mask = 0;
    for (const s of m.ctState) {
      const bit = CT_STATES[s as string];
      if (bit === undefined) throw invalidValue(arg, s, `must hold ${Object.keys(CT_STATES).join(', ')}`);
      mask |= bit;
    }
    out.push(
      { name: 'ct', data: { key: 'state', dreg: NFT_REG_1 } },
      {
        name: 'bitwise',
        data: { sreg: NFT_REG_1, dreg: NFT_REG_1, len: 4, mask: value(u32le(mask)), xor: value(Buffer.alloc(4)) },
      },
      cmp('neq', Buffer.alloc(4)),
    );
  }

  // Statements.
  if (rule.limit !== undefined) out.push(limitExpression(rule.limit, `${argument}.limit`));
  if (rule.counter !== undefined && rule.counter !== false) {
    if (rule.counter === true) out.push({ name: 'counter', data: {} });
    else if (typeof rule.counter === 'string' && rule.counter.length > 0)
      out.push({ name: 'objref', data: { immType: NFT_OBJECT_COUNTER, immName: rule.counter } });
    else throw invalidType(`${argument}.counter`, 'a boolean or a counter name', rule.counter);
  }
  if (rule.quota !== undefined) {
    if (typeof rule.quota !== 'string' || rule.quota.length === 0)
      throw invalidType(`${argument}.quota`, 'a quota name', rule.quota);
    out.push({ name: 'objref', data: { immType: NFT_OBJECT_QUOTA, immName: rule.quota } });
  }
  if (rule.log !== undefined && rule.log !== false) out.push(logExpression(rule.log, `${argument}.log`));
  if (rule.setMark !== undefined) {
    out.push(immediate(NFT_REG_1, u32le(u32Argument(rule.setMark, `${argument}.setMark`))), {
      name: 'meta',
      data: { key: 'mark', sreg: NFT_REG_1 },
    });
  }
  if (rule.nat !== undefined) out.push(...natExpressions(rule.nat, family, `${argument}.nat`));

  if (rule.reject !== undefined && rule.verdict !== 'reject') {
    throw invalidValue(`${argument}.reject`, rule.reject, "goes with verdict: 'reject'");
  }
  if (rule.target !== undefined && rule.verdict !== 'jump' && rule.verdict !== 'goto') {
    throw invalidValue(`${argument}.target`, rule.target, "goes with verdict 'jump' or 'goto'");
  }
  if (rule.verdict !== undefined) {
    const v = rule.verdict;
    if (typeof v !== 'string' || !VERDICTS.has(v)) {
      throw invalidValue(`${argument}.verdict`, v, `must be one of ${[...VERDICTS].join(', ')}`);
    }
    if (v === 'reject') out.push(rejectExpression(rule.reject, family, l4, `${argument}.reject`));
    else {
      const verdict: Record<string, unknown> = { code: v };
      if (v === 'jump' || v === 'goto') {
        if (typeof rule.target !== 'string' || rule.target.length === 0) {
          throw invalidType(`${argument}.target`, `the name of the chain to ${v} to`, rule.target);
        }
        verdict.chain = rule.target;
      }
      out.push({ name: 'immediate', data: { dreg: NFT_REG_VERDICT, data: { verdict } } });
    }
  }
  if (rule.comment !== undefined && typeof rule.comment !== 'string') {
    throw invalidType(`${argument}.comment`, 'a string', rule.comment);
  }
  return out;
}

function lookupNamed(v: string, argument: string): NftExpression {
  const name = v.slice(1);
  if (name.length === 0) throw invalidValue(argument, v, "must name a set after '@'");
  return { name: 'lookup', data: { set: name, sreg: NFT_REG_1 } };
}

function lookup(set: { name: string; id: number }): NftExpression {
  return { name: 'lookup', data: { set: set.name, sreg: NFT_REG_1, setId: set.id } };
}

function portMatch(v: NftPortMatch, argument: string, ctx: RuleBuildContext): NftExpression[] {
  if (typeof v === 'number') return [cmp('eq', be16(portArgument(v, argument)))];
  if (typeof v === 'string') {
    if (!v.startsWith('@')) throw invalidValue(argument, v, "must be a port, { range }, a list, or '@set'");
    return [lookupNamed(v, argument)];
  }
  if (Array.isArray(v)) {
    if (v.length === 0) throw invalidValue(argument, v, 'must not be empty');
    let interval = false;
    v.forEach((e, i) => {
      if (Array.isArray(e)) {
        interval = true;
        portRange(e, `${argument}[${i}]`);
      } else portArgument(e, `${argument}[${i}]`);
    });
    return [lookup(ctx.anonymousSet(DATA_TYPES.inet_service, v as NftElement[], interval, argument))];
  }
  if (typeof v === 'object' && v !== null && 'range' in v) {
    const [lo, hi] = portRange(v.range, `${argument}.range`);
    return [cmp('gte', be16(lo)), cmp('lte', be16(hi))];
  }
  throw invalidType(argument, "a port, { range: [lo, hi] }, an array, or '@set'", v);
}

function portRange(v: unknown, argument: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw invalidType(argument, 'a [lo, hi] pair', v);
  const lo = portArgument(v[0], `${argument}[0]`);
  const hi = portArgument(v[1], `${argument}[1]`);
  if (lo > hi) throw invalidValue(argument, v, 'must not end before it starts');
  return [lo, hi];
}

function limitExpression(l: unknown, argument: string): NftExpression {
  if (typeof l !== 'object' || l === null) throw invalidType(argument, 'an object { rate, per }', l);
  const { rate, per, burst, unit, over } = l as Record<string, unknown>;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate <= 0)
    throw invalidValue(`${argument}.rate`, rate, 'must be a positive integer');
  const seconds = LIMIT_UNITS[per as string];
  if (seconds === undefined)
    throw invalidValue(`${argument}.per`, per, `must be one of ${Object.keys(LIMIT_UNITS).join(', ')}`);
  if (unit !== undefined && unit !== 'packets' && unit !== 'bytes')
    throw invalidValue(`${argument}.unit`, unit, "must be 'packets' or 'bytes'");
  const data: Record<string, unknown> = {
    rate,
    unit: seconds,
    burst: burst === undefined ? (unit === 'bytes' ? 0 : 5) : u32Argument(burst, `${argument}.burst`),
    type: unit === 'bytes' ? NFT_LIMIT_PKT_BYTES : NFT_LIMIT_PKTS,
    flags: over === true ? NFT_LIMIT_F_INV : 0,
  };
  return { name: 'limit', data };
}

function logExpression(l: unknown, argument: string): NftExpression {
  if (l === true) return { name: 'log' };
  if (typeof l !== 'object' || l === null) throw invalidType(argument, 'true or an object', l);
  const { prefix, level, group, snaplen } = l as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  if (prefix !== undefined) {
    if (typeof prefix !== 'string') throw invalidType(`${argument}.prefix`, 'a string', prefix);
    if (Buffer.byteLength(prefix) > 127) throw outOfRange(`${argument}.prefix`, 'at most 127 bytes long', prefix);
    data.prefix = prefix;
  }
  if (group !== undefined) {
    if (level !== undefined)
      throw invalidValue(`${argument}.level`, level, 'cannot go with group (nflog has no level)');
    if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group > 65535)
      throw outOfRange(`${argument}.group`, '>= 0 and <= 65535', group);
    data.group = group;
  }
  if (snaplen !== undefined) data.snaplen = u32Argument(snaplen, `${argument}.snaplen`);
  if (level !== undefined) {
    const n = LOG_LEVELS.indexOf(level as string);
    if (n === -1) throw invalidValue(`${argument}.level`, level, `must be one of ${LOG_LEVELS.join(', ')}`);
    data.level = n;
  }
  return Object.keys(data).length ? { name: 'log', data } : { name: 'log' };
}

function rejectExpression(
  r: NftReject | undefined,
  family: NftFamily,
  l4: string | number | undefined,
  argument: string,
): NftExpression {
  const defaultType = family === 'ip' ? 'icmp' : family === 'ip6' ? 'icmpv6' : 'icmpx';
  if (r !== undefined && (typeof r !== 'object' || r === null))
    throw invalidType(argument, 'an object { type, code? }', r);
  const type = r?.type ?? defaultType;
  if (type === 'tcp-reset') {
    if (l4 !== 'tcp') throw invalidValue(argument, r, "tcp-reset needs match.l4proto 'tcp'");
    return { name: 'reject', data: { type: 'tcp-rst', icmpCode: 0 } };
  }
  if (type !== 'icmp' && type !== 'icmpv6' && type !== 'icmpx') {
    throw invalidValue(`${argument}.type`, type, "must be 'tcp-reset', 'icmpx', 'icmp' or 'icmpv6'");
  }
  const allowed = family === 'ip' ? ['icmp'] : family === 'ip6' ? ['icmpv6'] : family === 'arp' ? [] : ['icmpx'];
  if (!allowed.includes(type)) {
    throw invalidValue(
      `${argument}.type`,
      type,
      `is not available in the ${family} family (use ${allowed.join(', ') || 'drop'})`,
    );
  }
  const codes = REJECT_CODES[type];
  const code = r?.code ?? 'port-unreachable';
  let n: number;
  if (typeof code === 'number') {
    if (!Number.isInteger(code) || code < 0 || code > 255)
      throw outOfRange(`${argument}.code`, '>= 0 and <= 255', code);
    n = code;
  } else {
    const v = codes[code];
    if (v === undefined)
      throw invalidValue(`${argument}.code`, code, `must be one of ${Object.keys(codes).join(', ')}`);
    n = v;
  }
  return { name: 'reject', data: { type: type === 'icmpx' ? 'icmpx-unreach' : 'icmp-unreach', icmpCode: n } };
}

function natExpressions(nat: NftNat, family: NftFamily, argument: string): NftExpression[] {
  if (typeof nat !== 'object' || nat === null) throw invalidType(argument, 'an object { type, ... }', nat);
  const { type, address, port, flags } = nat;
  if (!['snat', 'dnat', 'masquerade', 'redirect'].includes(type)) {
    throw invalidValue(`${argument}.type`, type, "must be 'snat', 'dnat', 'masquerade' or 'redirect'");
  }
  if (!['ip', 'ip6', 'inet'].includes(family))
    throw invalidValue(argument, nat, `is not available in the ${family} family`);
  const out: NftExpression[] = [];
  const data: Record<string, unknown> = {};
  let flagNames: string[] = [];
  if (flags !== undefined) {
    if (!Array.isArray(flags)) throw invalidType(`${argument}.flags`, 'an array', flags);
    flagNames = flags.map((f) => {
      const n = NAT_FLAGS[f];
      if (!n) throw invalidValue(`${argument}.flags`, f, `must hold ${Object.keys(NAT_FLAGS).join(', ')}`);
      return n;
    });
  }
  const ports =
    port === undefined
      ? undefined
      : Array.isArray(port)
        ? portRange(port, `${argument}.port`)
        : [portArgument(port, `${argument}.port`)];
  if (type === 'snat' || type === 'dnat') {
    if (address === undefined) throw invalidType(`${argument}.address`, 'an address string', address);
    const p = prefixArgument(address, `${argument}.address`);
    if (p.prefixLength !== p.bytes.length * 8)
      throw invalidValue(`${argument}.address`, address, 'must be one address');
    if ((family === 'ip' && p.family !== 4) || (family === 'ip6' && p.family !== 6)) {
      throw invalidValue(`${argument}.address`, address, `must be an ${family === 'ip' ? 'IPv4' : 'IPv6'} address`);
    }
    out.push(immediate(NFT_REG_1, p.bytes));
    data.type = type === 'snat' ? NFT_NAT_SNAT : NFT_NAT_DNAT;
    data.family = p.family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
    data.regAddrMin = NFT_REG_1;
    if (ports) {
      out.push(immediate(NFT_REG_2, be16(ports[0])));
      data.regProtoMin = NFT_REG_2;
      if (ports.length === 2) {
        out.push(immediate(NFT_REG_3, be16(ports[1])));
        data.regProtoMax = NFT_REG_3;
      }
      flagNames.unshift('proto-specified');
    }
    if (flagNames.length) data.flags = flagNames;
    out.push({ name: 'nat', data });
    return out;
  }
  if (address !== undefined) throw invalidValue(`${argument}.address`, address, `cannot go with ${type}`);
  if (ports) {
    out.push(immediate(NFT_REG_1, be16(ports[0])));
    data.regProtoMin = NFT_REG_1;
    if (ports.length === 2) {
      out.push(immediate(NFT_REG_2, be16(ports[1])));
      data.regProtoMax = NFT_REG_2;
    }
    flagNames.unshift('proto-specified');
  }
  if (flagNames.length) data.flags = flagNames;
  out.push({ name: type === 'masquerade' ? 'masq' : 'redir', data });
  return out;
}

// ---- expressions -> rule ---------------------------------------------------

/** How decoding reaches the anonymous sets a rule looks up. */
export interface RuleDecodeContext {
  family: NftFamily | number;
  /** Elements of an anonymous set of this table, or undefined if unknown. */
  anonymousSet(name: string): NftElement[] | undefined;
}

interface Loaded {
  kind: 'meta' | 'payload' | 'ct';
  key?: string;
  base?: number;
  offset?: number;
  len?: number;
  mask?: Buffer;
}

const NOT_TYPED = Symbol('not typed');

function fail(): never {
  throw NOT_TYPED;
}

function dataValue(d: unknown): Buffer {
  const v = (d as { value?: unknown } | undefined)?.value;
  if (!Buffer.isBuffer(v)) fail();
  return v;
}

function prefixLengthOf(mask: Buffer): number {
  let n = 0;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      if (byte & (1 << bit)) n++;
      else return n;
    }
  }
  return n;
}

/** Packs an address and prefix length as the CIDR text the builder takes. */
function cidrText(bytes: Buffer, fullLen: number, prefixLength: number): string {
  const full = Buffer.alloc(fullLen);
  bytes.copy(full, 0, 0, Math.min(bytes.length, fullLen));
  const text = formatIP(full, 0, fullLen);
  return prefixLength === fullLen * 8 ? text : `${text}/${prefixLength}`;
}

/**
 * Turns a rule's expression list back into the typed form, or returns
 * undefined if the list holds anything the typed form cannot say (the
 * caller then shows the raw expressions).
 */
export function decodeRuleExpressions(
  exprs: NftExpression[],
  ctx: RuleDecodeContext,
): (NftRuleBody & { stats?: NftRule['stats'] }) | undefined {
  try {
    return decodeTyped(exprs, ctx);
  } catch (error) {
    if (error === NOT_TYPED) return undefined;
    throw error;
  }
}

function decodeTyped(exprs: NftExpression[], ctx: RuleDecodeContext): NftRuleBody & { stats?: NftRule['stats'] } {
  const rule: NftRuleBody & { stats?: NftRule['stats'] } = {};
  const match: NftMatch = {};
  let reg: Loaded | undefined;
  let l3: 4 | 6 | undefined = ctx.family === 'ip' ? 4 : ctx.family === 'ip6' ? 6 : undefined;
  let impliedL3 = false;
  const immediates = new Map<number, Buffer>();
  const set = <K extends keyof NftMatch>(k: K, v: NftMatch[K]) => {
    if (match[k] !== undefined) fail();
    match[k] = v;
  };
  const field = (): { name: 'saddr' | 'daddr' | 'sport' | 'dport'; len: number } | undefined => {
    if (reg?.kind !== 'payload') return undefined;
    if (reg.base === NFT_PAYLOAD_NETWORK_HEADER && l3 === 4 && reg.len! <= 4) {
      if (reg.offset === 12) return { name: 'saddr', len: 4 };
      if (reg.offset === 16) return { name: 'daddr', len: 4 };
    }
    if (reg.base === NFT_PAYLOAD_NETWORK_HEADER && l3 === 6 && reg.len! <= 16) {
      if (reg.offset === 8) return { name: 'saddr', len: 16 };
      if (reg.offset === 24) return { name: 'daddr', len: 16 };
    }
    if (reg.base === NFT_PAYLOAD_TRANSPORT_HEADER && reg.len === 2 && PORT_PROTOCOLS.has(String(match.l4proto))) {
      if (reg.offset === 0) return { name: 'sport', len: 2 };
      if (reg.offset === 2) return { name: 'dport', len: 2 };
    }
    return undefined;
  };

  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    const d = (e.data ?? {}) as Record<string, unknown>;
    switch (e.name) {
      case 'meta':
        if (d.dreg !== undefined) {
          if (d.dreg !== NFT_REG_1) fail();
          reg = { kind: 'meta', key: d.key as string };
        } else if (d.key === 'mark' && d.sreg !== undefined) {
          const v = immediates.get(d.sreg as number);
          if (!v || v.length !== 4 || rule.setMark !== undefined) fail();
          rule.setMark = v.readUInt32LE(0);
        } else fail();
        break;
      case 'payload':
        if (d.dreg !== NFT_REG_1 || d.sreg !== undefined) fail();
        reg = { kind: 'payload', base: d.base as number, offset: d.offset as number, len: d.len as number };
        break;
      case 'ct':
        if (d.dreg !== NFT_REG_1 || d.key !== 'state' || d.direction !== undefined) fail();
        reg = { kind: 'ct', key: 'state' };
        break;
      case 'bitwise': {
        if (!reg || reg.mask || d.sreg !== NFT_REG_1 || d.dreg !== NFT_REG_1) fail();
        if (d.op !== undefined && d.op !== 'bool') fail();
        const xor = dataValue(d.xor);
        if (xor.some((b) => b !== 0)) fail();
        reg.mask = dataValue(d.mask);
        break;
      }
      case 'cmp': {
        if (!reg || d.sreg !== NFT_REG_1) fail();
        const data = dataValue(d.data);
        const op = d.op as string;
        if (reg.kind === 'ct') {
          if (op !== 'neq' || !reg.mask || reg.mask.length !== 4 || data.some((b) => b !== 0)) fail();
          const mask = reg.mask.readUInt32LE(0);
          const names = Object.entries(CT_STATES)
            .filter(([, bit]) => mask & bit)
            .map(([n]) => n);
          if (names.reduce((acc, n) => acc | CT_STATES[n], 0) !== mask) fail();
          set('ctState', names);
          reg = undefined;
          break;
        }
        if (reg.kind === 'meta') {
          if (reg.mask) fail();
          if (op !== 'eq') fail();
          switch (reg.key) {
            case 'l4-proto':
              if (data.length !== 1) fail();
              set('l4proto', l4protoName(data[0]));
              break;
            case 'nfproto':
              if (data.length !== 1 || (data[0] !== NFPROTO_IPV4 && data[0] !== NFPROTO_IPV6) || l3 !== undefined)
                fail();
              l3 = data[0] === NFPROTO_IPV4 ? 4 : 6;
              impliedL3 = true;
              set('nfproto', l3 === 4 ? 'ipv4' : 'ipv6');
              break;
            case 'protocol': {
              if (data.length !== 2 || l3 !== undefined) fail();
              const proto = data.readUInt16BE(0);
              if (proto !== ETH_P_IP && proto !== ETH_P_IPV6) fail();
              l3 = proto === ETH_P_IP ? 4 : 6;
              impliedL3 = true;
              set('nfproto', l3 === 4 ? 'ipv4' : 'ipv6');
              break;
            }
            case 'iif':
            case 'oif':
            case 'mark':
              if (data.length !== 4) fail();
              set(reg.key, data.readUInt32LE(0));
              break;
            case 'iifname':
            case 'oifname': {
              if (data.length > IFNAMSIZ) fail();
              const nul = data.indexOf(0);
              const name = data.toString('utf8', 0, nul === -1 ? data.length : nul);
              set(reg.key, nul === -1 ? `${name}*` : name);
              break;
            }
            default:
              fail();
          }
          reg = undefined;
          break;
        }
        // payload
        const f = field();
        if (!f) fail();
        if (f.name === 'sport' || f.name === 'dport') {
          if (reg.mask) fail();
          if (op === 'eq') set(f.name, data.readUInt16BE(0));
          else if (op === 'gte') {
            const next = exprs[i + 1];
            const nd = next?.data as Record<string, unknown> | undefined;
            if (next?.name !== 'cmp' || nd?.op !== 'lte' || nd.sreg !== NFT_REG_1) fail();
            set(f.name, { range: [data.readUInt16BE(0), dataValue(nd.data).readUInt16BE(0)] });
            i++;
          } else fail();
        } else {
          if (op !== 'eq' || data.length !== reg.len) fail();
          const prefixLength = reg.mask ? prefixLengthOf(reg.mask) : reg.len! * 8;
          if (reg.mask && !maskBytes(reg.len!, prefixLength).equals(reg.mask)) fail();
          set(f.name, cidrText(data, f.len, prefixLength));
        }
        reg = undefined;
        break;
      }
      case 'range': {
        const f = field();
        if (!f || (f.name !== 'sport' && f.name !== 'dport') || d.op !== 0 || d.sreg !== NFT_REG_1) fail();
        set(f.name, { range: [dataValue(d.fromData).readUInt16BE(0), dataValue(d.toData).readUInt16BE(0)] });
        reg = undefined;
        break;
      }
      case 'lookup': {
        const lookupFlags = d.flags as string[] | number | undefined;
        if (d.sreg !== NFT_REG_1 || d.dreg !== undefined) fail();
        if (lookupFlags !== undefined && lookupFlags !== 0 && !(Array.isArray(lookupFlags) && lookupFlags.length === 0))
          fail();
        const name = d.set as string;
        let target: NftMatch[keyof NftMatch];
        const f = field();
        if (name.startsWith('__set')) {
          const elements = ctx.anonymousSet(name);
          if (!elements) fail();
          target = elements as never;
        } else target = `@${name}` as never;
        if (f && f.len === (reg?.len ?? 0) && !reg?.mask) set(f.name, target as never);
        else fail();
        reg = undefined;
        break;
      }
      case 'counter':
        if (rule.counter !== undefined) fail();
        rule.counter = true;
        rule.stats = { packets: Number(d.packets ?? 0), bytes: Number(d.bytes ?? 0) };
        break;
      case 'objref':
        if (d.immType === NFT_OBJECT_COUNTER && rule.counter === undefined) rule.counter = d.immName as string;
        else if (d.immType === NFT_OBJECT_QUOTA && rule.quota === undefined) rule.quota = d.immName as string;
        else fail();
        break;
      case 'limit': {
        if (rule.limit) fail();
        const per = Object.entries(LIMIT_UNITS).find(([, s]) => s === d.unit)?.[0];
        if (!per || (d.type !== NFT_LIMIT_PKTS && d.type !== NFT_LIMIT_PKT_BYTES)) fail();
        rule.limit = { rate: d.rate as number, per: per as never, burst: d.burst as number };
        if (d.type === NFT_LIMIT_PKT_BYTES) rule.limit.unit = 'bytes';
        if (((d.flags as number) ?? 0) & NFT_LIMIT_F_INV) rule.limit.over = true;
        break;
      }
      case 'log': {
        if (rule.log) fail();
        const log: Record<string, unknown> = {};
        if (d.prefix !== undefined) log.prefix = d.prefix;
        // The kernel reports its default level (warn) even when none was given; nft hides it too.
        if (d.level !== undefined && d.level !== LOG_LEVELS.indexOf('warn'))
          log.level = LOG_LEVELS[d.level as number] ?? fail();
        if (d.group !== undefined) log.group = d.group;
        if (d.snaplen !== undefined) log.snaplen = d.snaplen;
        rule.log = Object.keys(log).length ? log : true;
        break;
      }
      case 'immediate': {
        const dreg = d.dreg as number;
        const data = d.data as { value?: Buffer; verdict?: { code?: unknown; chain?: string } } | undefined;
        if (dreg === NFT_REG_VERDICT) {
          const code = data?.verdict?.code;
          if (typeof code !== 'string' || !VERDICTS.has(code) || rule.verdict !== undefined) fail();
          rule.verdict = code as NftVerdictName;
          if (code === 'jump' || code === 'goto') rule.target = data!.verdict!.chain;
        } else {
          if (!data?.value) fail();
          immediates.set(dreg, data.value);
        }
        break;
      }
      case 'reject': {
        if (rule.verdict !== undefined) fail();
        rule.verdict = 'reject';
        const type = d.type as string;
        const code = d.icmpCode as number;
        if (type === 'tcp-rst') rule.reject = { type: 'tcp-reset' };
        else {
          const kind =
            type === 'icmpx-unreach'
              ? 'icmpx'
              : ctx.family === 'ip6'
                ? 'icmpv6'
                : ctx.family === 'ip'
                  ? 'icmp'
                  : fail();
          const name = Object.entries(REJECT_CODES[kind]).find(([, n]) => n === code)?.[0];
          const defaultKind = ctx.family === 'ip' ? 'icmp' : ctx.family === 'ip6' ? 'icmpv6' : 'icmpx';
          // Only the default (port-unreachable of the family's kind) leaves `reject` out.
          if (!(kind === defaultKind && name === 'port-unreachable')) rule.reject = { type: kind, code: name ?? code };
        }
        break;
      }
      case 'nat':
      case 'masq':
      case 'redir':
        if (rule.nat) fail();
        rule.nat = decodeNat(e.name, d, immediates);
        break;
      default:
        fail();
    }
  }
  if (reg) fail();
  // A protocol check implied by an address match is the builder's own, not the user's.
  if (impliedL3 && (match.saddr !== undefined || match.daddr !== undefined)) {
    const sample = [match.saddr, match.daddr].find((v) => v !== undefined);
    if (!(typeof sample === 'string' && sample.startsWith('@'))) delete match.nfproto;
  }
  if (Object.keys(match).length) rule.match = match;
  return rule;
}

function decodeNat(name: string, d: Record<string, unknown>, immediates: Map<number, Buffer>): NftNat {
  const flags = ((d.flags as string[] | undefined) ?? []).filter((f) => f !== 'map-ips' && f !== 'proto-specified');
  const names = flags.map((f) => Object.entries(NAT_FLAGS).find(([, k]) => k === f)?.[0] ?? fail());
  const reg = (key: string): Buffer | undefined => {
    if (d[key] === undefined) return undefined;
    return immediates.get(d[key] as number) ?? fail();
  };
  const nat: NftNat = {
    type: name === 'masq' ? 'masquerade' : name === 'redir' ? 'redirect' : d.type === NFT_NAT_SNAT ? 'snat' : 'dnat',
  };
  if (name === 'nat') {
    const addr = reg('regAddrMin');
    // The kernel reports a single address as a range of one (max = min).
    if (!addr || (d.regAddrMax !== undefined && d.regAddrMax !== d.regAddrMin)) fail();
    nat.address = formatIP(addr, 0, d.family === NFPROTO_IPV6 ? 16 : 4);
  }
  const pmin = reg('regProtoMin');
  const pmax = d.regProtoMax === d.regProtoMin ? undefined : reg('regProtoMax');
  if (pmin) nat.port = pmax ? [pmin.readUInt16BE(0), pmax.readUInt16BE(0)] : pmin.readUInt16BE(0);
  if (names.length) nat.flags = names;
  return nat;
}
