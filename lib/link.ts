/**
 * Links (network interfaces): types, request builders, the decoder, and
 * the `link` API group. Attribute names and kind options come from the
 * rt-link schema tables (camelCase of the kernel's names).
 */
import { DecodeError, invalidType, invalidValue, outOfRange } from './errors';
import type { NetlinkClient } from './engine/client';
import { deferredStream, dump, request, stream, type RequestOptions } from './engine/requests';
import { rtLinkSchemas } from './families';
import { NLA_TYPE_MASK, Writer } from './netlink/attributes';
import {
  AF_UNSPEC,
  ALTIFNAMSIZ,
  IFF_ALLMULTI,
  IFF_AUTOMEDIA,
  IFF_BROADCAST,
  IFF_DEBUG,
  IFF_DORMANT,
  IFF_DYNAMIC,
  IFF_ECHO,
  IFF_LOOPBACK,
  IFF_LOWER_UP,
  IFF_MASTER,
  IFF_MULTICAST,
  IFF_NOARP,
  IFF_NOTRAILERS,
  IFF_POINTOPOINT,
  IFF_PORTSEL,
  IFF_PROMISC,
  IFF_RUNNING,
  IFF_SLAVE,
  IFF_UP,
  AF_INET6,
  IFLA_AF_SPEC,
  IFLA_ADDRESS,
  IFLA_ALLMULTI,
  IFLA_ALT_IFNAME,
  IFLA_BROADCAST,
  IFLA_CARRIER,
  IFLA_GROUP,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_INFO_SLAVE_DATA,
  IFLA_INFO_SLAVE_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_LINK_NETNSID,
  IFLA_MASTER,
  IFLA_MAX_MTU,
  IFLA_MIN_MTU,
  IFLA_MTU,
  IFLA_NUM_RX_QUEUES,
  IFLA_NUM_TX_QUEUES,
  IFLA_OPERSTATE,
  IFLA_PROMISCUITY,
  IFLA_PROP_LIST,
  IFLA_QDISC,
  IFLA_STATS64,
  IFLA_TARGET_NETNSID,
  IFLA_TXQLEN,
  IFLA_INET6_ADDR_GEN_MODE,
  IFNAMSIZ,
  IN6_ADDR_GEN_MODE_EUI64,
  IN6_ADDR_GEN_MODE_NONE,
  IN6_ADDR_GEN_MODE_RANDOM,
  IN6_ADDR_GEN_MODE_STABLE_PRIVACY,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NETLINK_ROUTE,
  NLM_F_REQUEST,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  VETH_INFO_PEER,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import type { Decoded, StructCodec } from './netlink/schema';
import { registerDecoder } from './registry';
import { acquireNetnsFd, checkNetnsRef, type NetnsRef } from './netns';
import { TunApi } from './tun';
import { checkNsid } from './nsid';
import type { Monitor, MonitorOptions } from './monitor';
import { waitUntil, type WaitOptions } from './wait';
import { formatMac, parseMac } from './netlink/address';
import { AltNameApi } from './link-altnames';
import { vxlanFromKernel, vxlanToKernel } from './link-kinds';

/** 64-bit interface counters (rtnl_link_stats64), as numbers exact to 2^53. */
export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
  collisions: number;
  /** Detailed error counters, and any the running kernel adds. */
  [counter: string]: number;
}

/** A network interface, as list() and get() return it. */
export interface Link {
  index: number;
  name: string;
  /** 'veth', 'bridge', 'vxlan', ...; absent for physical devices and lo. */
  kind?: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** RFC 2863 state as `ip` prints it: 'UP', 'DOWN', 'UNKNOWN', 'LOWERLAYERDOWN', ... */
  operstate: string;
  mtu: number;
  mac?: string;
  broadcast?: string;
  /** Index of the master (bridge, bond, vrf) this link is enslaved to. */
  master?: number;
  /** Index of the parent (IFLA_LINK): a veth's peer, a macvlan's lower device. */
  parentIndex?: number;
  /** nsid of the namespace the parent lives in, as seen from this one. */
  netnsId?: number;
  /**
   * Interface flags as `ip -j` prints them, e.g. ['BROADCAST', 'MULTICAST',
   * 'UP', 'LOWER_UP'] ('NO-CARRIER' when up without carrier). iproute2's
   * 'M-DOWN' is not a flag of this link but says its parent is down; look
   * at the parent (parentIndex) for that.
   */
  flags: string[];
  alias?: string;
  altNames?: string[];
  txQueueLen?: number;
  qdisc?: string;
  group?: number;
  promiscuity?: number;
  allmulti?: number;
  minMtu?: number;
  maxMtu?: number;
  numTxQueues?: number;
  numRxQueues?: number;
  /** Carrier (IFLA_CARRIER). */
  carrier?: boolean;
  /** ARPHRD_* link type number (1 = ether, 772 = loopback). */
  linkType: number;
  stats?: LinkStats;
  /** Kind options decoded (camelCase kernel names), e.g. info.vlanFiltering for a bridge. */
  info?: Record<string, unknown>;
  /** The kind of master this link is a port of, and its port options. */
  portKind?: string;
  portInfo?: Record<string, unknown>;
  /** IFLA_INFO_DATA as hex, for a kind the library has no table for. */
  rawInfo?: string;
  /** IFLA_INFO_SLAVE_DATA as hex, for a master kind the library has no table for. */
  rawPortInfo?: string;
  /** IPv6 link-local address generation: 'eui64', 'none', 'stable_secret', 'random' (or a number). */
  addrGenMode?: string | number;
}

/** A link by name (or altname) or by index. */
export type LinkRef = string | number;

/** Options every kind takes; kind options are passed flat beside them. */
export interface LinkSpecBase {
  name: string;
  kind: string;
  mtu?: number;
  mac?: string;
  up?: boolean;
  /** Bridge, bond or vrf to enslave to. */
  master?: LinkRef;
  /** The namespace to create the link in. */
  netns?: NetnsRef;
  /** Parent interface, for macvlan, ipvlan, vlan (`ip link add link eth0 ...`). */
  link?: LinkRef;
  txQueueLen?: number;
  alias?: string;
  /** Device group (IFLA_GROUP); for a vxlan, a string is its multicast group address instead. */
  group?: number | string;
  numTxQueues?: number;
  numRxQueues?: number;
}

/** The peer end of a veth pair. */
export interface VethPeerSpec {
  name: string;
  netns?: NetnsRef;
  mtu?: number;
  mac?: string;
  txQueueLen?: number;
  numTxQueues?: number;
  numRxQueues?: number;
  up?: boolean;
}

export type LinkSpec = LinkSpecBase & { peer?: VethPeerSpec; [kindOption: string]: unknown };

/** What link.set() can change. */
export interface LinkChanges {
  up?: boolean;
  mtu?: number;
  mac?: string;
  name?: string;
  /** '' clears it. */
  alias?: string;
  /** null removes the link from its master (`nomaster`). */
  master?: LinkRef | null;
  netns?: NetnsRef;
  txQueueLen?: number;
  group?: number;
  promisc?: boolean;
  /** IFLA_INFO_DATA as hex, for a kind the library has no table for. */
  rawInfo?: string;
  /** IFLA_INFO_SLAVE_DATA as hex, for a master kind the library has no table for. */
  rawPortInfo?: string;
  /** IPv6 link-local address generation (IFLA_INET6_ADDR_GEN_MODE): 'eui64', 'none', 'stable_secret', 'random'. */
  addrGenMode?: 'eui64' | 'none' | 'stable_secret' | 'random';
  /**
   * Options of this link as a port of its master, named as `portInfo`
   * decodes them (bridge: learning, cost, priority, flood, hairpin,
   * isolated, ...; bond: queueId, prio): `ip link set X type bridge_slave ...`.
   */
  portInfo?: Record<string, unknown>;
}

