/**
 * Schema-driven coding: the generated spec tables (lib/specs/) become
 * attribute schemas and struct layouts that both decode kernel messages
 * into plain objects and encode plain objects into attributes. A new
 * attribute is a new row in a table, never new code.
 *
 * Decoded objects use the camelCase attribute names. Attributes the schema
 * does not know are kept raw under `unknownAttributes`, never dropped, and
 * re-encoded as they were.
 */
import { DecodeError, invalidType, invalidValue, outOfRange } from '../errors';
import { formatHex, formatIPv4, formatIPv6, formatMac, parseIP, parseMac } from './address';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, NLA_TYPE_MASK, Writer, forEachAttribute } from './attributes';
import type {
  AttributeDef,
  DisplayHint,
  EnumDef,
  FamilySpecDef,
  ScalarType,
  StructDef,
  StructMemberDef,
} from './spec-types';

/** An attribute the schema does not describe, kept as sent. */
export interface RawAttribute {
  type: number;
  /** NLA_F_NESTED / NLA_F_NET_BYTEORDER bits as sent. */
  flags?: number;
  data: Buffer;
}

export type Decoded = Record<string, unknown> & { unknownAttributes?: RawAttribute[] };

const SCALAR_SIZE: Record<ScalarType, number> = {
  u8: 1,
  s8: 1,
  u16: 2,
  s16: 2,
  u32: 4,
  s32: 4,
  u64: 8,
  s64: 8,
  uint: 8,
  sint: 8,
};

const TWO_32 = 2 ** 32;

/** Reads an integer; 64-bit values become numbers (exact to 2^53). */
function readScalar(buf: Buffer, off: number, type: ScalarType, bigEndian: boolean, len: number): number {
  switch (type) {
    case 'u8':
      return buf[off];
    case 's8':
      return buf.readInt8(off);
    case 'u16':
      return bigEndian ? buf.readUInt16BE(off) : buf.readUInt16LE(off);
    case 's16':
      return bigEndian ? buf.readInt16BE(off) : buf.readInt16LE(off);
    case 'u32':
      return bigEndian ? buf.readUInt32BE(off) : buf.readUInt32LE(off);
    case 's32':
      return bigEndian ? buf.readInt32BE(off) : buf.readInt32LE(off);
    case 'uint':
    case 'sint':
      // Variable-width: 4 or 8 bytes, as the kernel chose.
      if (len === 4) return type === 'uint' ? buf.readUInt32LE(off) : buf.readInt32LE(off);
      return type === 'uint'
        ? buf.readUInt32LE(off + 4) * TWO_32 + buf.readUInt32LE(off)
        : Number(buf.readBigInt64LE(off));
    case 'u64':
      return bigEndian
        ? buf.readUInt32BE(off) * TWO_32 + buf.readUInt32BE(off + 4)
        : buf.readUInt32LE(off + 4) * TWO_32 + buf.readUInt32LE(off);
    case 's64':
      return Number(bigEndian ? buf.readBigInt64BE(off) : buf.readBigInt64LE(off));
  }
}

const SCALAR_RANGE: Record<ScalarType, [bigint, bigint]> = {
  u8: [0n, 255n],
  s8: [-128n, 127n],
  u16: [0n, 65535n],
  s16: [-32768n, 32767n],
  u32: [0n, 4294967295n],
  s32: [-2147483648n, 2147483647n],
  u64: [0n, 18446744073709551615n],
  s64: [-9223372036854775808n, 9223372036854775807n],
  uint: [0n, 18446744073709551615n],
  sint: [-9223372036854775808n, 9223372036854775807n],
};

function checkInteger(path: string, type: ScalarType, value: unknown): bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalidValue(path, value, 'must be an integer');
  } else if (typeof value !== 'bigint') {
    throw invalidType(path, `of type number (${type})`, value);
  }
  const big = BigInt(value);
  const [min, max] = SCALAR_RANGE[type];
  if (big < min || big > max) throw outOfRange(path, `>= ${min} and <= ${max} (${type})`, value);
  return big;
}

