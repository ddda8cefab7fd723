/**
 * Policy routing rules (`ip rule`): types, request builders, the decoder,
 * and the `rule` API group. Attributes come from the rt-rule schema tables.
 */
import type { NetlinkClient } from './engine/client';
import { dump, request, stream, type RequestOptions } from './engine/requests';
import { invalidType, invalidValue, outOfRange } from './errors';
import { formatIP, parseIP } from './netlink/address';
import { Writer } from './netlink/attributes';
import * as c from './netlink/constants';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  FIB_RULE_IIF_DETACHED,
  FIB_RULE_INVERT,
  FIB_RULE_OIF_DETACHED,
  FIB_RULE_UNRESOLVED,
  FR_ACT_BLACKHOLE,
  FR_ACT_GOTO,
  FR_ACT_NOP,
  FR_ACT_PROHIBIT,
  FR_ACT_TO_TBL,
  FR_ACT_UNREACHABLE,
  FR_ACT_UNSPEC,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_DELRULE,
  RTM_GETRULE,
  RTM_NEWRULE,
  RTNL_FAMILY_IP6MR,
  RTNL_FAMILY_IPMR,
  RT_TABLE_MAIN,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { FamilySchemas } from './netlink/schema';
import { registerDecoder } from './registry';
import { NameTable, protocols, tables } from './rt-names';
import { rtRule } from './specs';
import { validateLinkName, type LinkApi, type LinkRef } from './link';

/** An inclusive range of ports or uids. */
export interface Range {
  start: number;
  end: number;
}

/**
 * A policy routing rule, shaped after one entry of `ip -j -d rule show`.
 * Prefixes are CIDR strings; a rule without `src` matches every source
 * (`ip` prints "from all").
 */
export interface Rule {
  family: 4 | 6;
  /** Set on the multicast routing families' rules (RTNL_FAMILY_IPMR / IP6MR), which `ip mrule` shows. */
  multicast?: true;
  /** Lower runs first; 0 is the local-table rule. */
  priority: number;
  /** Table id (full u32; 0 when the action is not a lookup). Names: see `tables` ('main' is 254). */
  table: number;
  /**
   * 'lookup' (FR_ACT_TO_TBL), 'goto', 'nop', 'blackhole', 'unreachable', 'prohibit', or the number of an
   * action iproute2 has no name for. `ip -j rule` prints the last three as `action`, and the others as
   * `table`, `goto` and `nop`.
   */
  action: string | number;
  /** Source prefix, e.g. '10.0.0.0/8'. */
  src?: string;
  /** Destination prefix. */
  dst?: string;
  /** The selector is negated (`ip rule add not ...`; FIB_RULE_INVERT). */
  invert?: boolean;
  /** Input interface name (FRA_IIFNAME); it need not exist. */
  iif?: string;
  /** Set when the `iif` interface does not exist (FIB_RULE_IIF_DETACHED). */
  iifDetached?: boolean;
  /** Output interface name (FRA_OIFNAME). */
  oif?: string;
  oifDetached?: boolean;
  fwmark?: number;
  /** Mask for `fwmark`; absent when it is 0xffffffff (all bits), the kernel's default with a mark. */
  fwmask?: number;
  /** The TOS byte to match (fib_rule_hdr.tos). */
  tos?: number;
  /** DSCP value, 0-63 (FRA_DSCP, kernel 6.12+). */
  dscp?: number;
  /** Mask for `dscp` (FRA_DSCP_MASK). */
  dscpMask?: number;
  /** Matches sockets owned by these uids (FRA_UID_RANGE). */
  uidRange?: Range;
  /** IP protocol: 'tcp', 'udp', 'icmp', 'ipv6-icmp', ... (as /etc/protocols names them) or a number. */
  ipProto?: string | number;
  sportRange?: Range;
  /** Mask for the source port (FRA_SPORT_MASK; then sportRange.start is the value). */
  sportMask?: number;
  dportRange?: Range;
  dportMask?: number;
  /** Look up the table of the packet's L3 master device (VRF) (FRA_L3MDEV). */
  l3mdev?: boolean;
  /** Priority of the rule to continue at, for action 'goto'. */
  goto?: number;
  /** A 'goto' whose target priority has no rule (FIB_RULE_UNRESOLVED). */
  unresolved?: boolean;
  /** Reject lookup results with a prefix length <= this (`suppress_prefixlength`; FRA_SUPPRESS_PREFIXLEN). */
  suppressPrefixlength?: number;
  /** Reject lookup results through a device of this group (FRA_SUPPRESS_IFGROUP). */
  suppressIfgroup?: number;
  /** Who installed it: 'kernel', 'boot', 'static', ... (FRA_PROTOCOL), as for routes. */
  protocol?: string | number;
  /** Tunnel id to match (FRA_TUN_ID). */
  tunId?: number;
  /** Routing realms (FRA_FLOW): `ip rule add realms from/to`. */
  realms?: { from: number; to: number };
  /** IPv6 flow label and mask (FRA_FLOWLABEL / FRA_FLOWLABEL_MASK, kernel 6.14+). */
  flowlabel?: number;
  flowlabelMask?: number;
}