export interface LinkFilter {
  /** Read another namespace's links through its id here (IFLA_TARGET_NETNSID), without a socket there. */
  nsid?: number;
  kind?: string;
  /** Links enslaved to this master (name or index). */
  master?: LinkRef;
  up?: boolean;
  name?: string;
}

const linkAttrs = () => rtLinkSchemas.attributeSet('link-attrs');
const IFINFOMSG_LEN = 16;
// Link shows these attributes; the rest of an RTM_NEWLINK (about 60
// attributes, 1.5 KB) is passed over undecoded: the legacy 32-bit counters,
// per-family configuration and statistics in IFLA_AF_SPEC (read by hand
// below for the one field Link shows), GSO/GRO limits, XDP, ... A dump of
// 2000 links spent most of its time decoding what nobody reads.
const LINK_FIELDS = [
  'ifname',
  'operstate',
  'mtu',
  'linkinfo',
  'address',
  'broadcast',
  'master',
  'link',
  'linkNetnsid',
  'ifalias',
  'propList',
  'txqlen',
  'qdisc',
  'group',
  'promiscuity',
  'allmulti',
  'minMtu',
  'maxMtu',
  'numTxQueues',
  'numRxQueues',
  'carrier',
  'stats64',
];
let linkSkip: ReadonlySet<number> | undefined;
function skippedLinkAttributes(): ReadonlySet<number> {
  if (!linkSkip) {
    const keep = new Set(LINK_FIELDS.map((n) => linkAttrs().typeOf(n)));
    const all = rtLinkSchemas.spec.attributeSets['link-attrs'].attributes.map((a) => a.value);
    linkSkip = new Set(all.filter((t) => !keep.has(t)));
  }
  return linkSkip;
}

/** IFLA_AF_SPEC (at `spec`) -> AF_INET6 -> IFLA_INET6_ADDR_GEN_MODE, without decoding the rest of the nest. */
function addrGenModeOf(buf: Buffer, spec: number): number | undefined {
  const inet6 = findAttribute(buf, spec + 4, spec + buf.readUInt16LE(spec), AF_INET6);
  if (inet6 < 0) return undefined;
  const mode = findAttribute(buf, inet6 + 4, inet6 + buf.readUInt16LE(inet6), IFLA_INET6_ADDR_GEN_MODE);
  return mode < 0 || buf.readUInt16LE(mode) < 5 ? undefined : buf[mode + 4];
}

/** Offset of the first attribute of `type` in buf[start, end), or -1 (a plain loop: it runs per link of a dump). */
function findAttribute(buf: Buffer, start: number, end: number, type: number): number {
  let pos = start;
  while (pos + 4 <= end) {
    const len = buf[pos] | (buf[pos + 1] << 8);
    if (len < 4 || pos + len > end) return -1;
    if (((buf[pos + 2] | (buf[pos + 3] << 8)) & NLA_TYPE_MASK) === type) return pos;
    pos += (len + 3) & ~3;
  }
  return -1;
}

// `ip` prints flags in this order (iproute2's print_link_flags); RUNNING
// is not printed, and UP without RUNNING shows as NO-CARRIER first.
const FLAG_NAMES: [number, string][] = [
  [IFF_LOOPBACK, 'LOOPBACK'],
  [IFF_BROADCAST, 'BROADCAST'],
  [IFF_POINTOPOINT, 'POINTOPOINT'],
  [IFF_MULTICAST, 'MULTICAST'],
  [IFF_NOARP, 'NOARP'],
  [IFF_ALLMULTI, 'ALLMULTI'],
  [IFF_PROMISC, 'PROMISC'],
  [IFF_MASTER, 'MASTER'],
  [IFF_SLAVE, 'SLAVE'],
  [IFF_DEBUG, 'DEBUG'],
  [IFF_DYNAMIC, 'DYNAMIC'],
  [IFF_AUTOMEDIA, 'AUTOMEDIA'],
  [IFF_PORTSEL, 'PORTSEL'],
  [IFF_NOTRAILERS, 'NOTRAILERS'],
  [IFF_UP, 'UP'],
  [IFF_LOWER_UP, 'LOWER_UP'],
  [IFF_DORMANT, 'DORMANT'],
  [IFF_ECHO, 'ECHO'],
];

/** IF_OPER_* by value, spelled as `ip` prints them. */
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];

export function flagNames(flags: number): string[] {
  const out: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) out.push('NO-CARRIER');
  // Indexed, not for-of with destructuring: this runs for every link of a
  // dump, the first ones in the interpreter, where iterators are slow.
  for (let i = 0; i < FLAG_NAMES.length; i++) if (flags & FLAG_NAMES[i][0]) out.push(FLAG_NAMES[i][1]);
  return out;
}

/**
 * Throws a TypeError unless `name` is a valid interface name (the kernel's
 * dev_valid_name). Names are at most 15 bytes; a lookup may also use an
 * alternative name, up to 127.
 */
export function validateLinkName(name: unknown, argument = 'name', size = IFNAMSIZ): asserts name is string {
  // A batch names the same device in every call: the last good name is not checked again.
  if (name === lastValidName && size >= lastValidSize) return;
  if (typeof name !== 'string') throw invalidType(argument, 'of type string', name);
  if (name === '' || name === '.' || name === '..') {
    throw invalidValue(argument, name, "must not be empty, '.' or '..'");
  }
  if (Buffer.byteLength(name) >= size) throw invalidValue(argument, name, `must be at most ${size - 1} bytes`);
  if (/[/:\s\0]/.test(name)) throw invalidValue(argument, name, "must not contain '/', ':', NUL or whitespace");
  lastValidName = name;
  lastValidSize = size;
}
let lastValidName: string | undefined;
let lastValidSize = 0;

function validateIndex(index: number, argument: string): void {
  if (!Number.isInteger(index) || index <= 0 || index > 0x7fffffff) {
    throw outOfRange(argument, 'a positive 32-bit interface index', index);
  }
}

function checkLinkRef(ref: unknown, argument: string): asserts ref is LinkRef {
  if (typeof ref === 'number') validateIndex(ref, argument);
  else if (typeof ref === 'string') validateLinkName(ref, argument, ALTIFNAMSIZ);
  else throw invalidType(argument, 'an interface name or index', ref);
}

/**
 * decodeLink by the generic schema walk into an intermediate object: the
 * reference the fixed-shape decodeLink is tested against (same output,
 * same key order, same DecodeErrors), and the baseline of
 * bench/decode-links.js.
 *
 * @internal
 * @example
 * expect(decodeLink(buf, 0, buf.length)).toEqual(decodeLinkGeneric(buf, 0, buf.length))
 */
