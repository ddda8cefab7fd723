/**
 * Classifier kinds (u32, flower, matchall, bpf, fw, basic): typed options
 * both ways, written in the order iproute2's `tc` writes them.
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import {
  Writer,
  attrU8 as readU8Attribute,
  attrU16 as readU16Attribute,
  attrU32 as readU32Attribute,
  forEachAttribute,
} from '../netlink/attributes';
import { formatIP, formatMac, parseMac, parsePrefix } from '../netlink/address';
import {
  ETH_P_ALL,
  TCA_BASIC_ACT,
  TCA_BASIC_CLASSID,
  TCA_BPF_ACT,
  TCA_BPF_CLASSID,
  TCA_BPF_FD,
  TCA_BPF_FLAGS,
  TCA_BPF_FLAGS_GEN,
  TCA_BPF_FLAG_ACT_DIRECT,
  TCA_BPF_ID,
  TCA_BPF_NAME,
  TCA_BPF_OPS,
  TCA_BPF_OPS_LEN,
  TCA_BPF_TAG,
  TCA_CLS_FLAGS_IN_HW,
  TCA_CLS_FLAGS_NOT_IN_HW,
  TCA_CLS_FLAGS_SKIP_HW,
  TCA_CLS_FLAGS_SKIP_SW,
  TCA_FLOWER_ACT,
  TCA_FLOWER_CLASSID,
  TCA_FLOWER_FLAGS,
  TCA_FLOWER_INDEV,
  TCA_FLOWER_KEY_ETH_DST,
  TCA_FLOWER_KEY_ETH_DST_MASK,
  TCA_FLOWER_KEY_ETH_SRC,
  TCA_FLOWER_KEY_ETH_SRC_MASK,
  TCA_FLOWER_KEY_ETH_TYPE,
  TCA_FLOWER_KEY_IPV4_DST,
  TCA_FLOWER_KEY_IPV4_DST_MASK,
  TCA_FLOWER_KEY_IPV4_SRC,
  TCA_FLOWER_KEY_IPV4_SRC_MASK,
  TCA_FLOWER_KEY_IPV6_DST,
  TCA_FLOWER_KEY_IPV6_DST_MASK,
  TCA_FLOWER_KEY_IPV6_SRC,
  TCA_FLOWER_KEY_IPV6_SRC_MASK,
  TCA_FLOWER_KEY_IP_PROTO,
  TCA_FLOWER_KEY_IP_TOS,
  TCA_FLOWER_KEY_IP_TTL,
  TCA_FLOWER_KEY_TCP_DST,
  TCA_FLOWER_KEY_TCP_SRC,
  TCA_FLOWER_KEY_UDP_DST,
  TCA_FLOWER_KEY_UDP_SRC,
  TCA_FLOWER_KEY_VLAN_ID,
  TCA_FLOWER_KEY_VLAN_PRIO,
  TCA_FW_ACT,
  TCA_FW_CLASSID,
  TCA_FW_INDEV,
  TCA_FW_MASK,
  TCA_MATCHALL_ACT,
  TCA_MATCHALL_CLASSID,
  TCA_MATCHALL_FLAGS,
  TCA_U32_ACT,
  TCA_U32_CLASSID,
  TCA_U32_DIVISOR,
  TCA_U32_FLAGS,
  TCA_U32_HASH,
  TCA_U32_INDEV,
  TCA_U32_LINK,
  TCA_U32_PCNT,
  TCA_U32_SEL,
  TC_U32_TERMINAL,
} from '../netlink/constants';
import { decodeActionList, encodeActionList } from './actions';
import { formatHandle, parseHandle } from './handles';
import type { Options } from './qdiscs';

export interface FilterEncodeContext {
  argument: string;
  /** The filter's protocol (EtherType, host order). */
  protocol: number;
}

export interface FilterCodec {
  keys: readonly string[];
  encode(w: Writer, o: Options, c: FilterEncodeContext): void;
  decode(buf: Buffer, start: number, end: number): Options;
}

function int(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer', v);
  if (v < min || v > max) throw outOfRange(argument, `>= ${min} and <= ${max}`, v);
  return v;
}
const u32 = (v: unknown, a: string) => int(v, a, 0, 0xffffffff);

function attrs(buf: Buffer, start: number, end: number): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  forEachAttribute(buf, start, end, (type, _f, off, len) => m.set(type, [off, len]));
  return m;
}

function classid(w: Writer, type: number, v: unknown, argument: string): void {
  if (v !== undefined) w.attrU32(type, parseHandle(v, argument, 'classid'));
}

