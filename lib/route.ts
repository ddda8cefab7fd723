/**
 * Routes (IPv4 and IPv6): types, request builders, the decoder, and the
 * `route` API group. The attribute numbers come from the rt-route schema
 * tables; the hot decode path walks the attributes itself, because a
 * routing table can hold a million entries and every object counts.
 */
import type { NetlinkClient } from './engine/client';
import type { NeedsNames } from './batch';
import { deferredStream, dump, request, stream, type RequestOptions } from './engine/requests';
import { DecodeError, invalidType, invalidValue, outOfRange } from './errors';
import { FamilySchemas } from './netlink/schema';
import {
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  Writer,
  align4,
  attrU8,
  attrU16,
  attrU32,
  forEachAttribute,
} from './netlink/attributes';
import { formatHex, formatIP, formatIPv6, parseIP, parseIPv4Value } from './netlink/address';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  ALTIFNAMSIZ,
  HZ,
  ICMPV6_ROUTER_PREF_HIGH,
  ICMPV6_ROUTER_PREF_LOW,
  ICMPV6_ROUTER_PREF_MEDIUM,
  IPV6_SRCRT_TYPE_4,
  LWTUNNEL_ENCAP_BPF,
  LWTUNNEL_ENCAP_ILA,
  LWTUNNEL_ENCAP_IOAM6,
  LWTUNNEL_ENCAP_IP,
  LWTUNNEL_ENCAP_IP6,
  LWTUNNEL_ENCAP_MPLS,
  LWTUNNEL_ENCAP_NONE,
  LWTUNNEL_ENCAP_RPL,
  LWTUNNEL_ENCAP_SEG6,
  LWTUNNEL_ENCAP_SEG6_LOCAL,
  LWTUNNEL_ENCAP_XFRM,
  MPLS_IPTUNNEL_DST,
  MPLS_IPTUNNEL_TTL,
  MPLS_LS_LABEL_SHIFT,
  MPLS_LS_S_SHIFT,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  RTA_DST,
  RTA_ENCAP,
  RTA_ENCAP_TYPE,
  RTA_GATEWAY,
  RTA_IIF,
  RTA_MARK,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_NH_ID,
  RTA_OIF,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTA_UID,
  RTA_VIA,
  RTA_CACHEINFO,
  RTM_DELROUTE,
  RTM_F_CLONED,
  RTM_F_FIB_MATCH,
  RTM_F_LOOKUP_TABLE,
  RTM_F_NOTIFY,
  RTM_F_OFFLOAD,
  RTM_F_OFFLOAD_FAILED,
  RTM_F_TRAP,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTN_ANYCAST,
  RTN_BROADCAST,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_NAT,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTNH_F_DEAD,
  RTNH_F_LINKDOWN,
  RTNH_F_OFFLOAD,
  RTNH_F_ONLINK,
  RTNH_F_PERVASIVE,
  RTNH_F_TRAP,
  RTNH_F_UNRESOLVED,
  RTPROT_BOOT,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_COMPAT,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
  SEG6_HMAC_FIELD_LEN,
  SEG6_IPTUNNEL_SRH,
  SEG6_IPTUN_MODE_ENCAP,
  SEG6_IPTUN_MODE_ENCAP_RED,
  SEG6_IPTUN_MODE_INLINE,
  SEG6_IPTUN_MODE_L2ENCAP,
  SEG6_IPTUN_MODE_L2ENCAP_RED,
  SR6_FLAG1_HMAC,
  SR6_TLV_HMAC,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { registerDecoder } from './registry';
import { NameTable, protocols, routeTypes, scopes, tables } from './rt-names';
import { validateLinkName, type LinkApi, type LinkRef } from './link';
import type { MonitorGroup } from './monitor';
import { waitUntil, type WaitContext, type WaitOptions } from './wait';
import { rtRoute } from './specs';

/** rtm_type as `ip` prints it; a type iproute2 has no name for is a number. */
export type RouteType =
  | 'unicast'
  | 'local'
  | 'broadcast'
  | 'anycast'
  | 'multicast'
  | 'blackhole'
  | 'unreachable'
  | 'prohibit'
  | 'throw'
  | 'nat'
  | 'xresolve'
  | 'none';

/**
 * Route metrics (RTA_METRICS), named by the camelCase of the kernel's
 * RTAX_* names and in the kernel's units, which are not always `ip`'s:
 * `rtt` is in 1/8 ms and `rttvar` in 1/4 ms (`ip ... rtt 10ms` stores 80),
 * `rtoMin` in ms. `ccAlgo` is `ip`'s congctl; `features` a mask of
 * RTAX_FEATURE_* bits (1 is ecn).
 */
export interface RouteMetrics {
  /** Metrics the kernel must not change on its own (`ip ... mtu lock 1400`). */
  lock?: string[];
  mtu?: number;
  window?: number;
  rtt?: number;
  rttvar?: number;
  ssthresh?: number;
  cwnd?: number;
  advmss?: number;
  reordering?: number;
  hoplimit?: number;
  initcwnd?: number;
  features?: number;
  rtoMin?: number;
  initrwnd?: number;
  quickack?: number;
  ccAlgo?: string;
  fastopenNoCookie?: number;
}

/** MPLS label push (LWTUNNEL_ENCAP_MPLS): `ip route add ... encap mpls 100/200`. */
export interface MplsEncap {
  type: 'mpls';
  /** Label stack, outermost first; each 0-1048575. */
  labels: number[];
  /** TTL of the pushed labels (MPLS_IPTUNNEL_TTL); the kernel's default when absent. */
  ttl?: number;
}

/** SRv6 (LWTUNNEL_ENCAP_SEG6): `ip route add ... encap seg6 mode encap segs A,B`. */
export interface Seg6Encap {
  type: 'seg6';
  mode: 'inline' | 'encap' | 'l2encap' | 'encap.red' | 'l2encap.red';
  /**
   * IPv6 segments in travel order (the first is visited first), as given to
   * `ip ... segs`. Inline mode also reserves a last, all-zero entry for the
   * packet's own destination (`ip` shows it as '::'); it is not listed here.
   */
  segments: string[];
  /** HMAC key id: adds an HMAC TLV (`ip ... hmac ID`). */
  hmac?: number;
}

/** Any other encapsulation, kept as the raw payload of RTA_ENCAP (hex). */
export interface RawEncap {
  /** 'ip', 'ip6', 'ila', 'bpf', 'seg6local', 'rpl', 'ioam6', 'xfrm', or a number. */
  type: string | number;
  /** The nested attributes of RTA_ENCAP as hex. */
  data: string;
}

/** Lightweight-tunnel encapsulation of a route or of one multipath hop. */
export type RouteEncap = MplsEncap | Seg6Encap | RawEncap;

/** One hop of a multipath route (RTA_MULTIPATH), as `ip -j` lists `nexthops`. */
export interface RouteNexthop {
  /** A gateway of the other family (IPv6 gateway of an IPv4 route) travels as RTA_VIA. */
  gateway?: string;
  /** ifindex. */
  dev?: number;
  /** 1-256. */
  weight: number;
  /** 'onlink', 'dead', 'linkdown', 'pervasive', 'offload', 'trap', 'unresolved'. */
  flags: string[];
  encap?: RouteEncap;
}

