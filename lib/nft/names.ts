/**
 * nftables names and values: families, hooks, chain priorities, set data
 * types, and how each typed value sits in a register (byte order and size
 * as `nft` puts them there).
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import { parseIP, formatIP, parseMac, formatMac } from '../netlink/address';
import {
  IPPROTO_DCCP,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  IPPROTO_GRE,
  IPPROTO_ESP,
  IPPROTO_AH,
  NFPROTO_ARP,
  NFPROTO_BRIDGE,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFPROTO_NETDEV,
  NF_ARP_IN,
  NF_ARP_OUT,
  NF_INET_FORWARD,
  NF_INET_INGRESS,
  NF_INET_LOCAL_IN,
  NF_INET_LOCAL_OUT,
  NF_INET_POST_ROUTING,
  NF_INET_PRE_ROUTING,
  NF_NETDEV_EGRESS,
  NF_NETDEV_INGRESS,
  IFNAMSIZ,
} from '../netlink/constants';

/** The nftables address families, as `nft` names them. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export const FAMILIES: Record<NftFamily, number> = {
  ip: NFPROTO_IPV4,
  ip6: NFPROTO_IPV6,
  inet: NFPROTO_INET,
  arp: NFPROTO_ARP,
  bridge: NFPROTO_BRIDGE,
  netdev: NFPROTO_NETDEV,
};
const FAMILY_NAMES = new Map(Object.entries(FAMILIES).map(([k, v]) => [v, k as NftFamily]));

export function familyValue(v: unknown, argument: string): number {
  if (typeof v !== 'string') throw invalidType(argument, 'a string', v);
  const n = (FAMILIES as Record<string, number>)[v];
  if (n === undefined) throw invalidValue(argument, v, `must be one of ${Object.keys(FAMILIES).join(', ')}`);
  return n;
}

export function familyName(n: number): NftFamily | number {
  return FAMILY_NAMES.get(n) ?? n;
}

const INET_HOOKS: Record<string, number> = {
  prerouting: NF_INET_PRE_ROUTING,
  input: NF_INET_LOCAL_IN,
  forward: NF_INET_FORWARD,
  output: NF_INET_LOCAL_OUT,
  postrouting: NF_INET_POST_ROUTING,
};

/** Hooks by family, as `nft` names them. */
export const HOOKS: Record<NftFamily, Record<string, number>> = {
  ip: INET_HOOKS,
  ip6: INET_HOOKS,
  inet: { ...INET_HOOKS, ingress: NF_INET_INGRESS },
  // The bridge family numbers its hooks like the IP ones (NF_BR_PRE_ROUTING ... NF_BR_POST_ROUTING).
  bridge: INET_HOOKS,
  arp: { input: NF_ARP_IN, output: NF_ARP_OUT },
  netdev: { ingress: NF_NETDEV_INGRESS, egress: NF_NETDEV_EGRESS },
};

export function hookValue(family: NftFamily, v: unknown, argument: string): number {
  if (typeof v !== 'string') throw invalidType(argument, 'a string', v);
  const n = HOOKS[family][v];
  if (n === undefined) {
    throw invalidValue(argument, v, `must be a hook of the ${family} family: ${Object.keys(HOOKS[family]).join(', ')}`);
  }
  return n;
}

export function hookName(family: NftFamily | number, n: number): string | number {
  if (typeof family === 'number') return n;
  for (const [name, value] of Object.entries(HOOKS[family])) if (value === n) return name;
  return n;
}

/** `nft`'s named priorities (ip, ip6, inet, arp, netdev; the bridge family has its own). */
const PRIORITIES: Record<string, number> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};
const BRIDGE_PRIORITIES: Record<string, number> = { dstnat: -300, filter: -200, out: 100, srcnat: 300 };

export function priorityValue(family: NftFamily, v: unknown, argument: string): number {
  if (typeof v === 'string') {
    const table = family === 'bridge' ? BRIDGE_PRIORITIES : PRIORITIES;
    const n = table[v];
    if (n === undefined) throw invalidValue(argument, v, `must be a number or one of ${Object.keys(table).join(', ')}`);
    return n;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer or a priority name', v);
  if (v < -2147483648 || v > 2147483647) throw outOfRange(argument, '>= -2147483648 and <= 2147483647', v);
  return v;
}

export const CHAIN_TYPES = ['filter', 'nat', 'route'] as const;

/** IP protocols by the names `nft` uses for `meta l4proto`. */
export const L4PROTOS: Record<string, number> = {
  tcp: IPPROTO_TCP,
  udp: IPPROTO_UDP,
  udplite: IPPROTO_UDPLITE,
  sctp: IPPROTO_SCTP,
  dccp: IPPROTO_DCCP,
  icmp: IPPROTO_ICMP,
  icmpv6: IPPROTO_ICMPV6,
  gre: IPPROTO_GRE,
  esp: IPPROTO_ESP,
  ah: IPPROTO_AH,
};
const L4PROTO_NAMES = new Map(Object.entries(L4PROTOS).map(([k, v]) => [v, k]));
/** Protocols whose header starts with 16-bit source and destination ports. */
export const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'udplite', 'sctp', 'dccp']);