/** skipHw/skipSw as TCA_CLS_FLAGS_*. */
function clsFlags(o: Options, argument: string): number {
  let flags = 0;
  if (o.skipHw !== undefined && typeof o.skipHw !== 'boolean')
    throw invalidType(`${argument}.skipHw`, 'a boolean', o.skipHw);
  if (o.skipSw !== undefined && typeof o.skipSw !== 'boolean')
    throw invalidType(`${argument}.skipSw`, 'a boolean', o.skipSw);
  if (o.skipHw) flags |= TCA_CLS_FLAGS_SKIP_HW;
  if (o.skipSw) flags |= TCA_CLS_FLAGS_SKIP_SW;
  return flags;
}

function decodeClsFlags(out: Options, flags: number): void {
  if (flags & TCA_CLS_FLAGS_SKIP_HW) out.skipHw = true;
  if (flags & TCA_CLS_FLAGS_SKIP_SW) out.skipSw = true;
  if (flags & TCA_CLS_FLAGS_IN_HW) out.inHw = true;
  if (flags & TCA_CLS_FLAGS_NOT_IN_HW) out.notInHw = true;
}

function indev(w: Writer, type: number, v: unknown, argument: string): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || v === '' || Buffer.byteLength(v) > 15)
    throw invalidType(argument, 'an interface name', v);
  w.attrString(type, v);
}

function readString(buf: Buffer, [off, len]: [number, number]): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end === -1 || end > off + len ? off + len : end);
}

// ---- u32 -------------------------------------------------------------------------

/** A raw u32 key: the bits `mask` of the word at byte `at` (of the IP header, or of the next header) equal `value`. */
export interface U32Key {
  value: number;
  mask: number;
  at: number;
  /** Offsets count from the transport header (tc's 'nexthdr+'). */
  nexthdr?: boolean;
}

/** One u32 match, as tc writes it after `match`. */
export type U32Match =
  | { u32: U32Key }
  | { u16: U32Key }
  | { u8: U32Key }
  | {
      ip: {
        src?: string;
        dst?: string;
        protocol?: number | string;
        tos?: number | { value: number; mask: number };
        sport?: number | { value: number; mask: number };
        dport?: number | { value: number; mask: number };
      };
    }
  | { ip6: { src?: string; dst?: string; protocol?: number | string; sport?: number; dport?: number } }
  | { tcp: { src?: number; dst?: number } }
  | { udp: { src?: number; dst?: number } };

const IP_PROTOCOLS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  sctp: 132,
};

function ipProtocol(v: unknown, argument: string): number {
  if (typeof v === 'string' && IP_PROTOCOLS[v] !== undefined) return IP_PROTOCOLS[v];
  if (typeof v === 'number') return int(v, argument, 0, 255);
  throw invalidValue(argument, v, `must be a protocol number or one of ${Object.keys(IP_PROTOCOLS).join(', ')}`);
}

interface RawKey {
  mask: number;
  val: number;
  off: number;
  offmask: number;
}

/** tc's pack_key: keys at the same word merge; conflicting bits are an error. */
function packKey(keys: RawKey[], value: number, mask: number, off: number, offmask: number, argument: string): void {
  const val = (value & mask) >>> 0;
  for (const k of keys) {
    if (k.off === off && k.offmask === offmask) {
      if (((val ^ k.val) & mask & k.mask) !== 0)
        throw invalidValue(argument, value, 'conflicts with another match on the same bits');
      k.val = (k.val | val) >>> 0;
      k.mask = (k.mask | mask) >>> 0;
      return;
    }
  }
  if (off % 4 !== 0) throw invalidValue(argument, off, 'must be a multiple of 4 for a 32-bit key');
  if (keys.length >= 128) throw outOfRange(argument, 'at most 128 keys', keys.length + 1);
  keys.push({ mask: mask >>> 0, val, off, offmask });
}

function packSized(keys: RawKey[], bits: 8 | 16 | 32, key: U32Key, argument: string): void {
  if (typeof key !== 'object' || key === null) throw invalidType(argument, '{ value, mask, at }', key);
  const max = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const value = int(key.value, `${argument}.value`, 0, max);
  const mask = key.mask === undefined ? max : int(key.mask, `${argument}.mask`, 0, max);
  const at = int(key.at, `${argument}.at`, -(2 ** 31), 2 ** 31 - 1);
  const offmask = key.nexthdr ? -1 : 0;
  const word = at & ~3;
  const shift = bits === 32 ? 0 : 32 - bits - (at & 3) * 8;
  if (shift < 0) throw invalidValue(`${argument}.at`, at, `puts a ${bits}-bit value across a 32-bit word`);
  packKey(keys, (value * 2 ** shift) >>> 0, (mask * 2 ** shift) >>> 0, word, offmask, argument);
}