/** A route, shaped like one entry of `ip -j -d route show table all`. */
export interface Route {
  family: 4 | 6;
  /** 'default' or a CIDR prefix; host routes too carry their length ('10.0.0.1/32'). */
  dst: string;
  /** Source prefix (IPv6 `from`), when the route has one. */
  src?: string;
  /** Full 32-bit table id: 254 main, 255 local. */
  table: number;
  type: RouteType | number;
  protocol: string | number;
  scope: string | number;
  /** rtm_tos, when not 0. */
  tos?: number;
  /** Same family: RTA_GATEWAY; the other family (IPv6 next hop of an IPv4 route): RTA_VIA. */
  gateway?: string;
  /** Output interface index (RTA_OIF). Map to names with one `link.list()`, not a lookup per route. */
  dev?: number;
  /** Preferred source address (`ip ... src`). */
  prefSrc?: string;
  /** The metric (`ip ... metric`). */
  priority?: number;
  metrics?: RouteMetrics;
  /** Hops of a multipath route. */
  nexthops?: RouteNexthop[];
  /** A nexthop object the route uses (`ip route add ... nhid N`). */
  nhid?: number;
  /** 'onlink', 'linkdown', 'dead', 'offload', 'trap', 'notify', ... as `ip` names rtm_flags. */
  flags: string[];
  encap?: RouteEncap;
  /** Seconds until an expiring (IPv6) route goes, as `ip` prints it. */
  expires?: number;
  /** IPv6 router preference: 'low', 'medium' or 'high'. */
  pref?: 'low' | 'medium' | 'high' | number;
  /** route.get only: the input interface index of the lookup. */
  iif?: number;
  /** route.get only: the firewall mark of the lookup. */
  mark?: number;
  /** route.get only: the uid of the lookup. */
  uid?: number;
}

/** A hop of a multipath route to add. */
export interface RouteNexthopSpec {
  gateway?: string;
  dev?: LinkRef;
  /** 1-256; default 1. */
  weight?: number;
  /** Use the gateway even if no route says it is on the link (`ip ... onlink`). */
  onlink?: boolean;
  /** 'onlink' (like `onlink: true`); status flags the kernel reports are ignored, so a listed hop can be passed back. */
  flags?: string[];
  encap?: RouteEncap;
}

/**
 * A route to add, replace or delete. A Route from list() is accepted as
 * is, so `route.del(r)` removes exactly that route.
 */
export interface RouteSpec {
  /** 'default', a CIDR prefix, or an address (a host route). */
  dst: string;
  /** Needed only when nothing else tells the family (a bare 'default'; IPv4 routes via an IPv6 gateway). */
  family?: 4 | 6;
  /** Source prefix (IPv6 `from`). */
  src?: string;
  /** 'main' (default; 'local' for local, broadcast, anycast and nat routes), 'local', 'default' or 1-4294967295. */
  table?: string | number;
  /** Default 'unicast'. */
  type?: RouteType | number;
  /** Default 'boot', as `ip route add`. */
  protocol?: string | number;
  /** Default as `ip` picks it: host for local/nat, link for broadcast/multicast/anycast and gatewayless unicast, else global. */
  scope?: string | number;
  tos?: number;
  /** The metric, 0-4294967295. */
  priority?: number;
  prefSrc?: string;
  /** Next hop; of the other family (IPv6 gateway for an IPv4 route) it is sent as RTA_VIA. */
  gateway?: string;
  dev?: LinkRef;
  onlink?: boolean;
  /** 'onlink' sets it; the status flags list() reports are ignored. */
  flags?: string[];
  metrics?: RouteMetrics;
  /** Multipath hops (`ip route add ... nexthop via A weight 2 nexthop via B`). */
  nexthops?: RouteNexthopSpec[];
  /** Use a nexthop object (`ip nexthop add id N ...`); excludes gateway, dev and nexthops. */
  nhid?: number;
  encap?: RouteEncap;
  /** Lifetime in seconds (IPv6; IPv4 ignores it). */
  expires?: number;
  /** IPv6 router preference (or its RTA_PREF number). */
  pref?: 'low' | 'medium' | 'high' | number;
}

/** What route.list() keeps. Table, type, protocol and dev are filtered by the kernel when strict checking is on. */
export interface RouteFilter {
  family?: 4 | 6;
  /** Omit for every table (like `ip route show table all`). */
  table?: string | number;
  type?: RouteType | number;
  protocol?: string | number;
  /** Routes through this interface, also as one hop of a multipath route. */
  dev?: LinkRef;
  /** Exactly this prefix ('10.0.0.0/24', 'default'), like `ip route show 10.0.0.0/24`. */
  dst?: string;
}

/** The lookup route.get() asks the kernel for, like `ip route get`. */
export interface RouteGetOptions {
  /** Source address of the packet (`from`). */
  src?: string;
  /** Pretend the packet arrived on this interface (`iif`). */
  iif?: LinkRef;
  /** Force the output interface (`oif`). */
  oif?: LinkRef;
  /** Firewall mark, for rules with fwmark. */
  mark?: number;
  /** uid, for rules with uidrange. */
  uid?: number;
  /** Return the FIB entry that matched instead of the resolved route (`fibmatch`). */
  fibmatch?: boolean;
  /** IPv4 TOS / DSCP byte (`tos`). */
  tos?: number;
  /** IP protocol number (6 tcp, 17 udp), for rules with ipproto. */
  ipProto?: number;
  sport?: number;
  dport?: number;
}

export const rtRouteSchemas = new FamilySchemas(rtRoute);
const routeAttrs = () => rtRouteSchemas.attributeSet('route-attrs');
const metricAttrs = () => rtRouteSchemas.attributeSet('metrics');
const RTMSG_LEN = 12;
const RTNH_LEN = 8;
const U32_MAX = 0xffffffff;

/** LWTUNNEL_ENCAP_* by iproute2's names. */
export const encapTypes = new NameTable(
  'encapsulation type',
  [
    [LWTUNNEL_ENCAP_NONE, 'none'],
    [LWTUNNEL_ENCAP_MPLS, 'mpls'],
    [LWTUNNEL_ENCAP_IP, 'ip'],
    [LWTUNNEL_ENCAP_ILA, 'ila'],
    [LWTUNNEL_ENCAP_IP6, 'ip6'],
    [LWTUNNEL_ENCAP_SEG6, 'seg6'],
    [LWTUNNEL_ENCAP_BPF, 'bpf'],
    [LWTUNNEL_ENCAP_SEG6_LOCAL, 'seg6local'],
    [LWTUNNEL_ENCAP_RPL, 'rpl'],
    [LWTUNNEL_ENCAP_IOAM6, 'ioam6'],
    [LWTUNNEL_ENCAP_XFRM, 'xfrm'],
  ],
  0xffff,
);

const seg6Modes = new NameTable(
  'seg6 mode',
  [
    [SEG6_IPTUN_MODE_INLINE, 'inline'],
    [SEG6_IPTUN_MODE_ENCAP, 'encap'],
    [SEG6_IPTUN_MODE_L2ENCAP, 'l2encap'],
    [SEG6_IPTUN_MODE_ENCAP_RED, 'encap.red'],
    [SEG6_IPTUN_MODE_L2ENCAP_RED, 'l2encap.red'],
  ],
  0x7fffffff,
);

const routerPrefs = new NameTable(
  'router preference',
  [
    [ICMPV6_ROUTER_PREF_LOW, 'low'],
    [ICMPV6_ROUTER_PREF_MEDIUM, 'medium'],
    [ICMPV6_ROUTER_PREF_HIGH, 'high'],
  ],
  255,
);

// iproute2's names for rtm_flags / rtnh_flags bits, in the order it prints them.
const FLAG_NAMES: [number, string][] = [
  [RTNH_F_DEAD, 'dead'],
  [RTNH_F_ONLINK, 'onlink'],
  [RTNH_F_PERVASIVE, 'pervasive'],
  [RTNH_F_OFFLOAD, 'offload'],
  [RTNH_F_TRAP, 'trap'],
  [RTM_F_NOTIFY, 'notify'],
  [RTNH_F_LINKDOWN, 'linkdown'],
  [RTNH_F_UNRESOLVED, 'unresolved'],
  [RTM_F_OFFLOAD, 'rt_offload'],
  [RTM_F_TRAP, 'rt_trap'],
  [RTM_F_OFFLOAD_FAILED, 'rt_offload_failed'],
];
const KNOWN_FLAGS = new Set(FLAG_NAMES.map(([, n]) => n));