function writeScalar(w: Writer, type: ScalarType, bigEndian: boolean, value: bigint): void {
  const size = SCALAR_SIZE[type];
  w.ensure(size);
  const b = w.buf;
  const o = w.pos;
  switch (type) {
    case 'u8':
    case 's8':
      b[o] = Number(BigInt.asUintN(8, value));
      break;
    case 'u16':
    case 's16':
      if (bigEndian) b.writeUInt16BE(Number(BigInt.asUintN(16, value)), o);
      else b.writeUInt16LE(Number(BigInt.asUintN(16, value)), o);
      break;
    case 'u32':
    case 's32':
      if (bigEndian) b.writeUInt32BE(Number(BigInt.asUintN(32, value)), o);
      else b.writeUInt32LE(Number(BigInt.asUintN(32, value)), o);
      break;
    default:
      if (bigEndian) b.writeBigUInt64BE(BigInt.asUintN(64, value), o);
      else b.writeBigUInt64LE(BigInt.asUintN(64, value), o);
  }
  w.pos += size;
}

/** Names for the values of an enum or the bits of a flags set. */
export class EnumCodec {
  readonly byValue = new Map<number, string>();
  readonly byName = new Map<string, number>();

  constructor(readonly def: EnumDef) {
    for (const e of def.entries) {
      this.byValue.set(e.value, e.name);
      this.byName.set(e.name, e.value);
    }
  }

  /** A value's name, or the number where the spec has none. */
  name(value: number): string | number {
    return this.byValue.get(value) ?? value;
  }

  /** Set bits as names; bits without a name stay numbers (their mask). */
  flagNames(mask: number): (string | number)[] {
    const out: (string | number)[] = [];
    for (let bit = 0; bit < 32 && mask !== 0; bit++) {
      const m = 2 ** bit;
      if (mask % (m * 2) >= m) {
        out.push(this.byValue.get(m) ?? m);
        mask -= m;
      }
    }
    return out;
  }

  value(path: string, v: unknown): number {
    if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
    if (typeof v === 'string') {
      const n = this.byName.get(v);
      if (n === undefined) throw invalidValue(path, v, `must be one of ${[...this.byName.keys()].join(', ')}`);
      return n;
    }
    throw invalidType(path, 'a string or number', v);
  }

  mask(path: string, v: unknown): number {
    if (typeof v === 'number') return v;
    if (!Array.isArray(v)) throw invalidType(path, 'an array of flag names or a number', v);
    let mask = 0;
    for (const item of v) mask |= this.value(path, item);
    return mask >>> 0;
  }
}

function formatByHint(hint: DisplayHint | undefined, buf: Buffer, off: number, len: number): unknown {
  switch (hint) {
    case 'mac':
      return formatMac(buf, off, len);
    case 'ipv4':
      if (len === 4) return formatIPv4(buf, off);
      break;
    case 'ipv6':
      if (len === 16) return formatIPv6(buf, off);
      break;
    case 'ipv4-or-v6':
      if (len === 4) return formatIPv4(buf, off);
      if (len === 16) return formatIPv6(buf, off);
      break;
    case 'hex':
      return formatHex(buf, off, len);
    case 'uuid':
      if (len === 16) {
        const h = formatHex(buf, off, 16);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      break;
  }
  return Buffer.from(buf.subarray(off, off + len));
}

function bytesByHint(path: string, hint: DisplayHint | undefined, v: unknown): Buffer {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v);
  if (typeof v !== 'string') throw invalidType(path, 'a string or Buffer', v);
  switch (hint) {
    case 'mac': {
      const mac = parseMac(v);
      if (!mac) throw invalidValue(path, v, "must be a MAC address like 'aa:bb:cc:dd:ee:ff'");
      return mac;
    }
    case 'ipv4':
    case 'ipv6':
    case 'ipv4-or-v6': {
      const ip = parseIP(v);
      if (!ip || (hint === 'ipv4' && ip.family !== 4) || (hint === 'ipv6' && ip.family !== 6)) {
        throw invalidValue(path, v, `must be an ${hint === 'ipv4-or-v6' ? 'IP' : hint.toUpperCase()} address`);
      }
      return ip.bytes;
    }
    case 'uuid':
    case 'hex': {
      const hex = v.replace(/-/g, '');
      if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw invalidValue(path, v, 'must be hex');
      return Buffer.from(hex, 'hex');
    }
  }
  throw invalidType(path, 'a Buffer', v);
}