function portKey(v: unknown, argument: string): { value: number; mask: number } {
  if (typeof v === 'number') return { value: int(v, argument, 0, 0xffff), mask: 0xffff };
  if (typeof v === 'object' && v !== null) {
    const o = v as { value: unknown; mask?: unknown };
    return {
      value: int(o.value, `${argument}.value`, 0, 0xffff),
      mask: o.mask === undefined ? 0xffff : int(o.mask, `${argument}.mask`, 0, 0xffff),
    };
  }
  throw invalidType(argument, 'a port number or { value, mask }', v);
}

function packPrefix(keys: RawKey[], text: unknown, family: 4 | 6, at: number, argument: string): void {
  if (typeof text !== 'string') throw invalidType(argument, 'an address or CIDR string', text);
  const p = parsePrefix(text.includes('/') ? text : `${text}/${family === 4 ? 32 : 128}`);
  if (!p || p.family !== family) throw invalidValue(argument, text, `must be an IPv${family} address or prefix`);
  for (let word = 0; word < p.bytes.length / 4; word++) {
    const bits = Math.max(0, Math.min(32, p.prefixLength - word * 32));
    if (bits === 0 && word > 0) break;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    packKey(keys, p.bytes.readUInt32BE(word * 4), mask, at + word * 4, 0, argument);
  }
}

function packMatch(keys: RawKey[], m: unknown, argument: string): void {
  if (typeof m !== 'object' || m === null) throw invalidType(argument, 'a match object like { ip: { dst } }', m);
  const entries = Object.entries(m);
  if (entries.length !== 1) throw invalidValue(argument, m, 'must have exactly one of u32, u16, u8, ip, ip6, tcp, udp');
  const [what, spec] = entries[0] as [string, Record<string, unknown>];
  const a = `${argument}.${what}`;
  if (typeof spec !== 'object' || spec === null) throw invalidType(a, 'an object', spec);
  const sized = (bits: 8 | 16 | 32, key: U32Key, arg: string) => packSized(keys, bits, key, arg);
  const allowed: Record<string, string[]> = {
    ip: ['src', 'dst', 'protocol', 'tos', 'sport', 'dport'],
    ip6: ['src', 'dst', 'protocol', 'sport', 'dport'],
    tcp: ['src', 'dst'],
    udp: ['src', 'dst'],
  };
  if (allowed[what]) {
    for (const k of Object.keys(spec))
      if (!allowed[what].includes(k)) throw invalidValue(`${a}.${k}`, spec[k], `is not a field of ${what} matches`);
  }
  switch (what) {
    case 'u32':
      return sized(32, spec as unknown as U32Key, a);
    case 'u16':
      return sized(16, spec as unknown as U32Key, a);
    case 'u8':
      return sized(8, spec as unknown as U32Key, a);
    case 'ip':
      if (spec.src !== undefined) packPrefix(keys, spec.src, 4, 12, `${a}.src`);
      if (spec.dst !== undefined) packPrefix(keys, spec.dst, 4, 16, `${a}.dst`);
      if (spec.protocol !== undefined)
        sized(8, { value: ipProtocol(spec.protocol, `${a}.protocol`), mask: 0xff, at: 9 }, `${a}.protocol`);
      if (spec.tos !== undefined) {
        const t =
          typeof spec.tos === 'number'
            ? { value: spec.tos, mask: 0xff }
            : (spec.tos as { value: number; mask: number });
        sized(8, { ...t, at: 1 }, `${a}.tos`);
      }
      if (spec.sport !== undefined) sized(16, { ...portKey(spec.sport, `${a}.sport`), at: 20 }, `${a}.sport`);
      if (spec.dport !== undefined) sized(16, { ...portKey(spec.dport, `${a}.dport`), at: 22 }, `${a}.dport`);
      return;
    case 'ip6':
      if (spec.src !== undefined) packPrefix(keys, spec.src, 6, 8, `${a}.src`);
      if (spec.dst !== undefined) packPrefix(keys, spec.dst, 6, 24, `${a}.dst`);
      if (spec.protocol !== undefined)
        sized(8, { value: ipProtocol(spec.protocol, `${a}.protocol`), mask: 0xff, at: 6 }, `${a}.protocol`);
      if (spec.sport !== undefined) sized(16, { ...portKey(spec.sport, `${a}.sport`), at: 40 }, `${a}.sport`);
      if (spec.dport !== undefined) sized(16, { ...portKey(spec.dport, `${a}.dport`), at: 42 }, `${a}.dport`);
      return;
    case 'tcp':
    case 'udp':
      if (spec.src !== undefined) sized(16, { ...portKey(spec.src, `${a}.src`), at: 0, nexthdr: true }, `${a}.src`);
      if (spec.dst !== undefined) sized(16, { ...portKey(spec.dst, `${a}.dst`), at: 2, nexthdr: true }, `${a}.dst`);
      return;
    default:
      throw invalidValue(argument, what, 'must be one of u32, u16, u8, ip, ip6, tcp, udp');
  }
}