/**
 * What rule.add/del take: the fields of Rule, where tables, actions,
 * protocols and ip protocols may be names or numbers, interfaces names or
 * indexes, and port ranges a single port. A Rule from list() is accepted
 * as is (fields only the kernel sets are ignored).
 */
export interface RuleSpec {
  /** 4 or 6; inferred from src/dst, else 4. */
  family?: 4 | 6;
  /** Kernel-chosen when omitted on add. */
  priority?: number;
  /** A name ('main', 'local', 'default') or an id up to 2^32-1. add() defaults to 'main' for a lookup. */
  table?: string | number;
  /** Default 'lookup' on add ('goto' when `goto` is given). 'to_tbl' and 'unicast' are read as 'lookup'. */
  action?: string | number;
  /** A prefix '10.0.0.0/8', an address (a host prefix), or 'all'/'default' (no selector). */
  src?: string;
  dst?: string;
  invert?: boolean;
  /** Input interface: a name, or an index resolved to its name. */
  iif?: LinkRef;
  oif?: LinkRef;
  fwmark?: number;
  fwmask?: number;
  tos?: number;
  dscp?: number;
  dscpMask?: number;
  /** A uid range, or one uid. */
  uidRange?: Range | number;
  ipProto?: string | number;
  /** A port range, or one port. */
  sportRange?: Range | number;
  sportMask?: number;
  dportRange?: Range | number;
  dportMask?: number;
  l3mdev?: boolean;
  goto?: number;
  suppressPrefixlength?: number;
  suppressIfgroup?: number;
  protocol?: string | number;
  tunId?: number;
  realms?: { from: number; to: number };
  flowlabel?: number;
  flowlabelMask?: number;
  /** A rule of the multicast routing tables (RTNL_FAMILY_IPMR / IP6MR; `ip mrule`). */
  multicast?: boolean;
  iifDetached?: boolean;
  oifDetached?: boolean;
  unresolved?: boolean;
}

export interface RuleFilter {
  family?: 4 | 6;
  /** A table name or id. */
  table?: string | number;
  priority?: number;
  /** true: the multicast routing rules (`ip mrule`) instead of the unicast ones. */
  multicast?: boolean;
}

export const rtRuleSchemas = new FamilySchemas(rtRule);
const ruleAttrs = () => rtRuleSchemas.attributeSet('fib-rule-attrs');
const FIB_RULE_HDR_LEN = 12;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const DSCP_MAX = 63;

/** fib_rule_hdr.action values by the names `ip` uses for them. */
export const ruleActions = new NameTable(
  'rule action',
  [
    [FR_ACT_UNSPEC, 'unspec'],
    [FR_ACT_TO_TBL, 'lookup'],
    [FR_ACT_GOTO, 'goto'],
    [FR_ACT_NOP, 'nop'],
    [FR_ACT_BLACKHOLE, 'blackhole'],
    [FR_ACT_UNREACHABLE, 'unreachable'],
    [FR_ACT_PROHIBIT, 'prohibit'],
  ],
  255,
);
const ACTION_ALIASES: Record<string, number> = {
  to_tbl: FR_ACT_TO_TBL,
  'to-tbl': FR_ACT_TO_TBL,
  unicast: FR_ACT_TO_TBL,
};

