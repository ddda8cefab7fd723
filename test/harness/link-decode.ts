/**
 * Comparing decodeLink with decodeLinkGeneric, the schema walk it replaced
 * (test/unit/link-decode.test.ts on fixtures, test/integration/
 * link-decode.test.ts on live dumps): the verdict on one message, and
 * mutations of real messages to feed both.
 */
import { decodeLink, decodeLinkGeneric, type Link } from '../../lib/link';
import { DecodeError } from '../../lib/errors';
import { NLMSG_HDRLEN } from '../../lib/netlink/message';
import { NLA_TYPE_MASK } from '../../lib/netlink/attributes';

const IFINFOMSG = 16;

type Outcome = { link: Link } | { error: unknown };

export function run(decode: typeof decodeLink, buf: Buffer, off: number, len: number): Outcome {
  try {
    return { link: decode(buf, off, len) };
  } catch (error) {
    return { error };
  }
}

/** Why the two decoders disagree on these bytes, or undefined when they agree. */
export function disagreement(buf: Buffer, off = 0, len = buf.length): string | undefined {
  const generic = run(decodeLinkGeneric, buf, off, len);
  const direct = run(decodeLink, buf, off, len);
  if ('error' in generic || 'error' in direct) {
    if (!('error' in generic) || !('error' in direct)) {
      return `only ${'error' in generic ? 'decodeLinkGeneric' : 'decodeLink'} threw: ${String('error' in generic ? generic.error : (direct as { error: unknown }).error)}`;
    }
    if (!(direct.error instanceof DecodeError)) return `decodeLink threw ${String(direct.error)}`;
    if (!(generic.error instanceof DecodeError)) return `decodeLinkGeneric threw ${String(generic.error)}`;
    if (direct.error.message !== generic.error.message) {
      return `different errors: ${direct.error.message} / ${generic.error.message}`;
    }
    return undefined;
  }
  const a = JSON.stringify(direct.link);
  const b = JSON.stringify(generic.link);
  if (a !== b) return `different output:\n  decodeLink        ${a}\n  decodeLinkGeneric ${b}`;
  try {
    expect(direct.link).toStrictEqual(generic.link);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** A deterministic PRNG (mulberry32), so a failing mutation replays. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Offsets of the attributes in buf[start, end), nests (by the NLA_F_NESTED bit or a plausible layout) included. */
export function attributeOffsets(buf: Buffer, start: number, end: number, depth = 0): number[] {
  const out: number[] = [];
  let pos = start;
  while (pos + 4 <= end) {
    const len = buf.readUInt16LE(pos);
    if (len < 4 || pos + len > end) break;
    out.push(pos);
    if (depth < 3 && len >= 8) out.push(...attributeOffsets(buf, pos + 4, pos + len, depth + 1));
    pos += (len + 3) & ~3;
  }
  return out;
}

/**
 * Mutation number `i % 6` of a copy of `seed` (a whole RTM_NEWLINK
 * message): random bytes, a truncation, an attribute's length or type
 * changed, an attribute's payload cut short with the rest kept aligned, or
 * an attribute repeated at the end. Decode bytes[0, len).
 */
export function mutate(seed: Buffer, rand: () => number, i: number): { bytes: Buffer; len: number; mutation: number } {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  let bytes = Buffer.from(seed);
  let len = bytes.length;
  const attrs = attributeOffsets(bytes, NLMSG_HDRLEN + IFINFOMSG, bytes.length);
  const mutation = i % 6;
  if (mutation === 0) {
    // Random bytes anywhere after the netlink header.
    for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
      bytes[NLMSG_HDRLEN + Math.floor(rand() * (len - NLMSG_HDRLEN))] = Math.floor(rand() * 256);
    }
  } else if (mutation === 1) {
    // Truncated: a shorter length, cutting an attribute anywhere.
    len = NLMSG_HDRLEN + IFINFOMSG + Math.floor(rand() * (len - NLMSG_HDRLEN - IFINFOMSG));
  } else if (mutation === 2 && attrs.length) {
    // An attribute (top-level or nested) claiming another length.
    const at = pick(attrs);
    const old = bytes.readUInt16LE(at);
    bytes.writeUInt16LE(rand() < 0.5 ? Math.floor(rand() * old) : Math.floor(rand() * (old + 16)), at);
  } else if (mutation === 3 && attrs.length) {
    // An attribute of another type (a stats64 read as an mtu, a name as a nest, ...).
    const at = pick(attrs);
    const flags = bytes.readUInt16LE(at + 2) & ~NLA_TYPE_MASK;
    bytes.writeUInt16LE(flags | Math.floor(rand() * 72), at + 2);
  } else if (mutation === 4 && attrs.length) {
    // One top-level attribute's payload cut short, the rest kept aligned.
    const top = attributeOffsets(bytes, NLMSG_HDRLEN + IFINFOMSG, bytes.length, 3);
    const at = pick(top);
    const old = bytes.readUInt16LE(at);
    const keep = 4 + Math.floor(rand() * (old - 4));
    const head = Buffer.from(bytes.subarray(0, at + keep));
    head.writeUInt16LE(keep, at);
    const pad = Buffer.alloc(((keep + 3) & ~3) - keep);
    bytes = Buffer.concat([head, pad, bytes.subarray(at + ((old + 3) & ~3))]);
    bytes.writeUInt32LE(bytes.length, 0);
    len = bytes.length;
  } else if (attrs.length) {
    // An attribute repeated at the end: the last one wins, in both.
    const top = attributeOffsets(bytes, NLMSG_HDRLEN + IFINFOMSG, bytes.length, 3);
    const at = pick(top);
    const copy = bytes.subarray(at, at + ((bytes.readUInt16LE(at) + 3) & ~3));
    bytes = Buffer.concat([bytes.subarray(0, (len + 3) & ~3), copy]);
    len = bytes.length;
  }
  return { bytes, len, mutation };
}