export function decodeLinkGeneric(buf: Buffer, offset: number, length: number): Link {
  checkMessage(buf, offset, length, IFINFOMSG_LEN, 'link');
  const body = offset + NLMSG_HDRLEN;
  const flags = buf.readUInt32LE(body + 8);
  let afSpec = -1;
  const a = linkAttrs().decode(buf, body + IFINFOMSG_LEN, offset + length, {}, skippedLinkAttributes(), (type, at) => {
    if (type === IFLA_AF_SPEC) afSpec = at;
  });
  const index = buf.readInt32LE(body + 4);
  const link: Link = {
    index,
    name: (a.ifname as string) ?? '',
    up: (flags & IFF_UP) !== 0,
    operstate: OPERSTATES[a.operstate as number] ?? String(a.operstate ?? 'UNKNOWN'),
    mtu: (a.mtu as number) ?? 0,
    flags: flagNames(flags),
    linkType: buf.readUInt16LE(body + 2),
  };
  const info = a.linkinfo as Decoded | undefined;
  if (info?.kind !== undefined) link.kind = info.kind as string;
  if (a.address !== undefined) link.mac = a.address as string;
  if (a.broadcast !== undefined) link.broadcast = a.broadcast as string;
  if (a.master !== undefined) link.master = a.master as number;
  if (a.link !== undefined && a.link !== index) link.parentIndex = a.link as number;
  if (a.linkNetnsid !== undefined) link.netnsId = a.linkNetnsid as number;
  if (a.ifalias !== undefined) link.alias = a.ifalias as string;
  const props = a.propList as Decoded | undefined;
  if (props?.altIfname) link.altNames = props.altIfname as string[];
  if (a.txqlen !== undefined) link.txQueueLen = a.txqlen as number;
  if (a.qdisc !== undefined) link.qdisc = a.qdisc as string;
  if (a.group !== undefined) link.group = a.group as number;
  if (a.promiscuity !== undefined) link.promiscuity = a.promiscuity as number;
  if (a.allmulti !== undefined) link.allmulti = a.allmulti as number;
  if (a.minMtu !== undefined) link.minMtu = a.minMtu as number;
  if (a.maxMtu !== undefined) link.maxMtu = a.maxMtu as number;
  if (a.numTxQueues !== undefined) link.numTxQueues = a.numTxQueues as number;
  if (a.numRxQueues !== undefined) link.numRxQueues = a.numRxQueues as number;
  if (a.carrier !== undefined) link.carrier = a.carrier === 1;
  if (a.stats64 !== undefined) link.stats = a.stats64 as LinkStats;
  if (Buffer.isBuffer(info?.data)) link.rawInfo = (info.data as Buffer).toString('hex');
  else if (info?.data !== undefined) {
    const data = info.data as Record<string, unknown>;
    link.info = link.kind === 'vxlan' ? vxlanFromKernel(data) : data;
  }
  const mode = afSpec < 0 ? undefined : addrGenModeOf(buf, afSpec);
  if (mode !== undefined) link.addrGenMode = ADDR_GEN_MODE_NAMES[mode] ?? mode;
  if (info?.slaveKind !== undefined) link.portKind = info.slaveKind as string;
  if (Buffer.isBuffer(info?.slaveData)) link.rawPortInfo = (info.slaveData as Buffer).toString('hex');
  else if (info?.slaveData !== undefined) {
    link.portInfo = info.slaveData as Record<string, unknown>;
  }
  return link;
}

const linkinfoAttrs = () => rtLinkSchemas.attributeSet('linkinfo-attrs');
let stats64Struct: StructCodec | undefined;
/** sizeof(struct rtnl_link_stats64) as the spec knows it: 25 u64 counters. */
const STATS64_LEN = 25 * 8;
const STATS64_SCRATCH = new Float64Array(25);
/**
 * Every counter 0, in the struct's order: copied for each link and then
 * stored into (V8 compiles that in a quarter of the time a 25-field
 * literal of computed values takes: ~5 vs ~18 ms, during which a fresh
 * process decodes its first dump unoptimized).
 */
const STATS64_ZERO: LinkStats = {
  rxPackets: 0,
  txPackets: 0,
  rxBytes: 0,
  txBytes: 0,
  rxErrors: 0,
  txErrors: 0,
  rxDropped: 0,
  txDropped: 0,
  multicast: 0,
  collisions: 0,
  rxLengthErrors: 0,
  rxOverErrors: 0,
  rxCrcErrors: 0,
  rxFrameErrors: 0,
  rxFifoErrors: 0,
  rxMissedErrors: 0,
  txAbortedErrors: 0,
  txCarrierErrors: 0,
  txFifoErrors: 0,
  txHeartbeatErrors: 0,
  txWindowErrors: 0,
  rxCompressed: 0,
  txCompressed: 0,
  rxNohandler: 0,
  rxOtherhostDropped: 0,
};
const TWO_32 = 2 ** 32;

// Byte loads, not Buffer#readUInt32LE (which checks its argument and
// bounds on each call); here and in decodeLink's loops the caller has
// checked that the bytes lie inside the attribute.
const u32At = (buf: Buffer, at: number): number =>
  (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;

function badLength(type: number, pos: number, len: number): DecodeError {
  return new DecodeError(`attribute of type ${type} at offset ${pos} has bad length ${len}`);
}

/** A u32 attribute's value; shorter than 4 bytes is a DecodeError (the schema's own message), never a read past it. */
function u32Of(buf: Buffer, off: number, size: number, name: string): number {
  if (size < 4) throw new DecodeError(`${name}: u32 attribute with ${size} bytes`);
  return u32At(buf, off);
}

/**
 * A string attribute as the schema decodes it (up to the first NUL, UTF-8).
 * Names, kinds and qdiscs are short ASCII: built here without the call
 * into C++ that Buffer#toString costs for every one.
 */
function stringOf(buf: Buffer, off: number, end: number): string {
  let stop = off;
  while (stop < end && buf[stop] !== 0) stop++;
  if (stop - off > 32) return buf.toString('utf8', off, stop);
  let out = '';
  for (let i = off; i < stop; i++) {
    const c = buf[i];
    if (c >= 0x80) return buf.toString('utf8', off, stop);
    out += String.fromCharCode(c);
  }
  return out;
}

/** IFLA_STATS64 as the schema's rtnl-link-stats64 struct decodes it; an older kernel's shorter struct goes through the schema. */
function stats64Of(buf: Buffer, off: number, size: number): LinkStats {
  if (size < STATS64_LEN) {
    stats64Struct ??= rtLinkSchemas.struct('rtnl-link-stats64');
    return stats64Struct.decode(buf, off, size) as LinkStats;
  }
  // One loop of byte loads, no call per counter: the first links of a
  // process run in the interpreter, where 75 calls a link cost more than
  // the rest of the decoder.
  const v = STATS64_SCRATCH;
  for (let i = 0, at = off; i < 25; i++, at += 8) {
    const lo = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
    const hi = (buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24)) >>> 0;
    v[i] = hi * TWO_32 + lo;
  }
  const out = { ...STATS64_ZERO };
  out.rxPackets = v[0];
  out.txPackets = v[1];
  out.rxBytes = v[2];
  out.txBytes = v[3];
  out.rxErrors = v[4];
  out.txErrors = v[5];
  out.rxDropped = v[6];
  out.txDropped = v[7];
  out.multicast = v[8];
  out.collisions = v[9];
  out.rxLengthErrors = v[10];
  out.rxOverErrors = v[11];
  out.rxCrcErrors = v[12];
  out.rxFrameErrors = v[13];
  out.rxFifoErrors = v[14];
  out.rxMissedErrors = v[15];
  out.txAbortedErrors = v[16];
  out.txCarrierErrors = v[17];
  out.txFifoErrors = v[18];
  out.txHeartbeatErrors = v[19];
  out.txWindowErrors = v[20];
  out.rxCompressed = v[21];
  out.txCompressed = v[22];
  out.rxNohandler = v[23];
  out.rxOtherhostDropped = v[24];
  return out;
}

/** IFLA_PROP_LIST's alternative names (undefined when it has none). */
function altNamesOf(buf: Buffer, start: number, end: number): string[] | undefined {
  let names: string[] | undefined;
  let pos = start;
  while (pos + 4 <= end) {
    const len = buf.readUInt16LE(pos);
    const type = buf.readUInt16LE(pos + 2) & NLA_TYPE_MASK;
    if (len < 4 || pos + len > end) throw badLength(type, pos, len);
    if (type === IFLA_ALT_IFNAME) (names ??= []).push(stringOf(buf, pos + 4, pos + len));
    pos += (len + 3) & ~3;
  }
  return names;
}

/** What decodeLink takes from IFLA_LINKINFO. */
interface LinkInfoParts {
  kind: string | undefined;
  slaveKind: string | undefined;
  /** Kind options: an object, or a Buffer for a kind without a table. */
  data: unknown;
  slaveData: unknown;
}

/**
 * IFLA_LINKINFO: the kinds read here; a nest with kind or port options
 * (IFLA_INFO_DATA, IFLA_INFO_SLAVE_DATA) goes to the schema whole, since
 * those decode by the kind's sub-message table.
 */