/** IP protocol numbers by the names /etc/protocols (and so `ip`) gives them. */
export const ipProtocols = new NameTable(
  'IP protocol',
  [
    [c.IPPROTO_IP, 'ip'],
    [c.IPPROTO_ICMP, 'icmp'],
    [c.IPPROTO_IGMP, 'igmp'],
    [c.IPPROTO_IPIP, 'ipencap'],
    [c.IPPROTO_TCP, 'tcp'],
    [c.IPPROTO_EGP, 'egp'],
    [c.IPPROTO_PUP, 'pup'],
    [c.IPPROTO_UDP, 'udp'],
    [c.IPPROTO_IDP, 'xns-idp'],
    [c.IPPROTO_TP, 'iso-tp4'],
    [c.IPPROTO_DCCP, 'dccp'],
    [c.IPPROTO_IPV6, 'ipv6'],
    [c.IPPROTO_ROUTING, 'ipv6-route'],
    [c.IPPROTO_FRAGMENT, 'ipv6-frag'],
    [c.IPPROTO_RSVP, 'rsvp'],
    [c.IPPROTO_GRE, 'gre'],
    [c.IPPROTO_ESP, 'esp'],
    [c.IPPROTO_AH, 'ah'],
    [c.IPPROTO_ICMPV6, 'ipv6-icmp'],
    [c.IPPROTO_NONE, 'ipv6-nonxt'],
    [c.IPPROTO_DSTOPTS, 'ipv6-opts'],
    [c.IPPROTO_ENCAP, 'encap'],
    [c.IPPROTO_PIM, 'pim'],
    [c.IPPROTO_COMP, 'ipcomp'],
    [c.IPPROTO_L2TP, 'l2tp'],
    [c.IPPROTO_SCTP, 'sctp'],
    [c.IPPROTO_MH, 'mobility-header'],
    [c.IPPROTO_UDPLITE, 'udplite'],
    [c.IPPROTO_MPLS, 'mpls-in-ip'],
    [c.IPPROTO_ETHERNET, 'ethernet'],
    [c.IPPROTO_RAW, 'raw'],
  ],
  255,
);

const familyNumber = (family: 4 | 6) => (family === 4 ? AF_INET : AF_INET6);

/** Decodes one RTM_NEWRULE/RTM_DELRULE message into a Rule. */
export function decodeRule(buf: Buffer, offset: number, length: number): Rule {
  checkMessage(buf, offset, length, FIB_RULE_HDR_LEN, 'rule');
  const body = offset + NLMSG_HDRLEN;
  const af = buf[body];
  const dstLen = buf[body + 1];
  const srcLen = buf[body + 2];
  const tos = buf[body + 3];
  const action = buf[body + 7];
  const flags = buf.readUInt32LE(body + 8);
  const a = ruleAttrs().decode(buf, body + FIB_RULE_HDR_LEN, offset + length);
  const family = af === AF_INET6 || af === RTNL_FAMILY_IP6MR ? 6 : 4;
  const out: Rule = {
    family,
    priority: (a.priority as number | undefined) ?? 0,
    table: (a.table as number | undefined) ?? buf[body + 4],
    action: ruleActions.name(action),
  };
  if (af === RTNL_FAMILY_IPMR || af === RTNL_FAMILY_IP6MR) out.multicast = true;
  const src = prefixText(a.src, srcLen, family);
  if (src !== undefined) out.src = src;
  const dst = prefixText(a.dst, dstLen, family);
  if (dst !== undefined) out.dst = dst;
  if (flags & FIB_RULE_INVERT) out.invert = true;
  if (a.iifname !== undefined) out.iif = a.iifname as string;
  if (flags & FIB_RULE_IIF_DETACHED) out.iifDetached = true;
  if (a.oifname !== undefined) out.oif = a.oifname as string;
  if (flags & FIB_RULE_OIF_DETACHED) out.oifDetached = true;
  if (a.fwmark !== undefined) out.fwmark = a.fwmark as number;
  // Full masks mean no mask: left out, as `ip` leaves them out, so a rule reads back as it was added.
  if (a.fwmask !== undefined && a.fwmask !== U32_MAX) out.fwmask = a.fwmask as number;
  if (tos !== 0) out.tos = tos;
  if (a.dscp !== undefined) out.dscp = a.dscp as number;
  if (a.dscpMask !== undefined && a.dscpMask !== DSCP_MAX) out.dscpMask = a.dscpMask as number;
  if (a.uidRange !== undefined) out.uidRange = range(a.uidRange);
  if (a.ipProto !== undefined) out.ipProto = ipProtocols.name(a.ipProto as number);
  if (a.sportRange !== undefined) out.sportRange = range(a.sportRange);
  if (a.sportMask !== undefined && a.sportMask !== U16_MAX) out.sportMask = a.sportMask as number;
  if (a.dportRange !== undefined) out.dportRange = range(a.dportRange);
  if (a.dportMask !== undefined && a.dportMask !== U16_MAX) out.dportMask = a.dportMask as number;
  if (a.l3mdev !== undefined) out.l3mdev = (a.l3mdev as number) !== 0;
  if (a.goto !== undefined) out.goto = a.goto as number;
  if (flags & FIB_RULE_UNRESOLVED) out.unresolved = true;
  // The kernel sends these only when set; -1 also means unset (as `ip` treats it).
  if (a.suppressPrefixlen !== undefined && a.suppressPrefixlen !== U32_MAX)
    out.suppressPrefixlength = a.suppressPrefixlen as number;
  if (a.suppressIfgroup !== undefined && a.suppressIfgroup !== U32_MAX)
    out.suppressIfgroup = a.suppressIfgroup as number;
  if (a.protocol !== undefined) out.protocol = protocols.name(a.protocol as number);
  if (a.tunId !== undefined) out.tunId = a.tunId as number;
  if (a.flow !== undefined) {
    const flow = a.flow as number;
    out.realms = { from: flow >>> 16, to: flow & 0xffff };
  }
  if (a.flowlabel !== undefined) out.flowlabel = a.flowlabel as number;
  if (a.flowlabelMask !== undefined) out.flowlabelMask = a.flowlabelMask as number;
  return out;
}