interface MemberLayout extends StructMemberDef {
  offset: number;
  size: number;
  enumCodec?: EnumCodec;
  structCodec?: StructCodec;
}

/**
 * A fixed C struct. Decoding reads only the members that lie inside the
 * bytes the kernel sent (structs grow and shrink between versions);
 * encoding writes the whole struct, zero where a member is not given.
 */
/**
 * A reader for one struct member, given the offset of the member's END
 * (so one number per member serves both the length check and the read).
 */
function memberReader(m: MemberLayout): (buf: Buffer, end: number) => Decoded[string] {
  const size = m.size;
  if (m.type === 'binary') {
    const struct = m.structCodec;
    const hint = m.displayHint;
    return struct
      ? (buf, end) => struct.decode(buf, end - size, size)
      : (buf, end) => formatByHint(hint, buf, end - size, size);
  }
  if (m.displayHint === 'ipv4' && size === 4) return (buf, end) => formatIPv4(buf, end - 4);
  const big = m.byteOrder === 'big-endian';
  const type = m.type as ScalarType;
  const codec = m.enumCodec;
  if (codec) {
    const flags = m.enumAsFlags;
    return (buf, end) => {
      const n = readScalar(buf, end - size, type, big, size);
      return flags ? codec.flagNames(n) : codec.name(n);
    };
  }
  switch (type) {
    case 'u8':
      return (buf, end) => buf[end - 1];
    case 'u16':
      return big ? (buf, end) => buf.readUInt16BE(end - 2) : (buf, end) => buf.readUInt16LE(end - 2);
    case 'u32':
      return big ? (buf, end) => buf.readUInt32BE(end - 4) : (buf, end) => buf.readUInt32LE(end - 4);
    case 'u64':
      return big
        ? (buf, end) => buf.readUInt32BE(end - 8) * TWO_32 + buf.readUInt32BE(end - 4)
        : (buf, end) => buf.readUInt32LE(end - 4) * TWO_32 + buf.readUInt32LE(end - 8);
    default:
      return (buf, end) => readScalar(buf, end - size, type, big, size);
  }
}

export class StructCodec {
  readonly name: string;
  readonly size: number;
  readonly members: MemberLayout[] = [];

  constructor(def: StructDef, family: FamilySchemas) {
    this.name = def.name;
    let offset = 0;
    for (const m of def.members) {
      const size = m.type === 'pad' || m.type === 'binary' ? (m.len ?? 0) : SCALAR_SIZE[m.type];
      const layout: MemberLayout = { ...m, offset, size };
      if (m.enum) layout.enumCodec = family.enumCodec(m.enum);
      if (m.struct) layout.structCodec = family.struct(m.struct);
      this.members.push(layout);
      offset += size;
    }
    this.size = offset;
  }

  /** One reader per member, chosen once, so decoding is a loop of direct reads (stats64: 25 u64 per link). */
  private readers?: { name: string; end: number; read: (buf: Buffer, at: number) => Decoded[string] }[];

  private memberReaders(): NonNullable<StructCodec['readers']> {
    this.readers ??= this.members
      .filter((m) => m.type !== 'pad')
      .map((m) => ({ name: m.name, end: m.offset + m.size, read: memberReader(m) }));
    return this.readers;
  }

  /** An object with every member, copied for each whole struct: one hidden class, stores in place. */
  private template?: Decoded;

  decode(buf: Buffer, off: number, available: number): Decoded {
    const readers = this.memberReaders();
    if (available >= this.size) {
      this.template ??= Object.fromEntries(readers.map((r) => [r.name, 0]));
      const out: Decoded = { ...this.template };
      for (let i = 0; i < readers.length; i++) out[readers[i].name] = readers[i].read(buf, off + readers[i].end);
      return out;
    }
    const out: Decoded = {};
    for (let i = 0; i < readers.length; i++) {
      const r = readers[i];
      if (r.end > available) continue; // an older kernel's shorter struct
      out[r.name] = r.read(buf, off + r.end);
    }
    return out;
  }