function linkInfoOf(buf: Buffer, start: number, end: number): LinkInfoParts {
  let kind: string | undefined;
  let slaveKind: string | undefined;
  let pos = start;
  while (pos + 4 <= end) {
    const len = buf.readUInt16LE(pos);
    const type = buf.readUInt16LE(pos + 2) & NLA_TYPE_MASK;
    if (len < 4 || pos + len > end) throw badLength(type, pos, len);
    if (type === IFLA_INFO_KIND) kind = stringOf(buf, pos + 4, pos + len);
    else if (type === IFLA_INFO_SLAVE_KIND) slaveKind = stringOf(buf, pos + 4, pos + len);
    else if (type === IFLA_INFO_DATA || type === IFLA_INFO_SLAVE_DATA) {
      const info = linkinfoAttrs().decode(buf, start, end);
      return {
        kind: info.kind as string | undefined,
        slaveKind: info.slaveKind as string | undefined,
        data: info.data,
        slaveData: info.slaveData,
      };
    }
    pos += (len + 3) & ~3;
  }
  return { kind, slaveKind, data: undefined, slaveData: undefined };
}

/**
 * decodeLink's switch numbers the attributes it reads 1..23, by this table
 * (indexed by IFLA_* type, 0 = not read). A switch over the imported
 * IFLA_* constants compiles to a chain of loads from the constants module
 * and compares, run for each of the ~60 attributes of a link: it cost more
 * than the whole generic decoder. A switch over literal labels is a jump
 * table. (A const enum would name them, but isolatedModules emits it as an
 * object and the loads come back.)
 */
const FIELD_OF_TYPE = (() => {
  const table = new Uint8Array(256);
  table[IFLA_IFNAME] = 1;
  table[IFLA_OPERSTATE] = 2;
  table[IFLA_MTU] = 3;
  table[IFLA_LINKINFO] = 4;
  table[IFLA_ADDRESS] = 5;
  table[IFLA_BROADCAST] = 6;
  table[IFLA_MASTER] = 7;
  table[IFLA_LINK] = 8;
  table[IFLA_LINK_NETNSID] = 9;
  table[IFLA_IFALIAS] = 10;
  table[IFLA_PROP_LIST] = 11;
  table[IFLA_TXQLEN] = 12;
  table[IFLA_QDISC] = 13;
  table[IFLA_GROUP] = 14;
  table[IFLA_PROMISCUITY] = 15;
  table[IFLA_ALLMULTI] = 16;
  table[IFLA_MIN_MTU] = 17;
  table[IFLA_MAX_MTU] = 18;
  table[IFLA_NUM_TX_QUEUES] = 19;
  table[IFLA_NUM_RX_QUEUES] = 20;
  table[IFLA_CARRIER] = 21;
  table[IFLA_STATS64] = 22;
  table[IFLA_AF_SPEC] = 23;
  return table;
})();

/**
 * What one pass over a link message found: ifinfomsg, then the attributes
 * (undefined: absent; afSpec: offset of IFLA_AF_SPEC, or -1).
 */
class LinkParts {
  index = 0;
  linkType = 0;
  up = false;
  flags: string[] = [];
  addrGenMode: number | undefined = undefined;
  name: string | undefined = undefined;
  operstate: number | undefined = undefined;
  mtu: number | undefined = undefined;
  mac: string | undefined = undefined;
  broadcast: string | undefined = undefined;
  master: number | undefined = undefined;
  parent: number | undefined = undefined;
  netnsId: number | undefined = undefined;
  alias: string | undefined = undefined;
  altNames: string[] | undefined = undefined;
  txQueueLen: number | undefined = undefined;
  qdisc: string | undefined = undefined;
  group: number | undefined = undefined;
  promiscuity: number | undefined = undefined;
  allmulti: number | undefined = undefined;
  minMtu: number | undefined = undefined;
  maxMtu: number | undefined = undefined;
  numTxQueues: number | undefined = undefined;
  numRxQueues: number | undefined = undefined;
  carrier: number | undefined = undefined;
  stats: LinkStats | undefined = undefined;
  info: LinkInfoParts | undefined = undefined;
  afSpec = -1;

  reset(): void {
    this.name = undefined;
    this.operstate = undefined;
    this.mtu = undefined;
    this.mac = undefined;
    this.broadcast = undefined;
    this.master = undefined;
    this.parent = undefined;
    this.netnsId = undefined;
    this.alias = undefined;
    this.altNames = undefined;
    this.txQueueLen = undefined;
    this.qdisc = undefined;
    this.group = undefined;
    this.promiscuity = undefined;
    this.allmulti = undefined;
    this.minMtu = undefined;
    this.maxMtu = undefined;
    this.numTxQueues = undefined;
    this.numRxQueues = undefined;
    this.carrier = undefined;
    this.stats = undefined;
    this.info = undefined;
    this.afSpec = -1;
    this.addrGenMode = undefined;
  }
}

/**
 * Reused by every decodeLink call (reset first; nothing it calls decodes a
 * link): the walk's results stay out of the Link under construction.
 */
const scratch = new LinkParts();

/**
 * All of decodeLink's reading (ifinfomsg, then one pass over the
 * attributes), kept apart from building the Link. V8 optimizes this big
 * loop once; the Link's shape varies by link (lo has no kind, a port has
 * portInfo, ...), and a shape the optimized code had not seen deoptimizes
 * the code that builds it. Apart, that is only the small builder: in a
 * fresh process the second dump of 2000 veths starts with lo, and
 * recompiling the whole loop took longer than decoding the dump.
 */
function readLinkParts(buf: Buffer, offset: number, length: number, a: LinkParts): void {
  checkMessage(buf, offset, length, IFINFOMSG_LEN, 'link');
  const body = offset + NLMSG_HDRLEN;
  a.linkType = buf.readUInt16LE(body + 2);
  a.index = buf.readInt32LE(body + 4);
  const flags = buf.readUInt32LE(body + 8);
  a.up = (flags & IFF_UP) !== 0;
  a.flags = flagNames(flags);
  const end = offset + length;
  let pos = body + IFINFOMSG_LEN;
  while (pos + 4 <= end) {
    // Inlined byte loads: until V8 has compiled this loop, every call costs.
    const len = buf[pos] | (buf[pos + 1] << 8);
    const type = (buf[pos + 2] | (buf[pos + 3] << 8)) & NLA_TYPE_MASK;
    if (len < 4 || pos + len > end) throw badLength(type, pos, len);
    const field = type < 256 ? FIELD_OF_TYPE[type] : 0;
    if (field === 0) {
      pos += (len + 3) & ~3;
      continue;
    }
    const off = pos + 4;
    const size = len - 4;
    switch (field) {
      case 1: // IFLA_IFNAME
        a.name = stringOf(buf, off, off + size);
        break;
      case 2: // IFLA_OPERSTATE
        if (size < 1) throw new DecodeError(`operstate: u8 attribute with ${size} bytes`);
        a.operstate = buf[off];
        break;
      case 3: // IFLA_MTU
        a.mtu = u32Of(buf, off, size, 'mtu');
        break;
      case 4: // IFLA_LINKINFO
        a.info = linkInfoOf(buf, off, off + size);
        break;
      case 5: // IFLA_ADDRESS
        a.mac = formatMac(buf, off, size);
        break;
      case 6: // IFLA_BROADCAST
        a.broadcast = formatMac(buf, off, size);
        break;
      case 7: // IFLA_MASTER
        a.master = u32Of(buf, off, size, 'master');
        break;
      case 8: // IFLA_LINK
        a.parent = u32Of(buf, off, size, 'link');
        break;
      case 9: // IFLA_LINK_NETNSID
        if (size < 4) throw new DecodeError(`linkNetnsid: s32 attribute with ${size} bytes`);
        a.netnsId = buf.readInt32LE(off);
        break;
      case 10: // IFLA_IFALIAS
        a.alias = stringOf(buf, off, off + size);
        break;
      case 11: // IFLA_PROP_LIST
        a.altNames = altNamesOf(buf, off, off + size);
        break;
      case 12: // IFLA_TXQLEN
        a.txQueueLen = u32Of(buf, off, size, 'txqlen');
        break;
      case 13: // IFLA_QDISC
        a.qdisc = stringOf(buf, off, off + size);
        break;
      case 14: // IFLA_GROUP
        a.group = u32Of(buf, off, size, 'group');
        break;
      case 15: // IFLA_PROMISCUITY
        a.promiscuity = u32Of(buf, off, size, 'promiscuity');
        break;
      case 16: // IFLA_ALLMULTI
        a.allmulti = u32Of(buf, off, size, 'allmulti');
        break;
      case 17: // IFLA_MIN_MTU
        a.minMtu = u32Of(buf, off, size, 'minMtu');
        break;
      case 18: // IFLA_MAX_MTU
        a.maxMtu = u32Of(buf, off, size, 'maxMtu');
        break;
      case 19: // IFLA_NUM_TX_QUEUES
        a.numTxQueues = u32Of(buf, off, size, 'numTxQueues');
        break;
      case 20: // IFLA_NUM_RX_QUEUES
        a.numRxQueues = u32Of(buf, off, size, 'numRxQueues');
        break;
      case 21: // IFLA_CARRIER
        if (size < 1) throw new DecodeError(`carrier: u8 attribute with ${size} bytes`);
        a.carrier = buf[off];
        break;
      case 22: // IFLA_STATS64
        a.stats = stats64Of(buf, off, size);
        break;
      case 23: // IFLA_AF_SPEC
        a.afSpec = pos;
        break;
    }
    pos += (len + 3) & ~3;
  }
  if (a.afSpec >= 0) a.addrGenMode = addrGenModeOf(buf, a.afSpec);
}

