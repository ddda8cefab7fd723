/**
 * Netlink attributes (TLVs): the writer that builds messages, the reader
 * that walks them, and the generic attribute tree that round-trips any
 * message byte for byte without knowing its schema.
 */
import { DecodeError } from '../errors';

export const NLA_HDRLEN = 4;
/** nla_type bits that are flags, not the type. */
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Appends netlink data to a growable buffer. Attributes are 4-byte aligned
 * with zeroed padding, as the kernel writes them, so what we build from a
 * decoded message is byte-identical to what the kernel sent.
 */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Zero bytes up to the next 4-byte boundary. */
  pad(): void {
    const aligned = align4(this.pos);
    if (aligned !== this.pos) {
      this.ensure(aligned - this.pos);
      this.buf.fill(0, this.pos, aligned);
      this.pos = aligned;
    }
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  // Byte stores rather than Buffer's write methods: these run several
  // times per message, and the methods' argument checks cost more than the
  // write itself.
  u16(v: number): void {
    if ((v & 0xffff) !== v) throw new RangeError(`u16 out of range: ${v}`);
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    this.pos = p + 2;
  }
  u16be(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
  }
  u32be(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }
  s32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
  }
  u64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
  }
  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Starts an attribute; returns its offset for end(). */
  begin(type: number): number {
    this.pad();
    const start = this.pos;
    this.ensure(NLA_HDRLEN);
    this.buf[start + 2] = type;
    this.buf[start + 3] = type >>> 8;
    this.pos += NLA_HDRLEN;
    return start;
  }

  /** Writes the length of the attribute begun at `start` (padding follows lazily). */
  end(start: number): void {
    const len = this.pos - start;
    this.buf[start] = len;
    this.buf[start + 1] = len >>> 8;
    this.pad();
  }

  attr(type: number, data: Uint8Array): void {
    const at = this.begin(type);
    this.bytes(data);
    this.end(at);
  }
  attrU8(type: number, v: number): void {
    const at = this.begin(type);
    this.u8(v);
    this.end(at);
  }
  attrU16(type: number, v: number): void {
    const at = this.begin(type);
    this.u16(v);
    this.end(at);
  }
  attrU32(type: number, v: number): void {
    const at = this.begin(type);
    this.u32(v);
    this.end(at);
  }
  attrU32BE(type: number, v: number): void {
    const at = this.begin(type);
    this.u32be(v);
    this.end(at);
  }
  attrString(type: number, s: string): void {
    const at = this.begin(type);
    const n = Buffer.byteLength(s);
    this.ensure(n + 1);
    this.buf.write(s, this.pos);
    this.pos += n;
    this.buf[this.pos++] = 0;
    this.end(at);
  }
  attrFlag(type: number): void {
    this.end(this.begin(type));
  }

  /** A copy of what was written. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /**
   * What was written, without copying: for a writer that is done (a
   * message builder's last step). Writing on afterwards may change it.
   */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Calls fn(type, flags, payloadOffset, payloadLength) for each attribute in
 * buf[start, end). Throws DecodeError on a length that overruns its parent.
 */
export function forEachAttribute(
  buf: Buffer,
  start: number,
  end: number,
  fn: (type: number, flags: number, offset: number, length: number) => void,
): void {
  let pos = start;
  while (pos + NLA_HDRLEN <= end) {
    const len = buf.readUInt16LE(pos);
    const rawType = buf.readUInt16LE(pos + 2);
    if (len < NLA_HDRLEN || pos + len > end) {
      throw new DecodeError(`attribute of type ${rawType & NLA_TYPE_MASK} at offset ${pos} has bad length ${len}`);
    }
    fn(rawType & NLA_TYPE_MASK, rawType & ~NLA_TYPE_MASK, pos + NLA_HDRLEN, len - NLA_HDRLEN);
    pos += align4(len);
  }
}

/**
 * Fixed-size attribute payloads, read by hand-written decoders: an
 * attribute shorter than its type is a DecodeError rather than a read of
 * the next attribute's bytes (or past the buffer).
 */
function checkPayload(size: number, off: number, len: number): void {
  if (len < size) throw new DecodeError(`attribute payload at offset ${off} has ${len} bytes, expected ${size}`);
}
export function attrU8(buf: Buffer, off: number, len: number): number {
  checkPayload(1, off, len);
  return buf[off];
}
export function attrU16(buf: Buffer, off: number, len: number): number {
  checkPayload(2, off, len);
  return buf.readUInt16LE(off);
}
export function attrU32(buf: Buffer, off: number, len: number): number {
  checkPayload(4, off, len);
  return buf.readUInt32LE(off);
}
export function attrS32(buf: Buffer, off: number, len: number): number {
  checkPayload(4, off, len);
  return buf.readInt32LE(off);
}

/**
 * One attribute of a generic tree: its type, the flag bits it was sent
 * with, and either its raw payload or, where the caller knew it to be a
 * nest, its children.
 */
export interface AttributeNode {
  type: number;
  /** NLA_F_NESTED / NLA_F_NET_BYTEORDER bits as sent. */
  flags: number;
  value?: Buffer;
  children?: AttributeNode[];
}

/**
 * Decides whether an attribute is a nest, given the types on the path to
 * it (outermost first). Without one, only NLA_F_NESTED marks a nest.
 */
export type NestPredicate = (path: readonly number[], type: number) => boolean;

/**
 * Parses attributes into a tree without a schema. Nests are expanded where
 * NLA_F_NESTED is set or `isNest` says so; everything else stays raw.
 */
export function decodeAttributeTree(
  buf: Buffer,
  start = 0,
  end = buf.length,
  isNest?: NestPredicate,
  path: number[] = [],
): AttributeNode[] {
  const out: AttributeNode[] = [];
  forEachAttribute(buf, start, end, (type, flags, offset, length) => {
    const nested = (flags & NLA_F_NESTED) !== 0 || (isNest?.(path, type) ?? false);
    if (nested) {
      path.push(type);
      const children = decodeAttributeTree(buf, offset, offset + length, isNest, path);
      path.pop();
      out.push({ type, flags, children });
    } else {
      out.push({ type, flags, value: Buffer.from(buf.subarray(offset, offset + length)) });
    }
  });
  return out;
}

/** Writes a tree back as attributes: the inverse of decodeAttributeTree. */
export function encodeAttributeTree(nodes: readonly AttributeNode[], writer: Writer = new Writer()): Writer {
  for (const node of nodes) {
    const at = writer.begin(node.type | node.flags);
    if (node.children) encodeAttributeTree(node.children, writer);
    else if (node.value) writer.bytes(node.value);
    writer.end(at);
  }
  return writer;
}