function flagNames(flags: number): string[] {
  if (flags === 0) return [];
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) out.push(name);
  return out;
}

// ---------------------------------------------------------------- decoding

function decodeVia(buf: Buffer, off: number, len: number): string {
  // struct rtvia: a u16 address family, then the address.
  return formatIP(buf, off + 2, len - 2);
}

/** RTAX_* names by number, and back, from the schema table. */
let metricNames: Map<number, string> | undefined;
function metricName(type: number): string | undefined {
  metricNames ??= new Map([...metricAttrs().byValue].map(([v, c]) => [v, c.def.name]));
  return metricNames.get(type);
}

function decodeMetrics(buf: Buffer, off: number, len: number): RouteMetrics {
  const m = metricAttrs().decode(buf, off, off + len) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'lock') {
      const mask = v as number;
      const names: string[] = [];
      for (let bit = 1; bit < 32; bit++) if (mask & (1 << bit)) names.push(metricName(bit) ?? String(bit));
      if (names.length > 0) out.lock = names;
    } else if (k !== 'unknownAttributes') out[k] = v;
  }
  return out as RouteMetrics;
}

function decodeMpls(buf: Buffer, off: number, len: number): MplsEncap {
  const out: MplsEncap = { type: 'mpls', labels: [] };
  forEachAttribute(buf, off, off + len, (t, _f, o, l) => {
    if (t === MPLS_IPTUNNEL_DST) {
      for (let i = 0; i + 4 <= l; i += 4) out.labels.push(buf.readUInt32BE(o + i) >>> MPLS_LS_LABEL_SHIFT);
    } else if (t === MPLS_IPTUNNEL_TTL) out.ttl = attrU8(buf, o, l);
  });
  return out;
}

function decodeSeg6(buf: Buffer, off: number, len: number): Seg6Encap | undefined {
  let out: Seg6Encap | undefined;
  forEachAttribute(buf, off, off + len, (t, _f, o, l) => {
    if (t !== SEG6_IPTUNNEL_SRH || l < 4 + 8) return;
    // struct seg6_iptunnel_encap: int mode, then struct ipv6_sr_hdr.
    const mode = buf.readInt32LE(o);
    const srh = o + 4;
    const srhLen = Math.min((buf[srh + 1] + 1) * 8, l - 4);
    const last = buf[srh + 4];
    const segments: string[] = [];
    // The header stores segments last-first; list them in travel order.
    for (let i = last; i >= 0; i--) {
      const at = srh + 8 + 16 * i;
      if (at + 16 <= srh + srhLen) segments.push(formatIPv6(buf, at));
    }
    // Inline mode keeps the last entry free for the packet's own destination (see encodeEncap).
    if (mode === SEG6_IPTUN_MODE_INLINE && segments.length > 1 && segments[segments.length - 1] === '::') {
      segments.pop();
    }
    out = { type: 'seg6', mode: seg6Modes.name(mode) as Seg6Encap['mode'], segments };
    if (buf[srh + 5] & SR6_FLAG1_HMAC) {
      // TLVs follow the segments; the HMAC TLV holds 2 reserved bytes, then the key id.
      for (let p = srh + 8 + 16 * (last + 1); p + 2 <= srh + srhLen; p += 2 + buf[p + 1]) {
        if (buf[p] === SR6_TLV_HMAC && p + 8 <= srh + srhLen) out.hmac = buf.readUInt32BE(p + 4);
      }
    }
  });
  return out;
}

function decodeEncap(type: number, buf: Buffer, off: number, len: number): RouteEncap {
  if (type === LWTUNNEL_ENCAP_MPLS) return decodeMpls(buf, off, len);
  if (type === LWTUNNEL_ENCAP_SEG6) {
    const seg6 = decodeSeg6(buf, off, len);
    if (seg6) return seg6;
  }
  return { type: encapTypes.name(type), data: formatHex(buf, off, len) };
}

function decodeMultipath(buf: Buffer, off: number, len: number): RouteNexthop[] {
  const hops: RouteNexthop[] = [];
  const end = off + len;
  for (let p = off; p + RTNH_LEN <= end;) {
    const hopLen = buf.readUInt16LE(p);
    if (hopLen < RTNH_LEN || p + hopLen > end) break;
    const hop: RouteNexthop = { weight: buf[p + 3] + 1, flags: flagNames(buf[p + 2]) };
    const ifindex = buf.readInt32LE(p + 4);
    if (ifindex > 0) hop.dev = ifindex;
    let encapAt = -1;
    let encapLen = 0;
    let encapType = -1;
    forEachAttribute(buf, p + RTNH_LEN, p + hopLen, (t, _f, o, l) => {
      if (t === RTA_GATEWAY) hop.gateway = formatIP(buf, o, l);
      else if (t === RTA_VIA) hop.gateway = decodeVia(buf, o, l);
      else if (t === RTA_ENCAP) {
        encapAt = o;
        encapLen = l;
      } else if (t === RTA_ENCAP_TYPE) encapType = attrU16(buf, o, l);
    });
    if (encapAt >= 0 && encapType >= 0) hop.encap = decodeEncap(encapType, buf, encapAt, encapLen);
    hops.push(hop);
    p += align4(hopLen);
  }
  return hops;
}

/**
 * Decodes one RTM_NEWROUTE/RTM_DELROUTE message into a Route; undefined for
 * families that are not IPv4/IPv6 (MPLS, multicast routing caches).
 */
export function decodeRoute(buf: Buffer, offset: number, length: number): Route | undefined {
  checkMessage(buf, offset, length, RTMSG_LEN, 'route');
  const body = offset + NLMSG_HDRLEN;
  const af = buf[body];
  if (af !== AF_INET && af !== AF_INET6) return undefined;
  const dstLen = buf[body + 1];
  const srcLen = buf[body + 2];
  const tos = buf[body + 3];
  const route: Route = {
    family: af === AF_INET ? 4 : 6,
    dst: 'default',
    table: buf[body + 4],
    type: routeTypes.name(buf[body + 7]) as RouteType | number,
    protocol: protocols.name(buf[body + 5]),
    scope: scopes.name(buf[body + 6]),
    flags: flagNames(buf.readUInt32LE(body + 8)),
  };
  if (tos !== 0) route.tos = tos;
  let encapAt = -1;
  let encapLen = 0;
  let encapType = -1;
  // The attribute walk inline (forEachAttribute's checks, no closure per
  // route): a dump of 100k routes runs it 100k times.
  const end = offset + length;
  for (let pos = body + RTMSG_LEN; pos + NLA_HDRLEN <= end;) {
    const len = buf[pos] | (buf[pos + 1] << 8);
    const t = (buf[pos + 2] | (buf[pos + 3] << 8)) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || pos + len > end) {
      throw new DecodeError(`attribute of type ${t} at offset ${pos} has bad length ${len}`);
    }
    const o = pos + NLA_HDRLEN;
    const l = len - NLA_HDRLEN;
    pos += (len + 3) & ~3;
    switch (t) {
      case RTA_DST:
        route.dst = `${formatIP(buf, o, l)}/${dstLen}`;
        break;
      case RTA_SRC:
        route.src = `${formatIP(buf, o, l)}/${srcLen}`;
        break;
      case RTA_TABLE:
        route.table = attrU32(buf, o, l);
        break;
      case RTA_GATEWAY:
        route.gateway = formatIP(buf, o, l);
        break;
      case RTA_VIA:
        route.gateway = decodeVia(buf, o, l);
        break;
      case RTA_OIF:
        route.dev = attrU32(buf, o, l);
        break;
      case RTA_PREFSRC:
        route.prefSrc = formatIP(buf, o, l);
        break;
      case RTA_PRIORITY:
        route.priority = attrU32(buf, o, l);
        break;
      case RTA_METRICS:
        route.metrics = decodeMetrics(buf, o, l);
        break;
      case RTA_MULTIPATH:
        route.nexthops = decodeMultipath(buf, o, l);
        break;
      case RTA_NH_ID:
        route.nhid = attrU32(buf, o, l);
        break;
      case RTA_ENCAP:
        encapAt = o;
        encapLen = l;
        break;
      case RTA_ENCAP_TYPE:
        encapType = attrU16(buf, o, l);
        break;
      case RTA_PREF:
        route.pref = routerPrefs.name(attrU8(buf, o, l)) as Route['pref'];
        break;
      case RTA_CACHEINFO: {
        // struct rta_cacheinfo: rta_expires (clock ticks) is its third u32.
        const expires = l >= 12 ? buf.readUInt32LE(o + 8) : 0;
        if (expires !== 0) route.expires = Math.floor(expires / HZ);
        break;
      }
      case RTA_IIF:
        route.iif = attrU32(buf, o, l);
        break;
      case RTA_MARK:
        route.mark = attrU32(buf, o, l);
        break;
      case RTA_UID:
        route.uid = attrU32(buf, o, l);
        break;
    }
  }
  if (encapAt >= 0 && encapType >= 0) route.encap = decodeEncap(encapType, buf, encapAt, encapLen);
  return route;
}