function range(v: unknown): Range {
  const r = v as { start?: number; end?: number };
  return { start: r.start ?? 0, end: r.end ?? 0 };
}

function prefixText(v: unknown, prefixLength: number, family: 4 | 6): string | undefined {
  if (v === undefined) return prefixLength === 0 ? undefined : `${family === 4 ? '0.0.0.0' : '::'}/${prefixLength}`;
  const text = typeof v === 'string' ? v : formatIP(v as Buffer, 0, (v as Buffer).length);
  return `${text}/${prefixLength}`;
}

// Keys of RuleSpec that are read; the kernel-set ones (detached, unresolved) are accepted and ignored.
const SPEC_KEYS = new Set([
  'family',
  'priority',
  'table',
  'action',
  'src',
  'dst',
  'invert',
  'iif',
  'oif',
  'fwmark',
  'fwmask',
  'tos',
  'dscp',
  'dscpMask',
  'uidRange',
  'ipProto',
  'sportRange',
  'sportMask',
  'dportRange',
  'dportMask',
  'l3mdev',
  'goto',
  'suppressPrefixlength',
  'suppressIfgroup',
  'protocol',
  'tunId',
  'realms',
  'flowlabel',
  'flowlabelMask',
  'multicast',
  'iifDetached',
  'oifDetached',
  'unresolved',
]);

function integer(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number') throw invalidType(argument, 'of type number', v);
  if (!Number.isInteger(v) || v < min || v > max) throw outOfRange(argument, `an integer >= ${min} and <= ${max}`, v);
  return v;
}

function rangeArgument(v: unknown, argument: string, max: number): Range {
  if (typeof v === 'number') {
    const n = integer(v, argument, 0, max);
    return { start: n, end: n };
  }
  if (typeof v !== 'object' || v === null) throw invalidType(argument, 'a number or { start, end }', v);
  const { start, end } = v as { start?: unknown; end?: unknown };
  const s = integer(start, `${argument}.start`, 0, max);
  const e = integer(end ?? start, `${argument}.end`, 0, max);
  if (e < s) throw outOfRange(`${argument}.end`, `>= start (${s})`, e);
  return { start: s, end: e };
}

interface ParsedSelector {
  family: 4 | 6;
  bytes: Buffer;
  prefixLength: number;
}

/** A rule selector: a prefix, an address (host prefix), or 'all'/'default' (none). */
function selectorArgument(v: unknown, argument: string): ParsedSelector | undefined {
  if (typeof v !== 'string') throw invalidType(argument, "a CIDR string like '10.0.0.0/8'", v);
  if (v === 'all' || v === 'default') return undefined;
  const slash = v.indexOf('/');
  const ip = parseIP(slash === -1 ? v : v.slice(0, slash));
  if (!ip) throw invalidValue(argument, v, "must be an IPv4 or IPv6 prefix like '10.0.0.0/8'");
  const max = ip.family === 4 ? 32 : 128;
  if (slash === -1) return { ...ip, prefixLength: max };
  const lenText = v.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw invalidValue(argument, v, 'must have a decimal prefix length');
  const prefixLength = Number(lenText);
  if (prefixLength > max) throw outOfRange(argument, `a prefix length <= ${max} for IPv${ip.family}`, v);
  return { ...ip, prefixLength };
}