  encode(w: Writer, value: Record<string, unknown> | undefined, path = this.name): void {
    const start = w.pos;
    w.zeros(this.size);
    const end = w.pos;
    if (!value) return;
    for (const m of this.members) {
      const v = value[m.name];
      if (m.type === 'pad' || v === undefined) continue;
      const p = `${path}.${m.name}`;
      w.pos = start + m.offset;
      if (m.type === 'binary') {
        if (m.structCodec) {
          if (typeof v !== 'object' || v === null) throw invalidType(p, 'an object', v);
          m.structCodec.encode(w, v as Record<string, unknown>, p);
        } else {
          const bytes = bytesByHint(p, m.displayHint, v);
          if (bytes.length > m.size) throw outOfRange(p, `at most ${m.size} bytes long`, v);
          w.buf.set(bytes, w.pos);
        }
        continue;
      }
      let n: unknown = v;
      if (m.displayHint === 'ipv4' && typeof v === 'string') {
        n = bytesByHint(p, 'ipv4', v).readUInt32BE(0);
        writeScalar(w, m.type, true, BigInt(n as number));
        continue;
      }
      if (m.enumCodec) n = m.enumAsFlags ? m.enumCodec.mask(p, v) : m.enumCodec.value(p, v);
      writeScalar(w, m.type, m.byteOrder === 'big-endian', checkInteger(p, m.type, n));
    }
    w.pos = end;
  }
}

interface AttributeCodec {
  def: AttributeDef;
  decode(buf: Buffer, off: number, len: number, parent: Decoded): unknown;
  encode(w: Writer, value: unknown, parent: Record<string, unknown>, path: string): void;
}

/**
 * The attributes of one attribute set: decode to an object keyed by
 * camelCase name, encode from one.
 */
export class AttributeSchema {
  readonly byValue = new Map<number, AttributeCodec>();
  readonly byName = new Map<string, AttributeCodec>();

  constructor(
    readonly name: string,
    defs: AttributeDef[],
    family: FamilySchemas,
  ) {
    for (const def of defs) {
      if (def.type === 'unused') continue;
      const codec = makeAttributeCodec(def, family);
      this.byValue.set(def.value, codec);
      this.byName.set(def.name, codec);
      this.byType[def.value] = codec;
    }
  }

  /** Codecs indexed by attribute type: an array lookup on the decode path, not a Map's. */
  private readonly byType: (AttributeCodec | undefined)[] = [];

  /** The attribute's type number, by camelCase name. */
  typeOf(name: string): number | undefined {
    return this.byName.get(name)?.def.value;
  }

  /**
   * Decodes attributes into `into`. Types in `skip` are passed over: a
   * typed decoder that never shows an attribute need not pay for it.
   */
  decode(
    buf: Buffer,
    start: number,
    end: number,
    into: Decoded = {},
    skip?: ReadonlySet<number>,
    /** Told where each skipped attribute is, for a caller that reads one by hand. */
    onSkipped?: (type: number, attributeOffset: number) => void,
  ): Decoded {
    // The TLV walk of forEachAttribute, inlined: this loop runs for every
    // attribute of every message of every dump.
    let pos = start;
    while (pos + NLA_HDRLEN <= end) {
      const len = buf.readUInt16LE(pos);
      const rawType = buf.readUInt16LE(pos + 2);
      if (len < NLA_HDRLEN || pos + len > end) {
        throw new DecodeError(`attribute of type ${rawType & NLA_TYPE_MASK} at offset ${pos} has bad length ${len}`);
      }
      const type = rawType & NLA_TYPE_MASK;
      const off = pos + NLA_HDRLEN;
      pos += (len + 3) & ~3;
      if (skip !== undefined && skip.has(type)) {
        if (onSkipped !== undefined) onSkipped(type, off - NLA_HDRLEN);
        continue;
      }
      const codec = this.byType[type];
      if (codec === undefined) {
        const flags = rawType & ~NLA_TYPE_MASK;
        (into.unknownAttributes ??= []).push({
          type,
          ...(flags ? { flags } : {}),
          data: Buffer.from(buf.subarray(off, off + len - NLA_HDRLEN)),
        });
        continue;
      }
      const def = codec.def;
      if (def.type === 'pad') continue;
      const value = codec.decode(buf, off, len - NLA_HDRLEN, into);
      if (def.multiAttr) {
        const list = (into[def.name] as unknown[] | undefined) ?? [];
        list.push(value);
        into[def.name] = list;
      } else {
        into[def.name] = value;
      }
    }
    return into;
  }