// ---------------------------------------------------------------- inputs

interface Prefix {
  family: 4 | 6 | undefined;
  /** The address; for IPv4 see v4. */
  bytes: Buffer | undefined;
  /** An IPv4 address as a number (no Buffer made for it), else -1. */
  v4: number;
  prefixLength: number;
}

/** The prefix's address bytes; undefined for 'default'. */
function prefixBytes(p: Prefix): Buffer | undefined {
  if (p.v4 < 0) return p.bytes;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(p.v4, 0);
  return out;
}

/** 'default', 'a.b.c.d/len', 'x::/len' or an address (a host prefix); the family is unknown for 'default'. */
/**
 * Parses a route prefix into `out` (a fresh object by default; the message
 * builder passes scratch objects of its own: one fewer allocation per
 * route of a 100k batch).
 */
function prefixArgument(
  text: unknown,
  argument: string,
  out: Prefix = { family: undefined, bytes: undefined, v4: -1, prefixLength: 0 },
): Prefix {
  if (typeof text !== 'string') throw invalidType(argument, "a CIDR string like '10.0.0.0/24' or 'default'", text);
  let family: 4 | 6 | undefined;
  let bytes: Buffer | undefined;
  let v4 = -1;
  let prefixLength = 0;
  if (text !== 'default') {
    const slash = text.indexOf('/');
    v4 = parseIPv4Value(text, 0, slash === -1 ? text.length : slash);
    if (v4 >= 0) family = 4;
    else {
      const ip = parseIP(slash === -1 ? text : text.slice(0, slash));
      if (!ip) throw invalidValue(argument, text, "must be 'default' or an IPv4/IPv6 prefix like '10.0.0.0/24'");
      family = ip.family;
      bytes = ip.bytes;
    }
    const max = family === 4 ? 32 : 128;
    if (slash === -1) prefixLength = max;
    else {
      const end = text.length;
      if (end === slash + 1 || end - slash - 1 > 10)
        throw invalidValue(argument, text, 'must have a decimal prefix length');
      for (let i = slash + 1; i < end; i++) {
        const c = text.charCodeAt(i) - 48;
        if (c < 0 || c > 9) throw invalidValue(argument, text, 'must have a decimal prefix length');
        prefixLength = prefixLength * 10 + c;
      }
      if (prefixLength > max) throw outOfRange(`${argument} prefix length`, `<= ${max} for IPv${family}`, prefixLength);
    }
  }
  out.family = family;
  out.bytes = bytes;
  out.v4 = v4;
  out.prefixLength = prefixLength;
  return out;
}

/** writeRouteMessage's prefixes, parsed into these and used before it returns. */
const DST_SCRATCH: Prefix = { family: undefined, bytes: undefined, v4: -1, prefixLength: 0 };
const SRC_SCRATCH: Prefix = { family: undefined, bytes: undefined, v4: -1, prefixLength: 0 };

function addressArgument(text: unknown, family: 4 | 6, argument: string): Buffer {
  if (typeof text !== 'string') throw invalidType(argument, 'an IP address string', text);
  const ip = parseIP(text);
  if (!ip) throw invalidValue(argument, text, 'must be an IPv4 or IPv6 address');
  if (ip.family !== family) throw invalidValue(argument, text, `must be an IPv${family} address like the route`);
  return ip.bytes;
}

function integerArgument(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number') throw invalidType(argument, 'of type number', v);
  if (!Number.isInteger(v) || v < min || v > max) throw outOfRange(argument, `an integer >= ${min} and <= ${max}`, v);
  return v;
}

function linkRefArgument(ref: unknown, argument: string): LinkRef {
  if (typeof ref === 'number') return integerArgument(ref, argument, 1, 0x7fffffff);
  if (typeof ref === 'string') {
    validateLinkName(ref, argument, ALTIFNAMSIZ);
    return ref;
  }
  throw invalidType(argument, 'an interface name or index', ref);
}

function familyArgument(v: unknown, argument: string): 4 | 6 | undefined {
  if (v === undefined || v === 4 || v === 6) return v;
  throw invalidValue(argument, v, 'must be 4 or 6');
}

function tableArgument(v: unknown, argument: string): number {
  const table = tables.value(v, argument);
  if (table === 0) throw outOfRange(argument, "a table id 1-4294967295 or 'main', 'local', 'default'", v);
  return table;
}

function onlinkFromFlags(flags: unknown, onlink: unknown, argument: string): boolean {
  if (onlink !== undefined && typeof onlink !== 'boolean') throw invalidType(`${argument}.onlink`, 'a boolean', onlink);
  let on = onlink === true;
  if (flags === undefined) return on;
  if (!Array.isArray(flags)) throw invalidType(`${argument}.flags`, 'an array of flag names', flags);
  for (const f of flags) {
    if (typeof f !== 'string' || !KNOWN_FLAGS.has(f)) {
      throw invalidValue(`${argument}.flags`, f, `must be one of ${[...KNOWN_FLAGS].join(', ')}`);
    }
    if (f === 'onlink') on = true;
  }
  return on;
}

// ---------------------------------------------------------------- encoding

function encodeMetrics(metrics: unknown, argument: string): Record<string, unknown> {
  if (typeof metrics !== 'object' || metrics === null) throw invalidType(argument, 'an object', metrics);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metrics as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (k === 'lock') {
      if (!Array.isArray(v)) throw invalidType(`${argument}.lock`, 'an array of metric names', v);
      let mask = 0;
      for (const name of v) {
        const type = typeof name === 'string' && name !== 'lock' ? metricAttrs().typeOf(name) : undefined;
        if (type === undefined) throw invalidValue(`${argument}.lock`, name, 'must name a metric (mtu, window, ...)');
        mask |= 1 << type;
      }
      out.lock = mask >>> 0;
    } else out[k] = v; // the schema checks names, types and ranges
  }
  return out;
}