/** A u32 handle 'htid:hash:node' (hex, parts may be empty) or a number. */
export function parseU32Handle(v: unknown, argument: string): number {
  if (typeof v === 'number') return u32(v, argument);
  if (typeof v !== 'string') throw invalidType(argument, "a u32 handle like '800:', '2:7:' or '800::5'", v);
  const m = /^([0-9a-f]{0,3}):([0-9a-f]{0,2})(?::([0-9a-f]{0,3}))?$/i.exec(v.trim());
  if (!m)
    throw invalidValue(argument, v, "must be a u32 handle 'htid:hash:node' in hex, like '800:', '2:7:' or '800::5'");
  const [htid, hash, node] = [m[1], m[2], m[3] ?? ''].map((p) => (p === '' ? 0 : parseInt(p, 16)));
  return ((htid << 20) | (hash << 12) | node) >>> 0;
}

/** A u32 handle as tc prints it: '800:', '2:7:', '800::800'. */
export function formatU32Handle(h: number): string {
  const htid = h >>> 20;
  const hash = (h >>> 12) & 0xff;
  const node = h & 0xfff;
  return `${htid ? htid.toString(16) : ''}:${hash ? hash.toString(16) : ''}${node ? `:${node.toString(16)}` : hash ? ':' : ''}`;
}

const u32Filter: FilterCodec = {
  keys: ['match', 'classid', 'divisor', 'link', 'indev', 'actions', 'hashTable', 'hashKey', 'skipHw', 'skipSw'],
  encode(w, o, c) {
    const a = c.argument;
    classid(w, TCA_U32_CLASSID, o.classid, `${a}.classid`);
    if (o.divisor !== undefined) {
      const d = int(o.divisor, `${a}.divisor`, 1, 256);
      if (d & (d - 1)) throw invalidValue(`${a}.divisor`, d, 'must be a power of two up to 256');
      w.attrU32(TCA_U32_DIVISOR, d);
    }
    if (o.link !== undefined) w.attrU32(TCA_U32_LINK, parseU32Handle(o.link, `${a}.link`));
    indev(w, TCA_U32_INDEV, o.indev, `${a}.indev`);
    if (o.actions !== undefined) encodeActionList(w, TCA_U32_ACT, o.actions, `${a}.actions`);
    if (o.hashTable !== undefined) w.attrU32(TCA_U32_HASH, parseU32Handle(o.hashTable, `${a}.hashTable`) & 0xfffff000);
    const keys: RawKey[] = [];
    if (o.match !== undefined) {
      if (!Array.isArray(o.match)) throw invalidType(`${a}.match`, 'an array of matches', o.match);
      o.match.forEach((m, i) => packMatch(keys, m, `${a}.match[${i}]`));
    }
    let hmask = 0;
    let hoff = 0;
    if (o.hashKey !== undefined) {
      const hk = o.hashKey as { mask?: unknown; at?: unknown };
      if (typeof hk !== 'object' || hk === null) throw invalidType(`${a}.hashKey`, '{ mask, at }', hk);
      hmask = u32(hk.mask, `${a}.hashKey.mask`);
      hoff = int(hk.at, `${a}.hashKey.at`, -32768, 32767);
    }
    if (o.match !== undefined || o.hashKey !== undefined || o.link !== undefined) {
      const sel = Buffer.alloc(16 + keys.length * 16);
      if (o.classid !== undefined || o.actions !== undefined) sel[0] = TC_U32_TERMINAL;
      sel[2] = keys.length;
      sel.writeInt16LE(hoff, 10);
      sel.writeUInt32BE(hmask, 12);
      keys.forEach((k, i) => {
        sel.writeUInt32BE(k.mask, 16 + i * 16);
        sel.writeUInt32BE(k.val, 20 + i * 16);
        sel.writeInt32LE(k.off, 24 + i * 16);
        sel.writeInt32LE(k.offmask, 28 + i * 16);
      });
      w.attr(TCA_U32_SEL, sel);
    }
    const flags = clsFlags(o, a);
    if (flags) w.attrU32(TCA_U32_FLAGS, flags);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const get32 = (t: number) => {
      const at = a.get(t);
      return at ? readU32Attribute(buf, at[0], at[1]) : undefined;
    };
    const sel = a.get(TCA_U32_SEL);
    if (sel && sel[1] >= 16) {
      const [off, len] = sel;
      const n = buf[off + 2];
      const match: U32Match[] = [];
      for (let i = 0; i < n && 16 + (i + 1) * 16 <= len; i++) {
        const k = off + 16 + i * 16;
        const key: U32Key = { value: buf.readUInt32BE(k + 4), mask: buf.readUInt32BE(k), at: buf.readInt32LE(k + 8) };
        if (buf.readInt32LE(k + 12) !== 0) key.nexthdr = true;
        match.push({ u32: key });
      }
      out.match = match;
      const hmask = buf.readUInt32BE(off + 12);
      if (hmask) out.hashKey = { mask: hmask, at: buf.readInt16LE(off + 10) };
      out.terminal = (buf[off] & TC_U32_TERMINAL) !== 0;
    }
    const cls = get32(TCA_U32_CLASSID);
    if (cls !== undefined) out.classid = formatHandle(cls);
    const divisor = get32(TCA_U32_DIVISOR);
    if (divisor !== undefined) out.divisor = divisor;
    const link = get32(TCA_U32_LINK);
    if (link !== undefined) out.link = formatU32Handle(link);
    const hash = get32(TCA_U32_HASH);
    if (hash !== undefined) out.hashTable = formatU32Handle(hash);
    if (a.has(TCA_U32_INDEV)) out.indev = readString(buf, a.get(TCA_U32_INDEV)!);
    const act = a.get(TCA_U32_ACT);
    if (act) out.actions = decodeActionList(buf, act[0], act[0] + act[1]);
    const flags = get32(TCA_U32_FLAGS);
    if (flags !== undefined) decodeClsFlags(out, flags);
    const pcnt = a.get(TCA_U32_PCNT);
    if (pcnt && pcnt[1] >= 16) {
      const r64 = (o: number) => buf.readUInt32LE(o + 4) * 2 ** 32 + buf.readUInt32LE(o);
      out.counters = { lookups: r64(pcnt[0]), hits: r64(pcnt[0] + 8) };
    }
    return out;
  },
};