export function l4protoValue(v: unknown, argument: string): number {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw outOfRange(argument, '>= 0 and <= 255', v);
    return v;
  }
  if (typeof v !== 'string') throw invalidType(argument, 'a protocol name or number', v);
  const n = L4PROTOS[v];
  if (n === undefined)
    throw invalidValue(argument, v, `must be a number or one of ${Object.keys(L4PROTOS).join(', ')}`);
  return n;
}

export function l4protoName(n: number): string | number {
  return L4PROTO_NAMES.get(n) ?? n;
}

/**
 * Set key and map data types: nft's datatype numbers (its `enum datatypes`,
 * which `nft list` needs to print the set), the size of one value, and how
 * a value is written.
 */
export interface DataType {
  name: string;
  /** nftables' userspace datatype id (NFTA_SET_KEY_TYPE / NFTA_SET_DATA_TYPE). */
  id: number;
  len: number;
  encode(v: unknown, argument: string): Buffer;
  decode(b: Buffer): string | number;
}

function u32le(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

function integer(v: unknown, argument: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer', v);
  if (v < 0 || v > max) throw outOfRange(argument, `>= 0 and <= ${max}`, v);
  return v;
}

export function ipBytes(v: unknown, family: 4 | 6, argument: string): Buffer {
  if (typeof v !== 'string') throw invalidType(argument, 'an address string', v);
  const ip = parseIP(v);
  if (!ip || ip.family !== family) throw invalidValue(argument, v, `must be an IPv${family} address`);
  return Buffer.from(ip.bytes);
}

export const DATA_TYPES: Record<string, DataType> = {
  ipv4_addr: {
    name: 'ipv4_addr',
    id: 7,
    len: 4,
    encode: (v, a) => ipBytes(v, 4, a),
    decode: (b) => formatIP(b, 0, 4),
  },
  ipv6_addr: {
    name: 'ipv6_addr',
    id: 8,
    len: 16,
    encode: (v, a) => ipBytes(v, 6, a),
    decode: (b) => formatIP(b, 0, 16),
  },
  ether_addr: {
    name: 'ether_addr',
    id: 9,
    len: 6,
    encode: (v, a) => {
      const mac = typeof v === 'string' ? parseMac(v) : null;
      if (!mac) throw invalidValue(a, v, "must be a MAC address like 'aa:bb:cc:dd:ee:ff'");
      return Buffer.from(mac);
    },
    decode: (b) => formatMac(b, 0, 6),
  },
  inet_proto: {
    name: 'inet_proto',
    id: 12,
    len: 1,
    encode: (v, a) => Buffer.from([l4protoValue(v, a)]),
    decode: (b) => l4protoName(b[0]),
  },
  inet_service: {
    name: 'inet_service',
    id: 13,
    len: 2,
    encode: (v, a) => {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(integer(v, a, 65535), 0);
      return b;
    },
    decode: (b) => b.readUInt16BE(0),
  },
  mark: {
    name: 'mark',
    id: 19,
    len: 4,
    encode: (v, a) => u32le(integer(v, a, 0xffffffff)),
    decode: (b) => b.readUInt32LE(0),
  },
  iface_index: {
    name: 'iface_index',
    id: 20,
    len: 4,
    encode: (v, a) => u32le(integer(v, a, 0xffffffff)),
    decode: (b) => b.readUInt32LE(0),
  },
  ifname: {
    name: 'ifname',
    id: 41,
    len: IFNAMSIZ,
    encode: (v, a) => ifnameBytes(v, a),
    decode: (b) => b.toString('utf8', 0, b.indexOf(0) === -1 ? b.length : b.indexOf(0)),
  },
};
const DATA_TYPE_BY_ID = new Map(Object.values(DATA_TYPES).map((t) => [t.id, t]));

export function dataTypeByName(v: unknown, argument: string): DataType {
  if (typeof v !== 'string') throw invalidType(argument, 'a string', v);
  const t = DATA_TYPES[v];
  if (!t) throw invalidValue(argument, v, `must be one of ${Object.keys(DATA_TYPES).join(', ')}`);
  return t;
}

export function dataTypeById(id: number): DataType | undefined {
  return DATA_TYPE_BY_ID.get(id);
}

/** An interface name as `meta iifname` compares it: NUL-padded to IFNAMSIZ. */
export function ifnameBytes(v: unknown, argument: string): Buffer {
  if (typeof v !== 'string') throw invalidType(argument, 'a string', v);
  if (v.length === 0 || Buffer.byteLength(v) >= IFNAMSIZ) {
    throw invalidValue(argument, v, `must be 1 to ${IFNAMSIZ - 1} bytes long`);
  }
  const b = Buffer.alloc(IFNAMSIZ);
  b.write(v, 0);
  return b;
}

/** The verdict map data type: NFT_DATA_VERDICT, nft's TYPE_VERDICT is 1. */
export const VERDICT_DATA_TYPE = 0xffffff00;

export const LIMIT_UNITS: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  week: 604800,
};

/** syslog levels as `nft log level` names them. */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'audit'];

export { formatIP };