function encodeEncap(w: Writer, encap: unknown, argument: string): void {
  if (typeof encap !== 'object' || encap === null) throw invalidType(argument, 'an object with a type', encap);
  const e = encap as Record<string, unknown>;
  const type = encapTypes.value(e.type, `${argument}.type`);
  const at = w.begin(RTA_ENCAP);
  if (type === LWTUNNEL_ENCAP_MPLS && e.data === undefined) {
    const labels = e.labels;
    if (!Array.isArray(labels) || labels.length === 0) {
      throw invalidType(`${argument}.labels`, 'a non-empty array of MPLS labels', labels);
    }
    const dst = w.begin(MPLS_IPTUNNEL_DST);
    labels.forEach((label, i) => {
      const n = integerArgument(label, `${argument}.labels[${i}]`, 0, 0xfffff);
      const bottom = i === labels.length - 1 ? 1 << MPLS_LS_S_SHIFT : 0;
      w.u32be(((n << MPLS_LS_LABEL_SHIFT) | bottom) >>> 0);
    });
    w.end(dst);
    if (e.ttl !== undefined) w.attrU8(MPLS_IPTUNNEL_TTL, integerArgument(e.ttl, `${argument}.ttl`, 0, 255));
  } else if (type === LWTUNNEL_ENCAP_SEG6 && e.data === undefined) {
    const mode = seg6Modes.value(e.mode, `${argument}.mode`);
    const segments = e.segments;
    if (!Array.isArray(segments) || segments.length === 0 || segments.length > 255) {
      throw invalidType(`${argument}.segments`, 'an array of 1-255 IPv6 addresses', segments);
    }
    const bytes = segments.map((s, i) => addressArgument(s, 6, `${argument}.segments[${i}]`));
    const hmac = e.hmac === undefined ? undefined : integerArgument(e.hmac, `${argument}.hmac`, 0, U32_MAX);
    // Inline mode inserts the header into the packet and writes the packet's destination into
    // the header's first entry: reserve it (all zero), as iproute2 does.
    if (mode === SEG6_IPTUN_MODE_INLINE) bytes.push(Buffer.alloc(16));
    if (bytes.length > 255)
      throw outOfRange(`${argument}.segments`, 'at most 255 entries (254 inline)', segments.length);
    const tlvLen = hmac === undefined ? 0 : 8 + SEG6_HMAC_FIELD_LEN;
    const srhLen = 8 + 16 * bytes.length + tlvLen;
    const srh = w.begin(SEG6_IPTUNNEL_SRH);
    w.s32(mode);
    w.u8(0); // nexthdr: the kernel fills it in
    w.u8(srhLen / 8 - 1);
    w.u8(IPV6_SRCRT_TYPE_4);
    w.u8(bytes.length - 1); // segments_left
    w.u8(bytes.length - 1); // first_segment (last entry)
    w.u8(hmac === undefined ? 0 : SR6_FLAG1_HMAC);
    w.u16be(0); // tag
    for (let i = bytes.length - 1; i >= 0; i--) w.bytes(bytes[i]);
    if (hmac !== undefined) {
      w.u8(SR6_TLV_HMAC);
      w.u8(tlvLen - 2);
      w.u16(0);
      w.u32be(hmac);
      w.zeros(SEG6_HMAC_FIELD_LEN);
    }
    w.end(srh);
  } else {
    if (typeof e.data !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(e.data)) {
      throw invalidType(
        `${argument}.data`,
        'the hex payload of RTA_ENCAP (mpls and seg6 take their own fields)',
        e.data,
      );
    }
    w.bytes(Buffer.from(e.data, 'hex'));
  }
  w.end(at);
  w.attrU16(RTA_ENCAP_TYPE, type);
}

/** Gateway bytes as RTA_GATEWAY (same family) or RTA_VIA (an IPv6 next hop of an IPv4 route). */
function encodeGateway(w: Writer, text: unknown, family: 4 | 6, argument: string): void {
  if (typeof text !== 'string') throw invalidType(argument, 'an IP address string', text);
  if (family === 4) {
    const v4 = parseIPv4Value(text, 0, text.length);
    if (v4 >= 0) return w.attrU32BE(RTA_GATEWAY, v4);
  }
  const ip = parseIP(text);
  if (!ip) throw invalidValue(argument, text, 'must be an IPv4 or IPv6 address');
  if (ip.family === family) {
    w.attr(RTA_GATEWAY, ip.bytes);
  } else if (family === 4) {
    const at = w.begin(RTA_VIA);
    w.u16(AF_INET6);
    w.bytes(ip.bytes);
    w.end(at);
  } else {
    throw invalidValue(argument, text, 'must be an IPv6 address: IPv6 routes take no IPv4 gateway');
  }
}

/** Resolves a link reference already checked by linkRefArgument. */
export type LinkResolver = (ref: LinkRef) => number;

function encodeMultipath(hops: unknown, family: 4 | 6, resolve: LinkResolver, argument: string): Buffer {
  if (!Array.isArray(hops) || hops.length === 0) throw invalidType(argument, 'a non-empty array of hops', hops);
  const w = new Writer(64 * hops.length);
  hops.forEach((hop: unknown, i) => {
    const path = `${argument}[${i}]`;
    if (typeof hop !== 'object' || hop === null) throw invalidType(path, 'an object', hop);
    const h = hop as RouteNexthopSpec;
    const weight = h.weight === undefined ? 1 : integerArgument(h.weight, `${path}.weight`, 1, 256);
    const onlink = onlinkFromFlags(h.flags, h.onlink, path);
    const dev = h.dev === undefined ? 0 : resolve(linkRefArgument(h.dev, `${path}.dev`));
    if (h.gateway === undefined && h.dev === undefined) throw invalidValue(path, hop, 'needs a gateway or a dev');
    const start = w.pos;
    w.u16(0);
    w.u8(onlink ? RTNH_F_ONLINK : 0);
    w.u8(weight - 1);
    w.s32(dev);
    if (h.gateway !== undefined) encodeGateway(w, h.gateway, family, `${path}.gateway`);
    if (h.encap !== undefined) encodeEncap(w, h.encap, `${path}.encap`);
    w.buf.writeUInt16LE(w.pos - start, start);
  });
  return w.view();
}

/** Which family a spec is for: from dst, else `family`, else the gateways and addresses it names. */
function specFamily(spec: RouteSpec, dst: Prefix): 4 | 6 {
  const family = familyArgument(spec.family, 'spec.family');
  if (dst.family !== undefined) {
    if (family !== undefined && family !== dst.family) {
      throw invalidValue('spec.family', family, `disagrees with spec.dst '${spec.dst}'`);
    }
    return dst.family;
  }
  if (family !== undefined) return family;
  const hints = [
    spec.gateway,
    spec.prefSrc,
    spec.src,
    ...(Array.isArray(spec.nexthops) ? spec.nexthops : []).map((h) => h?.gateway),
  ];
  for (const hint of hints) {
    if (typeof hint !== 'string') continue;
    const ip = parseIP(hint.split('/')[0]);
    if (ip) return ip.family;
  }
  return 4;
}

const LOCAL_TABLE_TYPES = new Set([RTN_LOCAL, RTN_BROADCAST, RTN_NAT, RTN_ANYCAST]);

/**
 * Builds RTM_NEWROUTE / RTM_DELROUTE for a spec. Pure: every check throws
 * before anything is sent; `resolve` turns interface names into indexes.
 */
export function buildRouteMessage(type: number, flags: number, spec: RouteSpec, resolve: LinkResolver): Buffer {
  const w = new Writer(256);
  writeRouteMessage(w, type, flags, spec, resolve);
  return w.view();
}