/**
 * Decodes one RTM_NEWLINK message (at `offset`, `length` bytes) into a Link.
 *
 * One pass over the message (readLinkParts), then one object built
 * in a fixed order (so Links of one kind share V8's hidden class): a dump
 * of 2000 links spent half its time in the generic schema walk. The output
 * is decodeLinkGeneric's, key order included (test/unit/link-decode.test.ts).
 *
 * @example
 * const link = decodeLink(reply, 0, reply.length) // { index: 1, name: 'lo', ... }
 */
export function decodeLink(buf: Buffer, offset: number, length: number): Link {
  const a = scratch;
  a.reset();
  readLinkParts(buf, offset, length, a);
  const index = a.index;
  const link: Link = {
    index,
    name: a.name ?? '',
    up: a.up,
    operstate: a.operstate === undefined ? 'UNKNOWN' : (OPERSTATES[a.operstate] ?? String(a.operstate)),
    mtu: a.mtu ?? 0,
    flags: a.flags,
    linkType: a.linkType,
  };
  if (a.info?.kind !== undefined) link.kind = a.info.kind;
  if (a.mac !== undefined) link.mac = a.mac;
  if (a.broadcast !== undefined) link.broadcast = a.broadcast;
  if (a.master !== undefined) link.master = a.master;
  if (a.parent !== undefined && a.parent !== index) link.parentIndex = a.parent;
  if (a.netnsId !== undefined) link.netnsId = a.netnsId;
  if (a.alias !== undefined) link.alias = a.alias;
  if (a.altNames !== undefined) link.altNames = a.altNames;
  if (a.txQueueLen !== undefined) link.txQueueLen = a.txQueueLen;
  if (a.qdisc !== undefined) link.qdisc = a.qdisc;
  if (a.group !== undefined) link.group = a.group;
  if (a.promiscuity !== undefined) link.promiscuity = a.promiscuity;
  if (a.allmulti !== undefined) link.allmulti = a.allmulti;
  if (a.minMtu !== undefined) link.minMtu = a.minMtu;
  if (a.maxMtu !== undefined) link.maxMtu = a.maxMtu;
  if (a.numTxQueues !== undefined) link.numTxQueues = a.numTxQueues;
  if (a.numRxQueues !== undefined) link.numRxQueues = a.numRxQueues;
  if (a.carrier !== undefined) link.carrier = a.carrier === 1;
  if (a.stats !== undefined) link.stats = a.stats;
  if (a.info !== undefined) {
    if (Buffer.isBuffer(a.info.data)) link.rawInfo = a.info.data.toString('hex');
    else if (a.info.data !== undefined) {
      const data = a.info.data as Record<string, unknown>;
      link.info = link.kind === 'vxlan' ? vxlanFromKernel(data) : data;
    }
  }
  if (a.addrGenMode !== undefined) link.addrGenMode = ADDR_GEN_MODE_NAMES[a.addrGenMode] ?? a.addrGenMode;
  if (a.info !== undefined) {
    if (a.info.slaveKind !== undefined) link.portKind = a.info.slaveKind;
    if (Buffer.isBuffer(a.info.slaveData)) link.rawPortInfo = a.info.slaveData.toString('hex');
    else if (a.info.slaveData !== undefined) link.portInfo = a.info.slaveData as Record<string, unknown>;
  }
  return link;
}

/** ifinfomsg fields of a request. */
interface IfInfo {
  index?: number;
  flags?: number;
  change?: number;
}

/** Builds an RTM_*LINK message: ifinfomsg, then link-attrs from `attrs`. */
export function buildLinkMessage(type: number, flags: number, info: IfInfo, attrs: Record<string, unknown>): Buffer {
  const w = new Writer(256);
  const start = beginMessage(w, type, flags);
  writeIfInfo(w, info);
  linkAttrs().encode(w, attrs);
  finishMessage(w, start);
  return w.view();
}

function writeIfInfo(w: Writer, info: IfInfo): void {
  w.u8(AF_UNSPEC);
  w.u8(0);
  w.u16(0);
  w.s32(info.index ?? 0);
  w.u32(info.flags ?? 0);
  w.u32(info.change ?? 0);
}

/**
 * The attribute that names a link in a request. IFLA_IFNAME finds
 * altnames too, but its policy stops at 15 bytes; longer altnames go in
 * IFLA_ALT_IFNAME.
 */
function byName(name: string): Record<string, unknown> {
  return Buffer.byteLength(name) < IFNAMSIZ ? { ifname: name } : { altIfname: name };
}

/** A message addressed to one link, by index or by name. */
function buildForLink(type: number, ref: LinkRef, extra: Record<string, unknown> = {}): Buffer {
  return typeof ref === 'number'
    ? buildLinkMessage(type, NLM_F_REQUEST | NLM_F_ACK, { index: ref }, extra)
    : buildLinkMessage(type, NLM_F_REQUEST | NLM_F_ACK, {}, { ...byName(ref), ...extra });
}

/**
 * A lookup by name or index, the way `ip link show dev X` asks; in another
 * namespace by its nsid. Written by hand (the bytes buildForLink would
 * make, see its unit test): it is the request of every link.get.
 */
export function buildGetLink(ref: LinkRef, nsid?: number): Buffer {
  const w = new Writer(64);
  const start = beginMessage(w, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK);
  writeIfInfo(w, { index: typeof ref === 'number' ? ref : 0 });
  if (typeof ref === 'string') w.attrString(Buffer.byteLength(ref) < IFNAMSIZ ? IFLA_IFNAME : IFLA_ALT_IFNAME, ref);
  if (nsid !== undefined) {
    const at = w.begin(IFLA_TARGET_NETNSID);
    w.s32(nsid);
    w.end(at);
  }
  finishMessage(w, start);
  return w.view();
}

/** buildGetLink through the generic attribute encoder: what its unit test compares with. */
export function buildGetLinkGeneric(ref: LinkRef, nsid?: number): Buffer {
  return buildForLink(RTM_GETLINK, ref, nsid === undefined ? {} : { targetNetnsid: nsid });
}