// ---- flower -----------------------------------------------------------------------

const flower: FilterCodec = {
  keys: [
    'classid',
    'indev',
    'dstMac',
    'srcMac',
    'vlanId',
    'vlanPrio',
    'ipProto',
    'ipTos',
    'ipTtl',
    'dstIp',
    'srcIp',
    'dstPort',
    'srcPort',
    'actions',
    'skipHw',
    'skipSw',
  ],
  encode(w, o, c) {
    const a = c.argument;
    classid(w, TCA_FLOWER_CLASSID, o.classid, `${a}.classid`);
    indev(w, TCA_FLOWER_INDEV, o.indev, `${a}.indev`);
    for (const [key, type, maskType] of [
      ['dstMac', TCA_FLOWER_KEY_ETH_DST, TCA_FLOWER_KEY_ETH_DST_MASK],
      ['srcMac', TCA_FLOWER_KEY_ETH_SRC, TCA_FLOWER_KEY_ETH_SRC_MASK],
    ] as const) {
      if (o[key] === undefined) continue;
      const mac = typeof o[key] === 'string' ? parseMac(o[key] as string) : undefined;
      if (!mac) throw invalidValue(`${a}.${key}`, o[key], "must be a MAC address like 'aa:bb:cc:dd:ee:ff'");
      w.attr(type, mac);
      w.attr(maskType, Buffer.alloc(6, 0xff));
    }
    if (o.vlanId !== undefined) w.attrU16(TCA_FLOWER_KEY_VLAN_ID, int(o.vlanId, `${a}.vlanId`, 0, 4095));
    if (o.vlanPrio !== undefined) w.attrU8(TCA_FLOWER_KEY_VLAN_PRIO, int(o.vlanPrio, `${a}.vlanPrio`, 0, 7));
    let proto: number | undefined;
    if (o.ipProto !== undefined) {
      proto = ipProtocol(o.ipProto, `${a}.ipProto`);
      w.attrU8(TCA_FLOWER_KEY_IP_PROTO, proto);
    }
    if (o.ipTos !== undefined) w.attrU8(TCA_FLOWER_KEY_IP_TOS, int(o.ipTos, `${a}.ipTos`, 0, 255));
    if (o.ipTtl !== undefined) w.attrU8(TCA_FLOWER_KEY_IP_TTL, int(o.ipTtl, `${a}.ipTtl`, 0, 255));
    for (const [key, v4, v4m, v6, v6m] of [
      [
        'dstIp',
        TCA_FLOWER_KEY_IPV4_DST,
        TCA_FLOWER_KEY_IPV4_DST_MASK,
        TCA_FLOWER_KEY_IPV6_DST,
        TCA_FLOWER_KEY_IPV6_DST_MASK,
      ],
      [
        'srcIp',
        TCA_FLOWER_KEY_IPV4_SRC,
        TCA_FLOWER_KEY_IPV4_SRC_MASK,
        TCA_FLOWER_KEY_IPV6_SRC,
        TCA_FLOWER_KEY_IPV6_SRC_MASK,
      ],
    ] as const) {
      const v = o[key];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw invalidType(`${a}.${key}`, 'an address or CIDR string', v);
      const p = parsePrefix(v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`);
      if (!p) throw invalidValue(`${a}.${key}`, v, 'must be an IP address or prefix');
      const mask = Buffer.alloc(p.bytes.length);
      for (let i = 0; i < p.prefixLength; i++) mask[i >> 3] |= 0x80 >> (i & 7);
      const bytes = Buffer.from(p.bytes.map((b, i) => b & mask[i]));
      w.attr(p.family === 4 ? v4 : v6, bytes);
      w.attr(p.family === 4 ? v4m : v6m, mask);
    }
    for (const [key, tcp, udp] of [
      ['dstPort', TCA_FLOWER_KEY_TCP_DST, TCA_FLOWER_KEY_UDP_DST],
      ['srcPort', TCA_FLOWER_KEY_TCP_SRC, TCA_FLOWER_KEY_UDP_SRC],
    ] as const) {
      if (o[key] === undefined) continue;
      if (proto !== 6 && proto !== 17) throw invalidValue(`${a}.${key}`, o[key], "needs ipProto 'tcp' or 'udp'");
      const at = w.begin(proto === 6 ? tcp : udp);
      w.u16be(int(o[key], `${a}.${key}`, 0, 0xffff));
      w.end(at);
    }
    if (o.actions !== undefined) encodeActionList(w, TCA_FLOWER_ACT, o.actions, `${a}.actions`);
    w.attrU32(TCA_FLOWER_FLAGS, clsFlags(o, a));
    if (c.protocol !== ETH_P_ALL) {
      const at = w.begin(TCA_FLOWER_KEY_ETH_TYPE);
      w.u16be(c.protocol);
      w.end(at);
    }
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const cls = a.get(TCA_FLOWER_CLASSID);
    if (cls) out.classid = formatHandle(readU32Attribute(buf, cls[0], cls[1]));
    if (a.has(TCA_FLOWER_INDEV)) out.indev = readString(buf, a.get(TCA_FLOWER_INDEV)!);
    for (const [key, type] of [
      ['dstMac', TCA_FLOWER_KEY_ETH_DST],
      ['srcMac', TCA_FLOWER_KEY_ETH_SRC],
    ] as const) {
      const v = a.get(type);
      if (v) out[key] = formatMac(buf, v[0], v[1]);
    }
    const vid = a.get(TCA_FLOWER_KEY_VLAN_ID);
    if (vid) out.vlanId = readU16Attribute(buf, vid[0], vid[1]);
    const vprio = a.get(TCA_FLOWER_KEY_VLAN_PRIO);
    if (vprio) out.vlanPrio = readU8Attribute(buf, vprio[0], vprio[1]);
    const proto = a.get(TCA_FLOWER_KEY_IP_PROTO);
    if (proto) {
      const p = readU8Attribute(buf, proto[0], proto[1]);
      out.ipProto = Object.entries(IP_PROTOCOLS).find(([, v]) => v === p)?.[0] ?? p;
    }
    const tos = a.get(TCA_FLOWER_KEY_IP_TOS);
    if (tos) out.ipTos = readU8Attribute(buf, tos[0], tos[1]);
    const ttl = a.get(TCA_FLOWER_KEY_IP_TTL);
    if (ttl) out.ipTtl = readU8Attribute(buf, ttl[0], ttl[1]);
    for (const [key, types] of [
      [
        'dstIp',
        [TCA_FLOWER_KEY_IPV4_DST, TCA_FLOWER_KEY_IPV4_DST_MASK, TCA_FLOWER_KEY_IPV6_DST, TCA_FLOWER_KEY_IPV6_DST_MASK],
      ],
      [
        'srcIp',
        [TCA_FLOWER_KEY_IPV4_SRC, TCA_FLOWER_KEY_IPV4_SRC_MASK, TCA_FLOWER_KEY_IPV6_SRC, TCA_FLOWER_KEY_IPV6_SRC_MASK],
      ],
    ] as const) {
      for (const [addrType, maskType] of [
        [types[0], types[1]],
        [types[2], types[3]],
      ]) {
        const v = a.get(addrType);
        if (!v) continue;
        const m = a.get(maskType);
        let bits = v[1] * 8;
        if (m) {
          bits = 0;
          for (let i = 0; i < m[1]; i++) for (let b = 7; b >= 0; b--) if (buf[m[0] + i] & (1 << b)) bits++;
        }
        out[key] = `${formatIP(buf, v[0], v[1])}/${bits}`;
      }
    }
    for (const [key, types] of [
      ['dstPort', [TCA_FLOWER_KEY_TCP_DST, TCA_FLOWER_KEY_UDP_DST]],
      ['srcPort', [TCA_FLOWER_KEY_TCP_SRC, TCA_FLOWER_KEY_UDP_SRC]],
    ] as const) {
      for (const t of types) {
        const v = a.get(t);
        if (v) out[key] = buf.readUInt16BE(v[0]);
      }
    }
    const act = a.get(TCA_FLOWER_ACT);
    if (act) out.actions = decodeActionList(buf, act[0], act[0] + act[1]);
    const flags = a.get(TCA_FLOWER_FLAGS);
    if (flags) decodeClsFlags(out, readU32Attribute(buf, flags[0], flags[1]));
    return out;
  },
};

// ---- matchall, basic, fw -------------------------------------------------------------

const matchall: FilterCodec = {
  keys: ['classid', 'actions', 'skipHw', 'skipSw'],
  encode(w, o, c) {
    classid(w, TCA_MATCHALL_CLASSID, o.classid, `${c.argument}.classid`);
    if (o.actions !== undefined) encodeActionList(w, TCA_MATCHALL_ACT, o.actions, `${c.argument}.actions`);
    const flags = clsFlags(o, c.argument);
    if (flags) w.attrU32(TCA_MATCHALL_FLAGS, flags);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const cls = a.get(TCA_MATCHALL_CLASSID);
    if (cls) out.classid = formatHandle(readU32Attribute(buf, cls[0], cls[1]));
    const act = a.get(TCA_MATCHALL_ACT);
    if (act) out.actions = decodeActionList(buf, act[0], act[0] + act[1]);
    const flags = a.get(TCA_MATCHALL_FLAGS);
    if (flags) decodeClsFlags(out, readU32Attribute(buf, flags[0], flags[1]));
    return out;
  },
};

const basic: FilterCodec = {
  keys: ['classid', 'actions'],
  encode(w, o, c) {
    classid(w, TCA_BASIC_CLASSID, o.classid, `${c.argument}.classid`);
    if (o.actions !== undefined) encodeActionList(w, TCA_BASIC_ACT, o.actions, `${c.argument}.actions`);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const cls = a.get(TCA_BASIC_CLASSID);
    if (cls) out.classid = formatHandle(readU32Attribute(buf, cls[0], cls[1]));
    const act = a.get(TCA_BASIC_ACT);
    if (act) out.actions = decodeActionList(buf, act[0], act[0] + act[1]);
    return out;
  },
};

const fw: FilterCodec = {
  keys: ['classid', 'mask', 'indev', 'actions'],
  encode(w, o, c) {
    if (o.mask !== undefined) w.attrU32(TCA_FW_MASK, u32(o.mask, `${c.argument}.mask`));
    classid(w, TCA_FW_CLASSID, o.classid, `${c.argument}.classid`);
    indev(w, TCA_FW_INDEV, o.indev, `${c.argument}.indev`);
    if (o.actions !== undefined) encodeActionList(w, TCA_FW_ACT, o.actions, `${c.argument}.actions`);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const cls = a.get(TCA_FW_CLASSID);
    if (cls) out.classid = formatHandle(readU32Attribute(buf, cls[0], cls[1]));
    const mask = a.get(TCA_FW_MASK);
    if (mask) out.mask = readU32Attribute(buf, mask[0], mask[1]);
    if (a.has(TCA_FW_INDEV)) out.indev = readString(buf, a.get(TCA_FW_INDEV)!);
    const act = a.get(TCA_FW_ACT);
    if (act) out.actions = decodeActionList(buf, act[0], act[0] + act[1]);
    return out;
  },
};

// ---- bpf ---------------------------------------------------------------------------

/** One classic BPF instruction: [code, jt, jf, k], as `tc ... bpf bytecode` lists them. */
export type ClassicBpfInstruction = [number, number, number, number];

const bpf: FilterCodec = {
  keys: ['bytecode', 'fd', 'pinned', 'name', 'directAction', 'classid', 'actions', 'skipHw', 'skipSw'],
  encode(w, o, c) {
    const a = c.argument;
    const given = [o.bytecode, o.fd, o.pinned].filter((x) => x !== undefined).length;
    if (given !== 1) {
      throw invalidValue(
        a,
        o,
        'needs exactly one of bytecode (classic BPF), fd (an eBPF program fd) or pinned (a bpffs path)',
      );
    }
    if (o.pinned !== undefined) {
      // filter.add() swaps the pin for an fd before encoding; here only its shape is checked.
      if (typeof o.pinned !== 'string' || !o.pinned.startsWith('/'))
        throw invalidType(`${a}.pinned`, 'an absolute bpffs path', o.pinned);
      o = { ...o, fd: 0, pinned: undefined };
    }
    classid(w, TCA_BPF_CLASSID, o.classid, `${a}.classid`);
    if (o.actions !== undefined) encodeActionList(w, TCA_BPF_ACT, o.actions, `${a}.actions`);
    if (o.bytecode !== undefined) {
      const code = o.bytecode;
      if (!Array.isArray(code) || code.length === 0 || code.length > 4096)
        throw invalidType(`${a}.bytecode`, 'an array of 1 to 4096 [code, jt, jf, k] instructions', code);
      w.attrU16(TCA_BPF_OPS_LEN, code.length);
      const ops = Buffer.alloc(code.length * 8);
      code.forEach((ins, i) => {
        const arg = `${a}.bytecode[${i}]`;
        if (!Array.isArray(ins) || ins.length !== 4) throw invalidType(arg, 'a [code, jt, jf, k] instruction', ins);
        ops.writeUInt16LE(int(ins[0], arg, 0, 0xffff), i * 8);
        ops[i * 8 + 2] = int(ins[1], arg, 0, 255);
        ops[i * 8 + 3] = int(ins[2], arg, 0, 255);
        ops.writeUInt32LE(u32(ins[3], arg), i * 8 + 4);
      });
      w.attr(TCA_BPF_OPS, ops);
    } else {
      w.attrU32(TCA_BPF_FD, int(o.fd, `${a}.fd`, 0, 2 ** 31 - 1));
      const name = o.name ?? 'rtnl';
      if (typeof name !== 'string') throw invalidType(`${a}.name`, 'a string', name);
      w.attrString(TCA_BPF_NAME, name);
    }
    if (o.directAction !== undefined) {
      if (typeof o.directAction !== 'boolean') throw invalidType(`${a}.directAction`, 'a boolean', o.directAction);
      if (o.directAction) w.attrU32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    }
    const flags = clsFlags(o, a);
    if (flags) w.attrU32(TCA_BPF_FLAGS_GEN, flags);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const cls = a.get(TCA_BPF_CLASSID);
    if (cls) out.classid = formatHandle(readU32Attribute(buf, cls[0], cls[1]));
    const ops = a.get(TCA_BPF_OPS);
    if (ops) {
      const code: ClassicBpfInstruction[] = [];
      for (let i = 0; (i + 1) * 8 <= ops[1]; i++) {
        const o = ops[0] + i * 8;
        code.push([buf.readUInt16LE(o), buf[o + 2], buf[o + 3], buf.readUInt32LE(o + 4)]);
      }
      out.bytecode = code;
    }
    if (a.has(TCA_BPF_NAME)) out.name = readString(buf, a.get(TCA_BPF_NAME)!);
    const id = a.get(TCA_BPF_ID);
    if (id) out.id = readU32Attribute(buf, id[0], id[1]);
    const tag = a.get(TCA_BPF_TAG);
    if (tag) out.tag = buf.toString('hex', tag[0], tag[0] + tag[1]);
    const flags = a.get(TCA_BPF_FLAGS);
    if (flags) out.directAction = (readU32Attribute(buf, flags[0], flags[1]) & TCA_BPF_FLAG_ACT_DIRECT) !== 0;
    const gen = a.get(TCA_BPF_FLAGS_GEN);
    if (gen) decodeClsFlags(out, readU32Attribute(buf, gen[0], gen[1]));
    const act = a.get(TCA_BPF_ACT);
    if (act) out.actions = decodeActionList(buf, act[0], act[0] + act[1]);
    return out;
  },
};

/** Classifier kinds the library types, by name. */
export const FILTER_KINDS: Record<string, FilterCodec> = { u32: u32Filter, flower, matchall, basic, fw, bpf };
