/**
 * iproute2 as the oracle for rules and neighbours: turns what `ip -j -d rule show`, `ip -j neigh show`
 * and `bridge -j fdb show` print into the objects the library must decode, written from iproute2's
 * output format alone (never from the library's decoder), so a test comparing the two can fail.
 */
import { NLA_TYPE_MASK } from '../../lib/netlink/attributes';
import type { Neighbour } from '../../lib/neigh';
import type { Rule } from '../../lib/rule';

/** One entry of `ip -j -d rule show`. */
export type IpRule = Record<string, unknown>;
/** One entry of `ip -j neigh show` / `bridge -j fdb show`. */
export type IpNeigh = Record<string, unknown>;

const TABLES: Record<string, number> = { unspec: 0, default: 253, main: 254, local: 255 };
const ACTIONS = ['blackhole', 'unreachable', 'prohibit'];

function cidr(address: string, length: unknown, family: 4 | 6): string {
  return `${address}/${length === undefined ? (family === 4 ? 32 : 128) : Number(length)}`;
}

function range(obj: IpRule, key: string): { start: number; end: number } | undefined {
  if (obj[key] !== undefined) return { start: Number(obj[key]), end: Number(obj[key]) };
  if (obj[`${key}_start`] !== undefined) return { start: Number(obj[`${key}_start`]), end: Number(obj[`${key}_end`]) };
  return undefined;
}

/** The Rule a library decode must produce for one `ip -j -d rule show` entry of the given family. */
export function ruleFromIp(r: IpRule, family: 4 | 6): Rule {
  const out: Record<string, unknown> = { family, priority: r.priority };
  out.table = r.table === undefined ? 0 : (TABLES[r.table as string] ?? Number(r.table));
  out.action =
    'nop' in r
      ? 'nop'
      : r.goto !== undefined
        ? 'goto'
        : ACTIONS.includes(r.action as string)
          ? r.action
          : r.action !== undefined
            ? Number(r.action)
            : 'lookup';
  if (r.src !== undefined && r.src !== 'all') out.src = cidr(r.src as string, r.srclen, family);
  if (r.dst !== undefined) out.dst = cidr(r.dst as string, r.dstlen, family);
  if ('not' in r) out.invert = true;
  if (r.iif !== undefined) out.iif = r.iif;
  if ('iif_detached' in r) out.iifDetached = true;
  if (r.oif !== undefined) out.oif = r.oif;
  if ('oif_detached' in r) out.oifDetached = true;
  if (r.fwmark !== undefined) out.fwmark = Number(r.fwmark);
  if (r.fwmask !== undefined) out.fwmask = Number(r.fwmask);
  if (r.tos !== undefined) out.tos = Number(r.tos);
  if (r.uid_start !== undefined) out.uidRange = { start: r.uid_start, end: r.uid_end };
  if (r.ipproto !== undefined) out.ipProto = r.ipproto;
  const sport = range(r, 'sport');
  if (sport) out.sportRange = sport;
  const dport = range(r, 'dport');
  if (dport) out.dportRange = dport;
  if ('l3mdev' in r) out.l3mdev = true;
  if (r.goto !== undefined) out.goto = r.goto;
  if ('unresolved' in r) out.unresolved = true;
  if (r.suppress_prefixlen !== undefined) out.suppressPrefixlength = r.suppress_prefixlen;
  if (r.suppress_ifgroup !== undefined)
    out.suppressIfgroup = r.suppress_ifgroup === 'default' ? 0 : Number(r.suppress_ifgroup);
  if (r.protocol !== undefined) out.protocol = /^\d+$/.test(r.protocol as string) ? Number(r.protocol) : r.protocol;
  if (r.tun_id !== undefined) out.tunId = r.tun_id;
  if (r.flow_from !== undefined || r.flow_to !== undefined)
    out.realms = { from: realm(r.flow_from), to: realm(r.flow_to) };
  return out as unknown as Rule;
}

function realm(v: unknown): number {
  return v === undefined || v === 'cosmos' ? 0 : Number(v);
}

// `ip -j neigh` prints flags as keys with null values.
const NEIGH_FLAG_KEYS: Record<string, string> = {
  router: 'router',
  proxy: 'proxy',
  extern_learn: 'extern_learn',
  offload: 'offload',
  managed: 'managed',
};