function actionArgument(v: unknown): number {
  if (typeof v === 'string' && ACTION_ALIASES[v] !== undefined) return ACTION_ALIASES[v];
  return ruleActions.value(v, 'spec.action');
}

/** What buildRuleMessage needs after link names are resolved. */
export type ResolvedRuleSpec = Omit<RuleSpec, 'iif' | 'oif'> & { iif?: string; oif?: string };

/**
 * Builds RTM_NEWRULE / RTM_DELRULE. For a new rule the action defaults to
 * 'lookup' (or 'goto') and the table of a lookup to main, as `ip rule add`
 * does; a deletion sends only what the spec gives, and the kernel removes
 * the first rule that matches it.
 */
export function buildRuleMessage(type: number, flags: number, spec: ResolvedRuleSpec): Buffer {
  if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key) && (spec as Record<string, unknown>)[key] !== undefined)
      throw invalidValue(`spec.${key}`, (spec as Record<string, unknown>)[key], 'is not a rule option');
  }
  if (spec.family !== undefined && spec.family !== 4 && spec.family !== 6)
    throw invalidValue('spec.family', spec.family, 'must be 4 or 6');
  const src = spec.src === undefined ? undefined : selectorArgument(spec.src, 'spec.src');
  const dst = spec.dst === undefined ? undefined : selectorArgument(spec.dst, 'spec.dst');
  const family = spec.family ?? src?.family ?? dst?.family ?? 4;
  for (const [name, p] of [
    ['spec.src', src],
    ['spec.dst', dst],
  ] as const) {
    if (p && p.family !== family)
      throw invalidValue(name, spec[name === 'spec.src' ? 'src' : 'dst'], `must be an IPv${family} prefix`);
  }
  const isNew = type === RTM_NEWRULE;
  const attrs: Record<string, unknown> = {};
  const action =
    spec.action !== undefined
      ? actionArgument(spec.action)
      : spec.goto !== undefined
        ? FR_ACT_GOTO
        : isNew
          ? FR_ACT_TO_TBL
          : FR_ACT_UNSPEC;
  if (spec.goto !== undefined) {
    attrs.goto = integer(spec.goto, 'spec.goto', 0, U32_MAX);
    if (action !== FR_ACT_GOTO) throw invalidValue('spec.goto', spec.goto, "applies to action 'goto' only");
  } else if (action === FR_ACT_GOTO && isNew) {
    throw invalidValue('spec.action', spec.action, 'needs spec.goto, the priority to continue at');
  }
  let table = spec.table === undefined ? undefined : tables.value(spec.table, 'spec.table');
  if (table === 0 && action !== FR_ACT_TO_TBL) table = undefined; // what list() reports for non-lookups
  if (isNew && table === undefined && action === FR_ACT_TO_TBL && !spec.l3mdev) table = RT_TABLE_MAIN;
  if (table !== undefined && action !== FR_ACT_TO_TBL && action !== FR_ACT_UNSPEC)
    throw invalidValue('spec.table', spec.table, "applies to action 'lookup' only");
  // The header's table is 8 bits; larger ids travel in FRA_TABLE alone, as iproute2 sends them.
  if (table !== undefined && table >= 256) attrs.table = table;
  if (spec.priority !== undefined) attrs.priority = integer(spec.priority, 'spec.priority', 0, U32_MAX);
  if (src) attrs.src = src.bytes;
  if (dst) attrs.dst = dst.bytes;
  if (spec.iif !== undefined) {
    validateLinkName(spec.iif, 'spec.iif');
    attrs.iifname = spec.iif;
  }
  if (spec.oif !== undefined) {
    validateLinkName(spec.oif, 'spec.oif');
    attrs.oifname = spec.oif;
  }
  if (spec.fwmark !== undefined) attrs.fwmark = integer(spec.fwmark, 'spec.fwmark', 0, U32_MAX);
  if (spec.fwmask !== undefined) attrs.fwmask = integer(spec.fwmask, 'spec.fwmask', 0, U32_MAX);
  const tos = spec.tos === undefined ? 0 : integer(spec.tos, 'spec.tos', 0, 255);
  if (spec.dscp !== undefined) attrs.dscp = integer(spec.dscp, 'spec.dscp', 0, DSCP_MAX);
  if (spec.dscpMask !== undefined) attrs.dscpMask = integer(spec.dscpMask, 'spec.dscpMask', 0, DSCP_MAX);
  if (spec.uidRange !== undefined) attrs.uidRange = rangeArgument(spec.uidRange, 'spec.uidRange', U32_MAX);
  if (spec.ipProto !== undefined) attrs.ipProto = ipProtocols.value(spec.ipProto, 'spec.ipProto');
  if (spec.sportRange !== undefined) attrs.sportRange = rangeArgument(spec.sportRange, 'spec.sportRange', U16_MAX);
  if (spec.sportMask !== undefined) attrs.sportMask = integer(spec.sportMask, 'spec.sportMask', 0, U16_MAX);
  if (spec.dportRange !== undefined) attrs.dportRange = rangeArgument(spec.dportRange, 'spec.dportRange', U16_MAX);
  if (spec.dportMask !== undefined) attrs.dportMask = integer(spec.dportMask, 'spec.dportMask', 0, U16_MAX);
  if (spec.l3mdev !== undefined) {
    if (typeof spec.l3mdev !== 'boolean') throw invalidType('spec.l3mdev', 'a boolean', spec.l3mdev);
    if (spec.l3mdev) attrs.l3mdev = 1;
  }
  if (spec.suppressPrefixlength !== undefined) {
    attrs.suppressPrefixlen = integer(
      spec.suppressPrefixlength,
      'spec.suppressPrefixlength',
      0,
      family === 4 ? 32 : 128,
    );
  }
  if (spec.suppressIfgroup !== undefined)
    attrs.suppressIfgroup = integer(spec.suppressIfgroup, 'spec.suppressIfgroup', 0, U32_MAX - 1);
  if (spec.protocol !== undefined) attrs.protocol = protocols.value(spec.protocol, 'spec.protocol');
  if (spec.tunId !== undefined) attrs.tunId = integer(spec.tunId, 'spec.tunId', 0, Number.MAX_SAFE_INTEGER);
  if (spec.realms !== undefined) {
    if (typeof spec.realms !== 'object' || spec.realms === null)
      throw invalidType('spec.realms', 'an object { from, to }', spec.realms);
    const from = integer(spec.realms.from ?? 0, 'spec.realms.from', 0, U16_MAX);
    const to = integer(spec.realms.to ?? 0, 'spec.realms.to', 0, U16_MAX);
    attrs.flow = ((from << 16) | to) >>> 0;
  }
  if (spec.flowlabel !== undefined) attrs.flowlabel = integer(spec.flowlabel, 'spec.flowlabel', 0, 0xfffff);
  if (spec.flowlabelMask !== undefined)
    attrs.flowlabelMask = integer(spec.flowlabelMask, 'spec.flowlabelMask', 0, 0xfffff);
  if ((spec.flowlabel !== undefined || spec.flowlabelMask !== undefined) && family !== 6)
    throw invalidValue('spec.flowlabel', spec.flowlabel ?? spec.flowlabelMask, 'applies to IPv6 rules only');
  if (spec.multicast !== undefined && typeof spec.multicast !== 'boolean')
    throw invalidType('spec.multicast', 'a boolean', spec.multicast);
  if (spec.invert !== undefined && typeof spec.invert !== 'boolean')
    throw invalidType('spec.invert', 'a boolean', spec.invert);

  const w = new Writer(128);
  const start = beginMessage(w, type, flags);
  w.u8(spec.multicast ? (family === 4 ? RTNL_FAMILY_IPMR : RTNL_FAMILY_IP6MR) : familyNumber(family));
  w.u8(dst?.prefixLength ?? 0);
  w.u8(src?.prefixLength ?? 0);
  w.u8(tos);
  w.u8(table !== undefined && table < 256 ? table : 0);
  w.u8(0);
  w.u8(0);
  w.u8(action);
  w.u32(spec.invert ? FIB_RULE_INVERT : 0);
  ruleAttrs().encode(w, attrs);
  finishMessage(w, start);
  return w.view();
}