  /**
   * Writes each known key of `value` as an attribute, in the object's key
   * order; an unknown key is a TypeError naming it.
   */
  encode(w: Writer, value: Record<string, unknown>, path = this.name): void {
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v === undefined) continue;
      if (key === 'unknownAttributes') {
        for (const raw of v as RawAttribute[]) {
          const at = w.begin(raw.type | (raw.flags ?? 0));
          w.bytes(raw.data);
          w.end(at);
        }
        continue;
      }
      const codec = this.byName.get(key);
      if (!codec) throw invalidValue(`${path}.${key}`, v, `is not an attribute of ${this.name}`);
      if (codec.def.multiAttr) {
        if (!Array.isArray(v)) throw invalidType(`${path}.${key}`, 'an array', v);
        for (const item of v) codec.encode(w, item, value, `${path}.${key}`);
      } else {
        codec.encode(w, v, value, `${path}.${key}`);
      }
    }
  }
}

function makeAttributeCodec(def: AttributeDef, family: FamilySchemas): AttributeCodec {
  const bigEndian = def.byteOrder === 'big-endian';
  const nlaType = def.value | (bigEndian ? NLA_F_NET_BYTEORDER : 0);
  const typeNla = def.value;
  switch (def.type) {
    case 'flag':
      return {
        def,
        decode: () => true,
        encode: (w, v, _p, path) => {
          if (typeof v !== 'boolean') throw invalidType(path, 'a boolean', v);
          if (v) w.attrFlag(typeNla);
        },
      };
    case 'string':
      return {
        def,
        decode: (buf, off, len) => {
          let end = off + len;
          const nul = buf.indexOf(0, off);
          if (nul !== -1 && nul < end) end = nul;
          return buf.toString('utf8', off, end);
        },
        encode: (w, v, _p, path) => {
          if (typeof v !== 'string') throw invalidType(path, 'of type string', v);
          if (def.maxLen !== undefined && Buffer.byteLength(v) > def.maxLen) {
            throw outOfRange(path, `at most ${def.maxLen} bytes long`, v);
          }
          w.attrString(typeNla, v);
        },
      };
    case 'binary': {
      const struct = def.struct ? family.struct(def.struct) : undefined;
      return {
        def,
        decode: (buf, off, len) =>
          struct ? struct.decode(buf, off, len) : formatByHint(def.displayHint, buf, off, len),
        encode: (w, v, _p, path) => {
          const at = w.begin(typeNla);
          if (struct) {
            if (typeof v !== 'object' || v === null) throw invalidType(path, 'an object', v);
            struct.encode(w, v as Record<string, unknown>, path);
          } else {
            const bytes = bytesByHint(path, def.displayHint, v);
            if (def.exactLen !== undefined && bytes.length !== def.exactLen) {
              throw outOfRange(path, `exactly ${def.exactLen} bytes long`, v);
            }
            w.bytes(bytes);
          }
          w.end(at);
        },
      };
    }
    case 'nest': {
      let nested: AttributeSchema | undefined;
      const schema = () => (nested ??= family.attributeSet(def.nestedAttributes!));
      return {
        def,
        decode: (buf, off, len) => schema().decode(buf, off, off + len),
        encode: (w, v, _p, path) => {
          if (typeof v !== 'object' || v === null) throw invalidType(path, 'an object', v);
          const at = w.begin(def.nestedFlag ? typeNla | NLA_F_NESTED : typeNla);
          schema().encode(w, v as Record<string, unknown>, path);
          w.end(at);
        },
      };
    }
    case 'indexed-array': {
      const sub = def.subType ?? 'nest';
      let nested: AttributeSchema | undefined;
      const schema = () => (nested ??= family.attributeSet(def.nestedAttributes!));
      const element: AttributeDef = { ...def, type: sub, multiAttr: false };
      const elementCodec = sub === 'nest' ? undefined : makeAttributeCodec(element, family);
      const first = def.indexStart ?? 1;
      return {
        def,
        decode: (buf, off, len, parent) => {
          const out: unknown[] = [];
          forEachAttribute(buf, off, off + len, (_t, _f, o, l) => {
            out.push(elementCodec ? elementCodec.decode(buf, o, l, parent) : schema().decode(buf, o, o + l));
          });
          return out;
        },
        encode: (w, v, parent, path) => {
          if (!Array.isArray(v)) throw invalidType(path, 'an array', v);
          const at = w.begin(typeNla);
          v.forEach((item, i) => {
            if (elementCodec) {
              // Element attributes are numbered by position, the type ignored.
              const inner = w.pos;
              elementCodec.encode(w, item, parent, `${path}[${i}]`);
              w.buf.writeUInt16LE(i + first, inner + 2);
            } else {
              const inner = w.begin(i + first);
              schema().encode(w, item as Record<string, unknown>, `${path}[${i}]`);
              w.end(inner);
            }
          });
          w.end(at);
        },
      };
    }
    case 'nest-type-value': {
      let nested: AttributeSchema | undefined;
      const schema = () => (nested ??= family.attributeSet(def.nestedAttributes!));
      return {
        def,
        decode: (buf, off, len) => {
          const out: Record<string, Decoded> = {};
          forEachAttribute(buf, off, off + len, (t, _f, o, l) => {
            out[t] = schema().decode(buf, o, o + l);
          });
          return out;
        },
        encode: (w, v, _p, path) => {
          if (typeof v !== 'object' || v === null) throw invalidType(path, 'an object', v);
          const at = w.begin(typeNla);
          for (const [key, item] of Object.entries(v as Record<string, Record<string, unknown>>)) {
            const inner = w.begin(Number(key));
            schema().encode(w, item, `${path}.${key}`);
            w.end(inner);
          }
          w.end(at);
        },
      };
    }
    case 'sub-message':
      return {
        def,
        decode: (buf, off, len, parent) => {
          const format = family.subMessageFormat(def.subMessage!, parent[def.selector!]);
          if (!format) return Buffer.from(buf.subarray(off, off + len));
          return format.decode(buf, off, len);
        },
        encode: (w, v, parent, path) => {
          const selected = parent[def.selector!];
          const format = family.subMessageFormat(def.subMessage!, selected);
          const at = w.begin(typeNla);
          if (Buffer.isBuffer(v)) w.bytes(v);
          else if (!format) {
            throw invalidValue(path, selected, `names no known format for ${def.name} (selector ${def.selector})`);
          } else {
            if (typeof v !== 'object' || v === null) throw invalidType(path, 'an object', v);
            format.encode(w, v as Record<string, unknown>, path);
          }
          w.end(at);
        },
      };
    case 'bitfield32':
      return {
        def,
        decode: (buf, off, len) => {
          if (len < 8) throw new DecodeError(`${def.name}: bitfield32 attribute with ${len} bytes`);
          return { value: buf.readUInt32LE(off), selector: buf.readUInt32LE(off + 4) };
        },
        encode: (w, v, _p, path) => {
          const o = v as { value?: unknown; selector?: unknown };
          if (typeof o !== 'object' || o === null) throw invalidType(path, 'an object { value, selector }', v);
          const at = w.begin(typeNla);
          w.u32(Number(checkInteger(`${path}.value`, 'u32', o.value)));
          w.u32(Number(checkInteger(`${path}.selector`, 'u32', o.selector)));
          w.end(at);
        },
      };
    case 'pad':
      return { def, decode: () => undefined, encode: () => undefined };
    default: {
      const type = def.type as ScalarType;
      const enumCodec = def.enum ? family.enumCodec(def.enum) : undefined;
      return {
        def,
        decode: (buf, off, len) => {
          if (def.displayHint && def.displayHint !== 'hex' && len === 4 && type === 'u32') {
            return formatByHint(def.displayHint, buf, off, len);
          }
          // uint/sint are variable-width: 4 or 8 bytes, as the kernel chose.
          if (type === 'uint' || type === 'sint' ? len !== 4 && len < 8 : len < SCALAR_SIZE[type]) {
            throw new DecodeError(`${def.name}: ${type} attribute with ${len} bytes`);
          }
          const n = readScalar(buf, off, type, bigEndian, len);
          if (!enumCodec) return n;
          return def.enumAsFlags ? enumCodec.flagNames(n) : enumCodec.name(n);
        },
        encode: (w, v, _p, path) => {
          const at = w.begin(nlaType);
          if (def.displayHint && def.displayHint !== 'hex' && type === 'u32' && typeof v === 'string') {
            w.bytes(bytesByHint(path, def.displayHint, v));
          } else {
            let n: unknown = v;
            if (enumCodec) n = def.enumAsFlags ? enumCodec.mask(path, v) : enumCodec.value(path, v);
            writeScalar(
              w,
              type === 'uint' ? 'u64' : type === 'sint' ? 's64' : type,
              bigEndian,
              checkInteger(path, type, n),
            );
          }
          w.end(at);
        },
      };
    }
  }
}