/** IFLA_INET6_ADDR_GEN_MODE values, as `ip -d link` names them. */
const ADDR_GEN_MODES: Record<string, number> = {
  eui64: IN6_ADDR_GEN_MODE_EUI64,
  none: IN6_ADDR_GEN_MODE_NONE,
  stable_secret: IN6_ADDR_GEN_MODE_STABLE_PRIVACY,
  random: IN6_ADDR_GEN_MODE_RANDOM,
};
const ADDR_GEN_MODE_NAMES = Object.fromEntries(Object.entries(ADDR_GEN_MODES).map(([n, v]) => [v, n]));

const GENERAL_KEYS = new Set([
  'name',
  'kind',
  'mtu',
  'mac',
  'up',
  'master',
  'netns',
  'link',
  'txQueueLen',
  'alias',
  'group',
  'numTxQueues',
  'numRxQueues',
  'peer',
]);

/** What the API layer needs of a handle. */
export interface LinkContext {
  route(): NetlinkClient;
  /** The namespace fd for native calls (-1: the calling thread's); needed by link.tun only. */
  namespaceFd?(): number;
  /** A monitor in the handle's namespace; needed by waitFor only. */
  monitor?(options: MonitorOptions): Monitor;
}

/** The state link.waitFor() waits for; every field given must hold. */
export interface LinkWaitState {
  /** The link exists (default true); false waits for it to be gone. */
  present?: boolean;
  /** Administratively up. */
  up?: boolean;
  /** Has carrier (LOWER_UP). */
  carrier?: boolean;
  /** RFC 2863 state as `ip` prints it ('UP', 'DOWN', ...). */
  operstate?: string;
}

/**
 * The `link` group: list, get, add, set, del.
 *
 * @example
 * const links = await nl.link.list()
 * const lo = await nl.link.get('lo')
 */
export class LinkApi {
  /** tun/tap devices: create, open a queue as a packet stream, delete. */
  readonly tun: TunApi;
  /** Alternative names: add, del, list. */
  readonly altNames: AltNameApi;
  private readonly lookups = new Map<string, Promise<number>>();

  constructor(private readonly ctx: () => LinkContext) {
    this.tun = new TunApi(() => {
      const c = ctx();
      if (!c.namespaceFd) throw new Error('link.tun needs a handle that knows its namespace fd');
      return { namespaceFd: () => c.namespaceFd!() };
    }, this);
    this.altNames = new AltNameApi(ctx, this);
  }

  /**
   * Every link, or those matching the filter. With strict checking the
   * kernel filters by kind and master itself; the result is the same.
   *
   * @example
   * const ports = await h.link.list({ master: 'br0' })
   */
  async list(filter: LinkFilter = {}, options: RequestOptions = {}): Promise<Link[]> {
    const { message, accept } = await this.dumpRequest(filter);
    return dump(
      this.ctx().route(),
      message,
      (buf, off, len) => {
        const link = decodeLink(buf, off, len);
        return accept(link) ? link : undefined;
      },
      { ...options, operation: 'RTM_GETLINK' },
    );
  }

  /**
   * list() as an async iterable, decoded as datagrams arrive.
   *
   * @example
   * for await (const l of h.link.stream()) console.log(l.name)
   */
  stream(filter: LinkFilter = {}, options: RequestOptions = {}): AsyncIterable<Link> {
    return deferredStream(async () => {
      const { message, accept } = await this.dumpRequest(filter);
      return stream(
        this.ctx().route(),
        message,
        (buf, off, len) => {
          const link = decodeLink(buf, off, len);
          return accept(link) ? link : undefined;
        },
        { signal: options.signal, operation: 'RTM_GETLINK' },
      );
    });
  }