export interface RuleContext {
  route(): NetlinkClient;
  readonly link: LinkApi;
}

/**
 * The `rule` group: policy routing rules, like `ip rule`.
 * Every namespace starts with the rules at priorities 0 (local), 32766
 * (main) and 32767 (default, IPv4 only); list() returns them too.
 *
 * @example
 * await h.rule.add({ priority: 100, src: '10.1.0.0/16', table: 100 })
 * const rules = await h.rule.list({ family: 4 })
 */
export class RuleApi {
  constructor(private readonly ctx: () => RuleContext) {}

  /**
   * Adds a rule. An identical rule already there: code 'EEXIST'.
   *
   * @example
   * await nl.rule.add({ priority: 1000, fwmark: 0x10, fwmask: 0xff, table: 'main', suppressPrefixlength: 0 })
   */
  async add(spec: RuleSpec, req: RequestOptions = {}): Promise<void> {
    const message = buildRuleMessage(
      RTM_NEWRULE,
      NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      await this.resolve(spec),
    );
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_NEWRULE' });
  }

  /**
   * Removes the first rule matching every field the spec gives (a Rule
   * from list() names exactly itself). None matches: code 'ENOENT'.
   *
   * @example
   * await nl.rule.del({ priority: 1000 })
   */
  async del(spec: RuleSpec, req: RequestOptions = {}): Promise<void> {
    const message = buildRuleMessage(RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK, await this.resolve(spec));
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_DELRULE' });
  }