/** A sub-message format: an optional fixed struct, then attributes. */
class SubMessageFormat {
  constructor(
    readonly header: StructCodec | undefined,
    readonly attributes: AttributeSchema | undefined,
  ) {}

  decode(buf: Buffer, off: number, len: number): Decoded {
    const out: Decoded = this.header ? this.header.decode(buf, off, len) : {};
    const start = off + (this.header?.size ?? 0);
    if (this.attributes && start < off + len) this.attributes.decode(buf, start, off + len, out);
    return out;
  }

  encode(w: Writer, value: Record<string, unknown>, path: string): void {
    if (this.header) this.header.encode(w, value, path);
    if (!this.attributes) return;
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!this.header?.members.some((m) => m.name === k)) rest[k] = v;
    }
    this.attributes.encode(w, rest, path);
  }
}

/**
 * Every schema of one generated family spec, built lazily and cached:
 * attribute sets, structs, enums and sub-message formats.
 */
export class FamilySchemas {
  private readonly sets = new Map<string, AttributeSchema>();
  private readonly structs = new Map<string, StructCodec>();
  private readonly enums = new Map<string, EnumCodec>();
  private readonly formats = new Map<string, Map<string, SubMessageFormat>>();

  constructor(readonly spec: FamilySpecDef) {}