/** The Neighbour a library decode must produce for one `ip -j neigh show` entry (flags and state as sets). */
export function neighbourFromIp(n: IpNeigh, family: 4 | 6, indexOf: (name: string) => number): Partial<Neighbour> {
  const out: Partial<Neighbour> = {
    index: indexOf(n.dev as string),
    family,
    address: n.dst as string,
    state: (n.state as string[] | undefined) ?? [],
    flags: Object.keys(NEIGH_FLAG_KEYS)
      .filter((k) => k in n)
      .sort(),
  };
  if (n.lladdr !== undefined) out.mac = n.lladdr as string;
  if (n.protocol !== undefined) out.protocol = n.protocol as string;
  return out;
}

/** `bridge -j fdb show` prints one state word; the NUD bits each word stands for. */
export function fdbStateMatches(word: string, state: string[]): boolean {
  switch (word) {
    case 'permanent':
      return state.includes('PERMANENT');
    case 'static':
      return state.includes('NOARP') && !state.includes('PERMANENT');
    case 'stale':
      return state.includes('STALE') && !state.includes('PERMANENT') && !state.includes('NOARP');
    case '':
      return state.includes('REACHABLE') && !state.includes('PERMANENT') && !state.includes('NOARP');
    default:
      return false;
  }
}

/** The fields of an FDB entry `bridge -j fdb show` prints, as the library names them (state aside). */
export function fdbFromBridge(e: IpNeigh, indexOf: (name: string) => number, dev?: string): Partial<Neighbour> {
  const out: Partial<Neighbour> = {
    index: indexOf((e.ifname as string | undefined) ?? dev!),
    family: 'bridge',
    mac: e.mac as string,
    flags: [...(e.flags as string[])].sort(),
  };
  if (e.dst !== undefined) out.dst = e.dst as string;
  if (e.port !== undefined) out.port = e.port as number;
  if (e.vni !== undefined) out.vni = e.vni as number;
  if (e.src_vni !== undefined) out.srcVni = e.src_vni as number;
  if (e.viaIf !== undefined) out.via = indexOf(e.viaIf as string);
  if (e.master !== undefined) out.master = indexOf(e.master as string);
  if (e.vlan !== undefined) out.vlan = e.vlan as number;
  if (e.nhid !== undefined) out.nhId = e.nhid as number;
  return out;
}

/** The fields fdbFromBridge knows, picked from a decoded entry, for a whole-object comparison. */
export function fdbComparable(n: Neighbour): Partial<Neighbour> {
  const out: Partial<Neighbour> = { index: n.index, family: n.family, mac: n.mac, flags: [...n.flags].sort() };
  for (const key of ['dst', 'port', 'vni', 'srcVni', 'via', 'master', 'vlan', 'nhId'] as const) {
    if (n[key] !== undefined) (out as Record<string, unknown>)[key] = n[key];
  }
  return out;
}

/** A decoded neighbour with only the fields `ip -j neigh show` prints. */
export function neighbourComparable(n: Neighbour): Partial<Neighbour> {
  const out: Partial<Neighbour> = {
    index: n.index,
    family: n.family,
    address: n.address,
    state: n.state,
    flags: [...n.flags].sort(),
  };
  if (n.mac !== undefined) out.mac = n.mac;
  if (n.protocol !== undefined) out.protocol = n.protocol;
  return out;
}

/**
 * A request message reduced to what the kernel reads from it: type, flags, the fixed header, and the
 * attributes as a sorted list (iproute2 and the library order them differently; the library also marks
 * big-endian attributes with NLA_F_NET_BYTEORDER, which the kernel masks off).
 */
export function requestShape(
  bytes: Buffer,
  headerLength: number,
  ignore: { headerBytes?: number[] } = {},
): { type: number; flags: number; header: string; attributes: string[] } {
  const header = Buffer.from(bytes.subarray(16, 16 + headerLength));
  for (const i of ignore.headerBytes ?? []) header[i] = 0;
  const attributes: string[] = [];
  for (let off = 16 + headerLength; off + 4 <= bytes.length;) {
    const len = bytes.readUInt16LE(off);
    const type = bytes.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    attributes.push(`${type}:${bytes.subarray(off + 4, off + len).toString('hex')}`);
    off += (len + 3) & ~3;
  }
  return {
    type: bytes.readUInt16LE(4),
    flags: bytes.readUInt16LE(6),
    header: header.toString('hex'),
    attributes: attributes.sort(),
  };
}