/** Appends an RTM_NEWROUTE/RTM_DELROUTE message to `w` (a batch's chunk, or a message of its own). */
export function writeRouteMessage(
  w: Writer,
  type: number,
  flags: number,
  spec: RouteSpec,
  resolve: LinkResolver,
): void {
  if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
  const deleting = type === RTM_DELROUTE;
  const dst = prefixArgument(spec.dst, 'spec.dst', DST_SCRATCH);
  const family = specFamily(spec, dst);
  const src = spec.src === undefined ? undefined : prefixArgument(spec.src, 'spec.src', SRC_SCRATCH);
  if (src?.family !== undefined && src.family !== family) {
    throw invalidValue('spec.src', spec.src, `must be an IPv${family} prefix like the route`);
  }
  const rtmType =
    spec.type === undefined ? (deleting ? RTN_UNSPEC : RTN_UNICAST) : routeTypes.value(spec.type, 'spec.type');
  const table =
    spec.table !== undefined
      ? tableArgument(spec.table, 'spec.table')
      : LOCAL_TABLE_TYPES.has(rtmType)
        ? RT_TABLE_LOCAL
        : RT_TABLE_MAIN;
  const protocol =
    spec.protocol !== undefined ? protocols.value(spec.protocol, 'spec.protocol') : deleting ? 0 : RTPROT_BOOT;
  const tos = spec.tos === undefined ? 0 : integerArgument(spec.tos, 'spec.tos', 0, 255);
  const onlink = onlinkFromFlags(spec.flags, spec.onlink, 'spec');
  const nhid = spec.nhid === undefined ? undefined : integerArgument(spec.nhid, 'spec.nhid', 1, U32_MAX);
  // A listed route names its nexthop object's gateway and dev too; deleting by nhid needs only the id.
  const useHops = !(deleting && nhid !== undefined);
  if (!deleting && nhid !== undefined && (spec.gateway ?? spec.dev ?? spec.nexthops) !== undefined) {
    throw invalidValue('spec.nhid', nhid, 'excludes gateway, dev and nexthops: the nexthop object has them');
  }
  if (useHops && spec.nexthops !== undefined && spec.gateway !== undefined) {
    throw invalidValue('spec.gateway', spec.gateway, 'goes into each hop of spec.nexthops, not beside them');
  }
  const hasNextHop = spec.gateway !== undefined || spec.nexthops !== undefined || nhid !== undefined;
  let scope: number;
  if (spec.scope !== undefined) scope = scopes.value(spec.scope, 'spec.scope');
  else if (deleting) scope = RT_SCOPE_NOWHERE;
  else if (rtmType === RTN_LOCAL || rtmType === RTN_NAT) scope = RT_SCOPE_HOST;
  else if (rtmType === RTN_BROADCAST || rtmType === RTN_MULTICAST || rtmType === RTN_ANYCAST) scope = RT_SCOPE_LINK;
  else if ((rtmType === RTN_UNICAST || rtmType === RTN_UNSPEC) && !hasNextHop) scope = RT_SCOPE_LINK;
  else scope = RT_SCOPE_UNIVERSE;

  const start = beginMessage(w, type, flags);
  w.u8(family === 4 ? AF_INET : AF_INET6);
  w.u8(dst.prefixLength);
  w.u8(src?.prefixLength ?? 0);
  w.u8(tos);
  w.u8(table < 256 ? table : RT_TABLE_COMPAT);
  w.u8(protocol);
  w.u8(scope);
  w.u8(rtmType);
  w.u32(onlink ? RTNH_F_ONLINK : 0);
  const attrs = routeAttrs();
  // Sent as given: the kernel itself refuses an IPv4 prefix with host bits set.
  if (dst.v4 >= 0) w.attrU32BE(RTA_DST, dst.v4);
  else if (dst.bytes) w.attr(RTA_DST, dst.bytes);
  if (src && src.prefixLength > 0) {
    if (src.v4 >= 0) w.attrU32BE(RTA_SRC, src.v4);
    else if (src.bytes) w.attr(RTA_SRC, src.bytes);
  }
  // rtm_table holds 8 bits; RTA_TABLE carries the full id (the kernel prefers it).
  w.attrU32(RTA_TABLE, table);
  if (spec.priority !== undefined) w.attrU32(RTA_PRIORITY, integerArgument(spec.priority, 'spec.priority', 0, U32_MAX));
  if (spec.prefSrc !== undefined) w.attr(RTA_PREFSRC, addressArgument(spec.prefSrc, family, 'spec.prefSrc'));
  if (nhid !== undefined) w.attrU32(RTA_NH_ID, nhid);
  if (useHops) {
    if (spec.gateway !== undefined) encodeGateway(w, spec.gateway, family, 'spec.gateway');
    if (spec.dev !== undefined) w.attrU32(RTA_OIF, resolve(linkRefArgument(spec.dev, 'spec.dev')));
    if (spec.nexthops !== undefined)
      w.attr(RTA_MULTIPATH, encodeMultipath(spec.nexthops, family, resolve, 'spec.nexthops'));
  }
  if (spec.encap !== undefined) encodeEncap(w, spec.encap, 'spec.encap');
  if (!deleting) {
    if (spec.metrics !== undefined) {
      const metrics = encodeMetrics(spec.metrics, 'spec.metrics');
      if (Object.keys(metrics).length > 0) attrs.encode(w, { metrics }, 'spec');
    }
    if (spec.expires !== undefined)
      attrs.encode(w, { expires: integerArgument(spec.expires, 'spec.expires', 0, U32_MAX) });
    if (spec.pref !== undefined) w.attrU8(RTA_PREF, routerPrefs.value(spec.pref, 'spec.pref'));
  }
  finishMessage(w, start);
}