  private async dumpRequest(filter: LinkFilter): Promise<{ message: Buffer; accept: (l: Link) => boolean }> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    if (filter.kind !== undefined && typeof filter.kind !== 'string')
      throw invalidType('filter.kind', 'a string', filter.kind);
    if (filter.name !== undefined) validateLinkName(filter.name, 'filter.name');
    if (filter.master !== undefined) checkLinkRef(filter.master, 'filter.master');
    const master = filter.master === undefined ? undefined : await this.indexOf(filter.master);
    const attrs: Record<string, unknown> = {};
    const nsid = filter.nsid === undefined ? undefined : checkNsid(filter.nsid, 'filter.nsid');
    if (nsid !== undefined) attrs.targetNetnsid = nsid;
    if (master !== undefined) attrs.master = master;
    if (filter.kind !== undefined) attrs.linkinfo = { kind: filter.kind };
    const message = buildLinkMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, {}, attrs);
    const accept = (l: Link) =>
      (filter.kind === undefined || l.kind === filter.kind) &&
      (master === undefined || l.master === master) &&
      (filter.up === undefined || l.up === filter.up) &&
      (filter.name === undefined || l.name === filter.name);
    return { message, accept };
  }

  /**
   * One link by name, altname or index: a direct kernel lookup, not a dump.
   * Missing: NetlinkError with code 'ENODEV'.
   *
   * @example
   * const { index, mtu } = await nl.link.get('eth0')
   */
  async get(ref: LinkRef, options: RequestOptions & { nsid?: number } = {}): Promise<Link> {
    checkLinkRef(ref, 'link');
    const nsid = options.nsid === undefined ? undefined : checkNsid(options.nsid, 'options.nsid');
    const [link] = await request(
      this.ctx().route(),
      buildGetLink(ref, nsid),
      decodeLinkReply,
      { ...options, operation: 'RTM_GETLINK' },
      true,
    );
    if (!link) throw new Error(`RTM_GETLINK: the kernel answered without a link for ${ref}`);
    return link;
  }

  /**
   * Resolves when the kernel reports the link in the given state (default:
   * present), at once if it already is; rejects on timeout (code
   * 'ERR_RTNL_TIMEOUT') or abort. With `present: false` it resolves
   * undefined once the link is gone.
   *
   * @example
   * await h.link.waitFor('eth0', { up: true, carrier: true }, { timeout: 5000 })
   */
  async waitFor(ref: LinkRef, state: LinkWaitState = {}, options: WaitOptions = {}): Promise<Link | undefined> {
    checkLinkRef(ref, 'link');
    if (typeof state !== 'object' || state === null) throw invalidType('state', 'an object', state);
    for (const key of ['present', 'up', 'carrier'] as const)
      if (state[key] !== undefined && typeof state[key] !== 'boolean')
        throw invalidType(`state.${key}`, 'a boolean', state[key]);
    const present = state.present ?? true;
    const holds = (l: Link) =>
      (state.up === undefined || l.up === state.up) &&
      (state.carrier === undefined || (l.carrier ?? false) === state.carrier) &&
      (state.operstate === undefined || l.operstate === state.operstate);
    const look = async (): Promise<{ link: Link | undefined } | undefined> => {
      const link = await this.get(ref).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENODEV') return undefined;
        throw e;
      });
      if (!present) return link === undefined ? { link } : undefined;
      return link !== undefined && holds(link) ? { link } : undefined;
    };
    const found = await waitUntil(this.ctx(), ['link'], `link ${ref} ${JSON.stringify(state)}`, look, options);
    return found.link;
  }

  /**
   * The index of a link given by name or index (an index is returned as is).
   * Concurrent lookups of one name share one request (a batch of 100k
   * routes via 'eth0' asks once per round trip, not 100k times); nothing is
   * cached once it is answered, so renames are always seen.
   */
  async indexOf(ref: LinkRef): Promise<number> {
    checkLinkRef(ref, 'link');
    if (typeof ref === 'number') return ref;
    let lookup = this.lookups.get(ref);
    if (!lookup) {
      lookup = this.get(ref).then(
        (l) => {
          this.lookups.delete(ref);
          return l.index;
        },
        (error: unknown) => {
          this.lookups.delete(ref);
          throw error;
        },
      );
      this.lookups.set(ref, lookup);
    }
    return lookup;
  }

  /**
   * Creates a link. Kind options are passed flat and named like the
   * kernel's attributes (camelCase), e.g. `{ kind: 'bridge', name: 'br0',
   * vlanFiltering: 1 }`. An existing name rejects with code 'EEXIST'.
   *
   * @example
   * await nl.link.add({ kind: 'veth', name: 'a', peer: { name: 'b', netns: 'blue' } })
   * await nl.link.add({ kind: 'bridge', name: 'br0', up: true })
   */
  async add(spec: LinkSpec, options: RequestOptions = {}): Promise<void> {
    if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
    // Validate everything (building the message once) before any lookup or fd is made.
    const checked = buildAddLinkMessage(spec);
    if (selfContained(spec)) {
      // Nothing to look up and no namespace fd to carry: the checked message is the request.
      await request(this.ctx().route(), checked, null, { ...options, operation: 'RTM_NEWLINK' });
      return;
    }
    const resolved: LinkSpec = { ...spec };
    if (spec.master !== undefined) resolved.master = await this.indexOf(spec.master);
    if (spec.link !== undefined) resolved.link = await this.indexOf(spec.link);
    if (spec.dev !== undefined && spec.dev !== 0 && kindHasDev(spec.kind))
      resolved.dev = await this.indexOf(spec.dev as LinkRef);
    await withOptionalNetns(spec.netns, async (nsFd) => {
      await withOptionalNetns(spec.peer?.netns, async (peerFd) => {
        const message = buildAddLinkMessage(resolved, { netnsFd: nsFd, peerNetnsFd: peerFd });
        await request(this.ctx().route(), message, null, { ...options, operation: 'RTM_NEWLINK' });
      });
    });
  }

  /**
   * @internal For batch(): add() of a spec with nothing to look up and no
   * namespace fd to carry goes in bulk (see lib/batch.ts Preparer).
   */
  canPrepare(method: string, args: unknown[]): NetlinkClient | undefined {
    const [spec, options] = args as [LinkSpec | undefined, RequestOptions | undefined];
    if (method !== 'add' || typeof spec !== 'object' || spec === null || options?.signal) return undefined;
    return selfContained(spec) ? this.ctx().route() : undefined;
  }

  /** @internal For batch(): appends add()'s request to `out`. */
  prepareBatch(method: string, args: unknown[], out: Writer): undefined {
    out.bytes(buildAddLinkMessage(args[0] as LinkSpec));
    return undefined;
  }

  /**
   * Changes a link: up/down, mtu, mac, name, alias, master (null =
   * nomaster), namespace, queue length, group, promiscuous mode.
   *
   * @example
   * await nl.link.set('veth0', { up: true, mtu: 9000, master: 'br0' })
   */
  async set(ref: LinkRef, changes: LinkChanges, options: RequestOptions = {}): Promise<void> {
    checkLinkRef(ref, 'link');
    if (typeof changes !== 'object' || changes === null) throw invalidType('changes', 'an object', changes);
    for (const key of Object.keys(changes)) {
      if (!SET_KEYS.has(key))
        throw invalidValue(
          `changes.${key}`,
          (changes as Record<string, unknown>)[key],
          'is not something link.set() changes',
        );
    }
    if (changes.name !== undefined) validateLinkName(changes.name, 'changes.name');
    if (changes.netns !== undefined) checkNetnsRef(changes.netns, 'changes.netns');
    const attrs = linkAttributes(changes, 'changes');
    if (changes.addrGenMode !== undefined) {
      const mode = ADDR_GEN_MODES[changes.addrGenMode as string];
      if (mode === undefined)
        throw invalidValue(
          'changes.addrGenMode',
          changes.addrGenMode,
          `must be one of ${Object.keys(ADDR_GEN_MODES).join(', ')}`,
        );
      attrs.afSpec = { inet6: { addrGenMode: mode } };
    }
    if (changes.portInfo !== undefined) {
      if (typeof changes.portInfo !== 'object' || changes.portInfo === null)
        throw invalidType('changes.portInfo', 'an object of port options', changes.portInfo);
      // The options are the master's kind's: which one, the link says.
      const { portKind } = await this.get(ref);
      if (portKind === undefined)
        throw invalidValue(
          'changes.portInfo',
          changes.portInfo,
          `applies to a port of a bridge or bond; ${ref} has no master`,
        );
      attrs.linkinfo = { slaveKind: portKind, slaveData: changes.portInfo };
    }
    if (changes.master === null) attrs.master = 0;
    else if (changes.master !== undefined) attrs.master = await this.indexOf(changes.master);
    // Renaming needs the index; otherwise the name identifies the link.
    const index = typeof ref === 'number' ? ref : changes.name !== undefined ? await this.indexOf(ref) : 0;
    if (index === 0) Object.assign(attrs, byName(ref as string));
    let flags = 0;
    let change = 0;
    if (changes.up !== undefined) {
      change |= IFF_UP;
      if (changes.up) flags |= IFF_UP;
    }
    if (changes.promisc !== undefined) {
      change |= IFF_PROMISC;
      if (changes.promisc) flags |= IFF_PROMISC;
    }
    await withOptionalNetns(changes.netns, async (nsFd) => {
      if (nsFd !== undefined) attrs.netNsFd = nsFd;
      const message = buildLinkMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, { index, flags, change }, attrs);
      await request(this.ctx().route(), message, null, { ...options, operation: 'RTM_NEWLINK' });
    });
  }

  /**
   * Deletes a link (a veth takes its peer with it). Missing: code 'ENODEV'.
   *
   * @example
   * await nl.link.del('veth0')
   */
  async del(ref: LinkRef, options: RequestOptions = {}): Promise<void> {
    checkLinkRef(ref, 'link');
    const message = buildForLink(RTM_DELLINK, ref);
    await request(this.ctx().route(), message, null, { ...options, operation: 'RTM_DELLINK' });
  }
}

/**
 * The RTM_NEWLINK request link.add() sends for `spec`, validating it. Link
 * references (master, link, a vxlan's or xfrm's dev) must be indexes here
 * to be encoded (names are looked up by add()); namespace references travel
 * as the fds given.
 */
