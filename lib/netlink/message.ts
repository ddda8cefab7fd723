/**
 * nlmsghdr: building a message around a payload, and walking the messages
 * packed in a datagram.
 */
import { DecodeError } from '../errors';
import { Writer, align4 } from './attributes';

export const NLMSG_HDRLEN = 16;

export interface NetlinkHeader {
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export function readHeader(buf: Buffer, offset: number): NetlinkHeader {
  return {
    length: buf.readUInt32LE(offset),
    type: buf.readUInt16LE(offset + 4),
    flags: buf.readUInt16LE(offset + 6),
    seq: buf.readUInt32LE(offset + 8),
    pid: buf.readUInt32LE(offset + 12),
  };
}

/**
 * Starts a message in `writer`: reserve the header, return its offset.
 * finishMessage() fills the length once the payload is written. seq and pid
 * are left 0: the engine stamps seq when it sends.
 */
export function beginMessage(writer: Writer, type: number, flags: number): number {
  writer.pad();
  const start = writer.pos;
  writer.u32(0);
  writer.u16(type);
  writer.u16(flags);
  writer.u32(0);
  writer.u32(0);
  return start;
}

export function finishMessage(writer: Writer, start: number): void {
  writer.pad();
  const len = writer.pos - start;
  const b = writer.buf;
  b[start] = len;
  b[start + 1] = len >>> 8;
  b[start + 2] = len >>> 16;
  b[start + 3] = len >>> 24;
}

/** A whole message: header fields and a payload. */
export function buildMessage(type: number, flags: number, payload: Uint8Array): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN + align4(payload.length));
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(type, 4);
  buf.writeUInt16LE(flags, 6);
  buf.set(payload, NLMSG_HDRLEN);
  return buf;
}

/**
 * Checks that buf[offset, offset+length) is a whole message whose payload
 * starts with `headerLength` bytes of fixed header: a decoder handed a
 * shorter or overrunning one throws DecodeError rather than reading past
 * it (Buffer's RangeError, or worse, a neighbour's bytes).
 */
export function checkMessage(buf: Buffer, offset: number, length: number, headerLength: number, what: string): void {
  if (
    !Number.isInteger(offset) ||
    !Number.isInteger(length) ||
    offset < 0 ||
    length < NLMSG_HDRLEN + headerLength ||
    offset + length > buf.length
  ) {
    throw new DecodeError(`${what} message of ${length} bytes at offset ${offset} is truncated or overruns its buffer`);
  }
}

/**
 * Calls fn(offset, header) for every message in buf[start, end). A length
 * that overruns the datagram is a DecodeError.
 */
export function forEachMessage(
  buf: Buffer,
  start: number,
  end: number,
  fn: (offset: number, type: number, flags: number, seq: number, length: number) => void,
): void {
  let pos = start;
  while (pos + NLMSG_HDRLEN <= end) {
    const length = buf.readUInt32LE(pos);
    if (length < NLMSG_HDRLEN || pos + length > end) {
      throw new DecodeError(`netlink message at offset ${pos} has bad length ${length}`);
    }
    fn(pos, buf.readUInt16LE(pos + 4), buf.readUInt16LE(pos + 6), buf.readUInt32LE(pos + 8), length);
    pos += align4(length);
  }
}