/** The address with the bits past `prefixLength` cleared (copy). */
function maskBytes(bytes: Buffer, prefixLength: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const bits = prefixLength - 8 * i;
    if (bits >= 8) continue;
    out[i] &= bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

/** Builds the RTM_GETROUTE request of route.get(). */
export function buildRouteGetMessage(dst: string, options: RouteGetOptions, resolve: LinkResolver): Buffer {
  if (typeof dst !== 'string') throw invalidType('dst', 'an IP address string', dst);
  const ip = parseIP(dst);
  if (!ip) throw invalidValue('dst', dst, 'must be an IPv4 or IPv6 address');
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const family = ip.family;
  const max = family === 4 ? 32 : 128;
  const src = options.src === undefined ? undefined : addressArgument(options.src, family, 'options.src');
  if (options.fibmatch !== undefined && typeof options.fibmatch !== 'boolean') {
    throw invalidType('options.fibmatch', 'a boolean', options.fibmatch);
  }
  const w = new Writer(128);
  const start = beginMessage(w, RTM_GETROUTE, NLM_F_REQUEST);
  w.u8(family === 4 ? AF_INET : AF_INET6);
  w.u8(max);
  w.u8(src ? max : 0);
  w.u8(options.tos === undefined ? 0 : integerArgument(options.tos, 'options.tos', 0, 255));
  w.u8(0);
  w.u8(0);
  w.u8(0);
  w.u8(0);
  // IPv4 reports the table the lookup used only when asked (LOOKUP_TABLE); IPv6 always
  // does, and its strict checking refuses the flag.
  w.u32((family === 4 ? RTM_F_LOOKUP_TABLE : 0) | (options.fibmatch ? RTM_F_FIB_MATCH : 0));
  w.attr(RTA_DST, ip.bytes);
  if (src) w.attr(RTA_SRC, src);
  if (options.iif !== undefined) w.attrU32(RTA_IIF, resolve(linkRefArgument(options.iif, 'options.iif')));
  if (options.oif !== undefined) w.attrU32(RTA_OIF, resolve(linkRefArgument(options.oif, 'options.oif')));
  if (options.mark !== undefined) w.attrU32(RTA_MARK, integerArgument(options.mark, 'options.mark', 0, U32_MAX));
  if (options.uid !== undefined) w.attrU32(RTA_UID, integerArgument(options.uid, 'options.uid', 0, U32_MAX));
  const extra: Record<string, unknown> = {};
  if (options.ipProto !== undefined) extra.ipProto = integerArgument(options.ipProto, 'options.ipProto', 0, 255);
  if (options.sport !== undefined) extra.sport = integerArgument(options.sport, 'options.sport', 0, 65535);
  if (options.dport !== undefined) extra.dport = integerArgument(options.dport, 'options.dport', 0, 65535);
  routeAttrs().encode(w, extra);
  finishMessage(w, start);
  return w.view();
}

/** What a dump request and its client-side filter look like for a RouteFilter. */
interface DumpPlan {
  message: Buffer;
  accept: (r: Route) => boolean;
  /** A table filter was given: a missing table is an empty list, not an error. */
  tableFiltered: boolean;
}

function planDump(filter: RouteFilter, dev: number | undefined): DumpPlan {
  const family = familyArgument(filter.family, 'filter.family');
  const table = filter.table === undefined ? undefined : tableArgument(filter.table, 'filter.table');
  const type = filter.type === undefined ? undefined : routeTypes.value(filter.type, 'filter.type');
  const protocol = filter.protocol === undefined ? undefined : protocols.value(filter.protocol, 'filter.protocol');
  let dst: string | undefined;
  let dstFamily: 4 | 6 | undefined;
  if (filter.dst !== undefined) {
    const p = prefixArgument(filter.dst, 'filter.dst');
    if (p.family !== undefined && family !== undefined && p.family !== family) {
      throw invalidValue('filter.dst', filter.dst, `is not an IPv${family} prefix`);
    }
    dstFamily = p.family;
    const bytes = prefixBytes(p);
    dst = bytes ? `${formatIP(maskBytes(bytes, p.prefixLength), 0, bytes.length)}/${p.prefixLength}` : 'default';
  }
  const w = new Writer(64);
  const start = beginMessage(w, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  w.u8(family === 4 ? AF_INET : family === 6 ? AF_INET6 : AF_UNSPEC);
  w.u8(0);
  w.u8(0);
  w.u8(0);
  // With strict checking the kernel filters on these itself; without, it ignores them.
  w.u8(table === undefined ? 0 : table < 256 ? table : RT_TABLE_COMPAT);
  w.u8(protocol ?? 0);
  w.u8(0);
  w.u8(type ?? 0);
  w.u32(0);
  if (table !== undefined) w.attrU32(RTA_TABLE, table);
  if (dev !== undefined) w.attrU32(RTA_OIF, dev);
  finishMessage(w, start);
  const typeName = type === undefined ? undefined : routeTypes.name(type);
  const protocolName = protocol === undefined ? undefined : protocols.name(protocol);
  const accept = (r: Route) =>
    (family === undefined || r.family === family) &&
    (table === undefined || r.table === table) &&
    (typeName === undefined || r.type === typeName) &&
    (protocolName === undefined || r.protocol === protocolName) &&
    (dev === undefined || r.dev === dev || (r.nexthops?.some((h) => h.dev === dev) ?? false)) &&
    (dst === undefined || (r.dst === dst && (dstFamily === undefined ? true : r.family === dstFamily)));
  return { message: w.view(), accept, tableFiltered: table !== undefined };
}

/** A dumped route worth listing: IPv4/IPv6 FIB entries, not cached clones (which only a non-strict dump sends). */
function decodeListed(buf: Buffer, offset: number, length: number, accept: (r: Route) => boolean): Route | undefined {
  if (buf.readUInt32LE(offset + NLMSG_HDRLEN + 8) & RTM_F_CLONED) return undefined;
  const r = decodeRoute(buf, offset, length);
  return r !== undefined && accept(r) ? r : undefined;
}

/** The spec that deletes exactly this listed route and nothing else. */
function deletionSpec(r: Route): RouteSpec {
  const spec: RouteSpec = {
    dst: r.dst,
    family: r.family,
    table: r.table,
    type: r.type,
    protocol: r.protocol,
    scope: r.scope,
  };
  if (r.src !== undefined) spec.src = r.src;
  if (r.tos !== undefined) spec.tos = r.tos;
  if (r.priority !== undefined) spec.priority = r.priority;
  if (r.nhid !== undefined) spec.nhid = r.nhid;
  else if (r.nexthops === undefined) {
    // A single path: its device and gateway tell it from same-prefix routes (IPv6 keeps one per device).
    if (r.dev !== undefined) spec.dev = r.dev;
    if (r.gateway !== undefined) spec.gateway = r.gateway;
  }
  return spec;
}

export interface RouteContext extends WaitContext {
  route(): NetlinkClient;
  readonly link: LinkApi;
}

const ROUTE_BATCH_METHODS: Record<string, [number, number]> = {
  add: [RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL],
  replace: [RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE],
  append: [RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND],
  change: [RTM_NEWROUTE, NLM_F_REPLACE],
  del: [RTM_DELROUTE, 0],
};

/**
 * The `route` group.
 *
 * @example
 * await h.route.add({ dst: '10.9.0.0/24', gateway: '10.0.0.2' })
 * const main = await h.route.list({ table: 'main', family: 4 })
 */
export class RouteApi {
  constructor(private readonly ctx: () => RouteContext) {}

  /**
   * Adds a route. An existing one rejects with code 'EEXIST'; a gateway
   * the kernel cannot reach with NetlinkError carrying its text.
   *
   * @example
   * await nl.route.add({ dst: '10.9.0.0/24', gateway: '10.0.0.2', metrics: { mtu: 1400 } })
   * await nl.route.add({ dst: '10.8.0.0/24', nexthops: [{ gateway: '10.0.0.2', weight: 3 }, { gateway: '10.0.0.3' }] })
   * await nl.route.add({ dst: '10.66.0.0/16', type: 'blackhole', table: 100 })
   */
  async add(spec: RouteSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, spec, req);
  }

  /**
   * Adds the route, or replaces the one with the same prefix, table, tos and metric.
   *
   * @example
   * await nl.route.replace({ dst: 'default', gateway: '10.0.0.1' })
   */
  async replace(spec: RouteSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, spec, req);
  }

  /**
   * Adds the route after any with the same prefix (`ip route append`);
   * IPv6 makes it another hop of the existing multipath route.
   *
   * @example
   * await nl.route.append({ dst: '2001:db8:9::/64', gateway: '2001:db8::3', dev: 'eth0' })
   */
  async append(spec: RouteSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_APPEND, spec, req);
  }

  /**
   * Changes an existing route (`ip route change`); missing: code 'ENOENT' or 'ESRCH'.
   *
   * @example
   * await nl.route.change({ dst: '10.9.0.0/24', gateway: '10.0.0.3' })
   */
  async change(spec: RouteSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWROUTE, NLM_F_REPLACE, spec, req);
  }

  /**
   * Deletes a route. Fields left out match anything, as with `ip route del`;
   * a Route from list() deletes exactly that route. Missing: code 'ESRCH'.
   *
   * @example
   * await nl.route.del({ dst: '10.9.0.0/24' })
   * for (const r of await nl.route.list({ protocol: 'static' })) await nl.route.del(r)
   */
  async del(spec: RouteSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_DELROUTE, 0, spec, req);
  }

  /**
   * Resolves with the first route matching `filter` once the kernel has
   * one (at once if it has), or, with `present: false`, once none is left.
   * Timeout: code 'ERR_RTNL_TIMEOUT'.
   *
   * @example
   * await h.route.waitFor({ dst: 'default', family: 4 }, { timeout: 10_000 })   // DHCP or RA done
   */
  async waitFor(filter: RouteFilter & { present?: boolean }, options: WaitOptions = {}): Promise<Route | undefined> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    const { present = true, ...rest } = filter;
    await this.list(rest); // validates the filter before anything waits
    const look = async (): Promise<{ r: Route | undefined } | undefined> => {
      const [first] = await this.list(rest);
      if (!present) return first === undefined ? { r: undefined } : undefined;
      return first === undefined ? undefined : { r: first };
    };
    const groups: MonitorGroup[] = rest.family === 6 ? ['route6'] : rest.family === 4 ? ['route4'] : ['route'];
    return (await waitUntil(this.ctx(), groups, `route ${JSON.stringify(filter)}`, look, options)).r;
  }

  /**
   * Routes of every table (like `ip route show table all`), or those the
   * filter keeps. The result is the same with and without strict checking;
   * with it, the kernel does the filtering by table, type, protocol and dev.
   *
   * @example
   * const routes = await nl.route.list({ table: 'main', family: 6 })
   * const viaEth0 = await nl.route.list({ dev: 'eth0' })
   */
  async list(filter: RouteFilter = {}, req: RequestOptions = {}): Promise<Route[]> {
    const plan = await this.plan(filter);
    try {
      return await dump(this.ctx().route(), plan.message, (b, o, l) => decodeListed(b, o, l, plan.accept), {
        ...req,
        operation: 'RTM_GETROUTE',
      });
    } catch (error) {
      // A strict dump of one family answers ENOENT for a table that does not exist: no routes.
      if (plan.tableFiltered && (error as { code?: string }).code === 'ENOENT') return [];
      throw error;
    }
  }

  /**
   * list() as an async iterable, decoded as datagrams arrive.
   *
   * @example
   * for await (const r of h.route.stream({ table: 'main' })) console.log(r.dst)
   */
  stream(filter: RouteFilter = {}, req: RequestOptions = {}): AsyncIterable<Route> {
    let tableFiltered = false;
    // a table that does not exist has no routes
    const noSuchTable = (error: unknown) => tableFiltered && (error as { code?: string }).code === 'ENOENT';
    return deferredStream(async () => {
      const plan = await this.plan(filter);
      tableFiltered = plan.tableFiltered;
      return stream(this.ctx().route(), plan.message, (b, o, l) => decodeListed(b, o, l, plan.accept), {
        signal: req.signal,
        operation: 'RTM_GETROUTE',
        endsOn: noSuchTable,
      });
    }, noSuchTable);
  }

  /**
   * The kernel's own route lookup, like `ip route get`: policy rules,
   * multipath hashing and all. Where `ip route get` fails, this rejects
   * with the same NetlinkError: no route 'ENETUNREACH', unreachable
   * 'EHOSTUNREACH', prohibit 'EACCES', blackhole 'EINVAL'. `fibmatch`
   * returns the FIB entry that matched rather than the resolved route.
   *
   * @example
   * const r = await nl.route.get('8.8.8.8')                        // r.gateway, r.dev, r.prefSrc
   * const viaRule = await nl.route.get('10.1.2.3', { mark: 7, src: '10.0.0.1' })
   * const entry = await nl.route.get('10.1.2.3', { fibmatch: true })
   */
  async get(dst: string, options: RouteGetOptions = {}, req: RequestOptions = {}): Promise<Route> {
    const message = await this.withLinks((resolve) => buildRouteGetMessage(dst, options, resolve));
    const replies = await request(this.ctx().route(), message, (b, o, l) => decodeRoute(b, o, l), {
      ...req,
      operation: 'RTM_GETROUTE',
    });
    if (replies.length === 0) throw new Error(`RTM_GETROUTE: the kernel sent no route for ${dst}`);
    return replies[0];
  }

  /**
   * Deletes what list(filter) returns; returns how many went. Routes
   * that vanished meanwhile (a multipath route goes with its first hop) are
   * not an error.
   *
   * @example
   * await nl.route.flush({ table: 100 })
   * await nl.route.flush({ dev: 'eth0', family: 4, protocol: 'static' })
   */
  async flush(filter: RouteFilter = {}, req: RequestOptions = {}): Promise<number> {
    const routes = await this.list(filter, req);
    let n = 0;
    for (const r of routes) {
      const message = buildRouteMessage(
        RTM_DELROUTE,
        NLM_F_REQUEST | NLM_F_ACK,
        deletionSpec(r),
        (ref) => ref as number,
      );
      await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_DELROUTE' }).then(
        () => n++,
        (error: { code?: string }) => {
          if (error.code !== 'ESRCH' && error.code !== 'ENOENT') throw error;
        },
      );
    }
    return n;
  }

  /**
   * @internal For batch(): the socket a call's request goes to when the
   * batch may build it itself (add/replace/append/change/del without a
   * signal of their own), else undefined.
   */
  canPrepare(method: string, args: unknown[]): NetlinkClient | undefined {
    if (!ROUTE_BATCH_METHODS[method] || (args[1] as RequestOptions | undefined)?.signal) return undefined;
    return this.ctx().route();
  }

  /** @internal For batch(): appends the call's request to `out` (see lib/batch.ts Preparer). */
  prepareBatch(
    method: string,
    args: unknown[],
    out: Writer,
    names: ReadonlyMap<string, number>,
  ): NeedsNames | undefined {
    const plan = ROUTE_BATCH_METHODS[method];
    const resolver = this.batchResolver;
    resolver.names = names;
    resolver.needs = undefined;
    try {
      writeRouteMessage(out, plan[0], NLM_F_REQUEST | NLM_F_ACK | plan[1], args[0] as RouteSpec, resolver.resolve);
    } finally {
      resolver.names = undefined;
    }
    const needs = resolver.needs;
    return needs ? { needs } : undefined;
  }

  /** prepareBatch's name resolver: one per group rather than a closure per call. */
  private readonly batchResolver: {
    names: ReadonlyMap<string, number> | undefined;
    needs: string[] | undefined;
    resolve: LinkResolver;
  } = {
    names: undefined,
    needs: undefined,
    resolve: (ref) => {
      if (typeof ref === 'number') return ref;
      const index = this.batchResolver.names?.get(ref);
      if (index !== undefined) return index;
      (this.batchResolver.needs ??= []).push(ref);
      return 1;
    },
  };

  private async send(type: number, flags: number, spec: RouteSpec, req: RequestOptions): Promise<void> {
    const built = this.withLinks((resolve) =>
      buildRouteMessage(type, NLM_F_REQUEST | NLM_F_ACK | flags, spec, resolve),
    );
    // Without interface names to look up there is nothing to wait for before sending.
    const message = built instanceof Buffer ? built : await built;
    await request(this.ctx().route(), message, null, {
      signal: req.signal,
      operation: type === RTM_DELROUTE ? 'RTM_DELROUTE' : 'RTM_NEWROUTE',
    });
  }

  /**
   * Builds a message twice: once checking everything and noting the
   * interface names it uses, then with those names resolved. Bad input
   * thus fails before any request, including the name lookups.
   */
  private withLinks(build: (resolve: LinkResolver) => Buffer): Buffer | Promise<Buffer> {
    let names: Map<string, number> | undefined;
    const first = build((ref) => {
      if (typeof ref === 'number') return ref;
      (names ??= new Map()).set(ref, 0);
      return 1;
    });
    if (!names) return first; // no names: the check was the build
    const lookups = names;
    return (async () => {
      for (const name of lookups.keys()) lookups.set(name, await this.ctx().link.indexOf(name));
      return build((ref) => (typeof ref === 'number' ? ref : lookups.get(ref)!));
    })();
  }

  private async plan(filter: RouteFilter): Promise<DumpPlan> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    planDump(filter, undefined); // every check first, then the name lookup
    const dev =
      filter.dev === undefined ? undefined : await this.ctx().link.indexOf(linkRefArgument(filter.dev, 'filter.dev'));
    return planDump(filter, dev);
  }
}

registerDecoder(NETLINK_ROUTE, RTM_NEWROUTE, { object: 'route', event: 'new', decode: decodeRoute });
registerDecoder(NETLINK_ROUTE, RTM_DELROUTE, { object: 'route', event: 'del', decode: decodeRoute });