  /**
   * Rules of both families (or one), in the kernel's order: by family, then priority.
   *
   * @example
   * for (const r of await nl.rule.list({ table: 'main' })) console.log(r.priority, r.src ?? 'all')
   */
  async list(filter: RuleFilter = {}, req: RequestOptions = {}): Promise<Rule[]> {
    const { message, accept } = dumpRequest(filter);
    return dump(this.ctx().route(), message, (b, o, l) => keep(b, o, l, accept), {
      ...req,
      operation: 'RTM_GETRULE',
    });
  }

  /**
   * list() as an async iterable, decoded as datagrams arrive.
   *
   * @example
   * for await (const r of h.rule.stream({ family: 6 })) console.log(r.priority)
   */
  async *stream(filter: RuleFilter = {}, req: RequestOptions = {}): AsyncIterable<Rule> {
    const { message, accept } = dumpRequest(filter);
    yield* stream(this.ctx().route(), message, (b, o, l) => keep(b, o, l, accept), {
      ...req,
      operation: 'RTM_GETRULE',
    });
  }

  private async resolve(spec: RuleSpec): Promise<ResolvedRuleSpec> {
    if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
    const out = { ...spec } as ResolvedRuleSpec;
    // Rules match interfaces by name: an index is looked up once, here.
    if (typeof spec.iif === 'number') out.iif = (await this.ctx().link.get(spec.iif)).name;
    if (typeof spec.oif === 'number') out.oif = (await this.ctx().link.get(spec.oif)).name;
    return out;
  }
}

function dumpRequest(filter: RuleFilter): { message: Buffer; accept: (r: Rule) => boolean } {
  if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
  if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6)
    throw invalidValue('filter.family', filter.family, 'must be 4 or 6');
  const table = filter.table === undefined ? undefined : tables.value(filter.table, 'filter.table');
  const priority = filter.priority === undefined ? undefined : integer(filter.priority, 'filter.priority', 0, U32_MAX);
  const w = new Writer(32);
  const start = beginMessage(w, RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP);
  // Strict checking wants a zeroed fib_rule_hdr and no attributes: the rest is filtered here.
  w.u8(filter.family === undefined ? AF_UNSPEC : familyNumber(filter.family));
  w.zeros(FIB_RULE_HDR_LEN - 1);
  finishMessage(w, start);
  const accept = (r: Rule) =>
    (r.multicast === true) === (filter.multicast === true) &&
    (filter.family === undefined || r.family === filter.family) &&
    (table === undefined || r.table === table) &&
    (priority === undefined || r.priority === priority);
  return { message: w.view(), accept };
}

function keep(buf: Buffer, offset: number, length: number, accept: (r: Rule) => boolean): Rule | undefined {
  const r = decodeRule(buf, offset, length);
  return accept(r) ? r : undefined;
}

registerDecoder(NETLINK_ROUTE, RTM_NEWRULE, { object: 'rule', event: 'new', decode: decodeRule });
registerDecoder(NETLINK_ROUTE, RTM_DELRULE, { object: 'rule', event: 'del', decode: decodeRule });