  attributeSet(name: string): AttributeSchema {
    let set = this.sets.get(name);
    if (!set) {
      const def = this.spec.attributeSets[name];
      if (!def) throw new Error(`${this.spec.name}: no attribute set '${name}'`);
      set = new AttributeSchema(name, def.attributes, this);
      this.sets.set(name, set);
    }
    return set;
  }

  struct(name: string): StructCodec {
    let codec = this.structs.get(name);
    if (!codec) {
      const def = this.spec.structs[name];
      if (!def) throw new Error(`${this.spec.name}: no struct '${name}'`);
      codec = new StructCodec(def, this);
      this.structs.set(name, codec);
    }
    return codec;
  }

  enumCodec(name: string): EnumCodec {
    let codec = this.enums.get(name);
    if (!codec) {
      const def = this.spec.enums[name];
      if (!def) throw new Error(`${this.spec.name}: no enum '${name}'`);
      codec = new EnumCodec(def);
      this.enums.set(name, codec);
    }
    return codec;
  }

  /** The selector values a sub-message has formats for (e.g. every link kind with options). */
  subMessageSelectors(name: string): string[] {
    const def = this.spec.subMessages[name];
    if (!def) throw new Error(`${this.spec.name}: no sub-message '${name}'`);
    return def.formats.map((f) => f.value);
  }

  /** The format a sub-message takes for a selector value, if the spec has one. */
  subMessageFormat(name: string, selector: unknown): SubMessageFormat | undefined {
    let table = this.formats.get(name);
    if (!table) {
      table = new Map();
      const def = this.spec.subMessages[name];
      if (!def) throw new Error(`${this.spec.name}: no sub-message '${name}'`);
      for (const f of def.formats) {
        table.set(
          f.value,
          new SubMessageFormat(
            f.fixedHeader ? this.struct(f.fixedHeader) : undefined,
            f.attributeSet ? this.attributeSet(f.attributeSet) : undefined,
          ),
        );
      }
      this.formats.set(name, table);
    }
    return typeof selector === 'string' ? table.get(selector) : undefined;
  }
}

export { NLA_F_NESTED };