export function buildAddLinkMessage(spec: LinkSpec, fds: { netnsFd?: number; peerNetnsFd?: number } = {}): Buffer {
  if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
  validateLinkName(spec.name, 'spec.name');
  if (typeof spec.kind !== 'string' || spec.kind === '')
    throw invalidType('spec.kind', 'a non-empty string', spec.kind);
  if (!knownKinds().has(spec.kind))
    throw invalidValue('spec.kind', spec.kind, `must be a link kind: ${[...knownKinds()].sort().join(', ')}`);
  let kindOptions: Record<string, unknown> = {};
  // A vxlan's `group` is its multicast group (API.md), where other kinds'
  // `group` is the device group number: a string is the former.
  const vxlanGroup = spec.kind === 'vxlan' && typeof spec.group === 'string';
  for (const [key, value] of Object.entries(spec)) {
    if ((!GENERAL_KEYS.has(key) || (vxlanGroup && key === 'group')) && value !== undefined) kindOptions[key] = value;
  }
  if (spec.kind === 'vxlan') kindOptions = vxlanToKernel(kindOptions);
  // Tunnels, vxlan and xfrm name their lower device `dev` (the kernel's own IFLA_*_LINK): by name or index.
  if (kindOptions.dev !== undefined && kindOptions.dev !== 0 && kindHasDev(spec.kind)) {
    checkLinkRef(kindOptions.dev, 'spec.dev'); // 0: none, as iproute2 sends for tunnels
    if (typeof kindOptions.dev !== 'number') kindOptions.dev = 0; // add() resolves names first
  }
  if (spec.peer !== undefined && spec.kind !== 'veth') {
    throw invalidValue('spec.peer', spec.peer, "applies to kind 'veth' only");
  }
  if (spec.peer !== undefined) validateLinkName(spec.peer.name, 'spec.peer.name');
  if (spec.netns !== undefined) checkNetnsRef(spec.netns, 'spec.netns');
  if (spec.peer?.netns !== undefined) checkNetnsRef(spec.peer.netns, 'spec.peer.netns');
  if (spec.master !== undefined) checkLinkRef(spec.master, 'spec.master');
  if (spec.link !== undefined) checkLinkRef(spec.link, 'spec.link');
  const attrs = linkAttributes(vxlanGroup ? { ...spec, group: undefined } : spec, 'spec');
  if (typeof spec.master === 'number') attrs.master = spec.master;
  if (typeof spec.link === 'number') attrs.link = spec.link;
  if (fds.netnsFd !== undefined) attrs.netNsFd = fds.netnsFd;
  const w = new Writer(512);
  const start = beginMessage(w, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  writeIfInfo(w, upFlags(spec.up));
  linkAttrs().encode(w, attrs);
  const infoAt = w.begin(linkAttrs().typeOf('linkinfo')!);
  const infoSchema = rtLinkSchemas.attributeSet('linkinfo-attrs');
  infoSchema.encode(w, { kind: spec.kind });
  if (spec.kind === 'veth' || Object.keys(kindOptions).length > 0) {
    const dataAt = w.begin(infoSchema.typeOf('data')!);
    if (spec.kind === 'veth') writeVethPeer(w, spec, fds.peerNetnsFd);
    else encodeKindOptions(w, spec.kind, kindOptions);
    w.end(dataAt);
  }
  w.end(infoAt);
  finishMessage(w, start);
  return w.view();
}

const SET_KEYS = new Set([
  'up',
  'mtu',
  'mac',
  'name',
  'alias',
  'master',
  'netns',
  'txQueueLen',
  'group',
  'promisc',
  'addrGenMode',
  'portInfo',
]);

function decodeLinkReply(buf: Buffer, off: number, len: number, type: number): Link | undefined {
  return type === RTM_NEWLINK ? decodeLink(buf, off, len) : undefined;
}

function upFlags(up: boolean | undefined): IfInfo {
  return up === undefined ? {} : { flags: up ? IFF_UP : 0, change: IFF_UP };
}

function checkU32(value: unknown, argument: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(argument, 'an integer', value);
  if (value < min || value > 0xffffffff) throw outOfRange(argument, `>= ${min} and <= 4294967295`, value);
  return value;
}

/** The general link-attrs of a spec or change set (not master/link: those need lookups). */
function linkAttributes(
  spec: Omit<Partial<LinkSpecBase>, 'master'> & { name?: string },
  argument: string,
): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  if (spec.name !== undefined) attrs.ifname = spec.name;
  if (spec.mtu !== undefined) attrs.mtu = checkU32(spec.mtu, `${argument}.mtu`);
  if (spec.mac !== undefined) {
    if (typeof spec.mac !== 'string') throw invalidType(`${argument}.mac`, 'a MAC address string', spec.mac);
    const mac = parseMac(spec.mac);
    // Every kind link.add makes with a settable address is Ethernet-like: 6 bytes.
    if (!mac || mac.length !== 6)
      throw invalidValue(`${argument}.mac`, spec.mac, "must be a MAC address like '02:00:00:00:00:01'");
    attrs.address = mac;
  }
  if (spec.txQueueLen !== undefined) attrs.txqlen = checkU32(spec.txQueueLen, `${argument}.txQueueLen`);
  if (spec.alias !== undefined) {
    if (typeof spec.alias !== 'string') throw invalidType(`${argument}.alias`, 'a string', spec.alias);
    attrs.ifalias = spec.alias;
  }
  if (spec.group !== undefined) attrs.group = checkU32(spec.group, `${argument}.group`);
  if (spec.numTxQueues !== undefined) attrs.numTxQueues = checkU32(spec.numTxQueues, `${argument}.numTxQueues`, 1);
  if (spec.numRxQueues !== undefined) attrs.numRxQueues = checkU32(spec.numRxQueues, `${argument}.numRxQueues`, 1);
  if (spec.up !== undefined && typeof spec.up !== 'boolean') throw invalidType(`${argument}.up`, 'a boolean', spec.up);
  return attrs;
}

// Kinds without IFLA_INFO_DATA of their own (or none we table), beside those with a table.
const KINDS_WITHOUT_TABLES = [
  'veth',
  'dummy',
  'ifb',
  'wireguard',
  'nlmon',
  'vcan',
  'vxcan',
  'can',
  'team',
  'macsec',
  'hsr',
  'bareudp',
  'amt',
  'gtp',
  'batadv',
  'ip6erspan',
  'virt_wifi',
  'lowpan',
  'rmnet',
  'ipoib',
  'pfcp',
];
let kindSet: Set<string> | undefined;

/** Whether a kind has its own lower-device option `dev` (a name is looked up before sending). */
/** A spec whose request needs no interface looked up and no namespace fd: its checked message is the request. */
function selfContained(spec: LinkSpec): boolean {
  const needsDev = spec.dev !== undefined && spec.dev !== 0 && typeof spec.dev !== 'number' && kindHasDev(spec.kind);
  return (
    typeof spec.master !== 'string' &&
    typeof spec.link !== 'string' &&
    !needsDev &&
    spec.netns === undefined &&
    spec.peer?.netns === undefined
  );
}

function kindHasDev(kind: string): boolean {
  return rtLinkSchemas.subMessageFormat('linkinfo-data-msg', kind)?.attributes?.typeOf('dev') !== undefined;
}

/** Every kind link.add() accepts: those with option tables, and the option-less ones. */
export function knownKinds(): ReadonlySet<string> {
  kindSet ??= new Set([...rtLinkSchemas.subMessageSelectors('linkinfo-data-msg'), ...KINDS_WITHOUT_TABLES]);
  return kindSet;
}

/** Kind options into IFLA_INFO_DATA, through the kind's attribute set. */
function encodeKindOptions(w: Writer, kind: string, options: Record<string, unknown>): void {
  const format = rtLinkSchemas.subMessageFormat('linkinfo-data-msg', kind);
  if (!format) {
    const keys = Object.keys(options).join(', ');
    throw invalidValue('spec', keys, `has options (${keys}) that kind '${kind}' does not take`);
  }
  format.encode(w, options, `spec(${kind})`);
}

/**
 * VETH_INFO_PEER: an ifinfomsg and link attributes for the other end.
 * The peer inherits mtu, txQueueLen and queue counts it does not set.
 */
function writeVethPeer(w: Writer, spec: LinkSpec, peerNetnsFd: number | undefined): void {
  const peer = spec.peer;
  if (!peer) return;
  const inherited = {
    mtu: spec.mtu,
    txQueueLen: spec.txQueueLen,
    numTxQueues: spec.numTxQueues,
    numRxQueues: spec.numRxQueues,
    ...Object.fromEntries(Object.entries(peer).filter(([, v]) => v !== undefined)),
  };
  const attrs = linkAttributes({ ...inherited, name: peer.name }, 'spec.peer');
  if (peerNetnsFd !== undefined) attrs.netNsFd = peerNetnsFd;
  const at = w.begin(VETH_INFO_PEER);
  writeIfInfo(w, upFlags(peer.up));
  linkAttrs().encode(w, attrs);
  w.end(at);
}

async function withOptionalNetns<T>(ref: NetnsRef | undefined, fn: (fd: number | undefined) => Promise<T>): Promise<T> {
  if (ref === undefined) return fn(undefined);
  const ns = acquireNetnsFd(ref); // open until the kernel has answered
  try {
    return await fn(ns.fd);
  } finally {
    ns.release();
  }
}

registerDecoder(NETLINK_ROUTE, RTM_NEWLINK, { object: 'link', event: 'new', decode: decodeLink });
registerDecoder(NETLINK_ROUTE, RTM_DELLINK, { object: 'link', event: 'del', decode: decodeLink });
