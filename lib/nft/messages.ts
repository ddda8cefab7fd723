/**
 * nfnetlink messages for nftables: the batch framing, request builders
 * for every operation, and decoders for what the kernel dumps. Attributes
 * go through the nftables schema tables (lib/specs/nftables.ts).
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import { Writer } from '../netlink/attributes';
import { beginMessage, finishMessage, NLMSG_HDRLEN } from '../netlink/message';
import { FamilySchemas, type Decoded } from '../netlink/schema';
import {
  AF_UNSPEC,
  NFNETLINK_V0,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFNL_SUBSYS_NFTABLES,
  NFT_OBJECT_COUNTER,
  NFT_OBJECT_QUOTA,
  NFT_QUOTA_F_INV,
  NFT_SET_ELEM_INTERVAL_END,
  NF_ACCEPT,
  NF_DROP,
  NLM_F_REQUEST,
} from '../netlink/constants';
import { nftables } from '../specs';
import {
  DATA_TYPES,
  VERDICT_DATA_TYPE,
  dataTypeById,
  familyName,
  hookName,
  type DataType,
  type NftFamily,
} from './names';
import { addressInterval } from './rule';
import type {
  NftChain,
  NftElement,
  NftElementKey,
  NftExpression,
  NftObject,
  NftSet,
  NftTable,
  NftVerdictName,
} from './types';

export const nftSchemas = new FamilySchemas(nftables);
const attrs = (set: string) => nftSchemas.attributeSet(set);

/** Message type numbers by spec operation name ('newtable' -> 0x0a00), and their error names. */
const MESSAGE_TYPES = new Map<string, number>();
const OPERATION_NAMES = new Map<number, string>();
for (const op of nftables.operations) {
  if (op.requestValue === undefined) continue;
  MESSAGE_TYPES.set(op.name, op.requestValue);
  const upper = op.name.replace(/([A-Z])/g, '_$1').toUpperCase();
  OPERATION_NAMES.set(op.requestValue, op.name.startsWith('batch') ? `NFNL_MSG_${upper}` : `NFT_MSG_${upper}`);
  if (op.replyValue !== undefined && !OPERATION_NAMES.has(op.replyValue)) {
    OPERATION_NAMES.set(op.replyValue, `NFT_MSG_${upper}`);
  }
}

export function messageType(op: string): number {
  const t = MESSAGE_TYPES.get(op);
  if (t === undefined) throw new Error(`nftables spec has no operation ${op}`);
  return t;
}

/** 'NFT_MSG_NEWRULE' for a message type. */
export function operationName(type: number): string {
  return OPERATION_NAMES.get(type) ?? `message type ${type >> 8}:${type & 0xff}`;
}

/** One nfnetlink message: nlmsghdr, nfgenmsg, attributes. */
export function nftMessage(
  op: string,
  flags: number,
  family: number,
  attributeSet: string | null,
  value: Record<string, unknown>,
  resId = 0,
): Buffer {
  const w = new Writer(256);
  const start = beginMessage(w, messageType(op), NLM_F_REQUEST | flags);
  w.u8(family);
  w.u8(NFNETLINK_V0);
  w.u16be(resId);
  if (attributeSet) attrs(attributeSet).encode(w, value);
  finishMessage(w, start);
  return w.take();
}

/**
 * The frame of a transaction. The kernel applies the messages between
 * BATCH_BEGIN and BATCH_END all or nothing; with `generation` it refuses
 * the batch (ERESTART) if the ruleset changed since that generation.
 */
export function batchBegin(generation?: number): Buffer {
  const w = new Writer(32);
  const start = beginMessage(w, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST);
  w.u8(AF_UNSPEC);
  w.u8(NFNETLINK_V0);
  w.u16be(NFNL_SUBSYS_NFTABLES);
  if (generation !== undefined) attrs('batch-attrs').encode(w, { genid: generation });
  finishMessage(w, start);
  return w.take();
}

export function batchEnd(): Buffer {
  const w = new Writer(32);
  const start = beginMessage(w, NFNL_MSG_BATCH_END, NLM_F_REQUEST);
  w.u8(AF_UNSPEC);
  w.u8(NFNETLINK_V0);
  w.u16be(NFNL_SUBSYS_NFTABLES);
  finishMessage(w, start);
  return w.take();
}

/** A dump request: every object of a kind, optionally narrowed by attributes. */
export function dumpMessage(
  op: string,
  flags: number,
  family = AF_UNSPEC,
  attributeSet: string | null = null,
  value = {},
): Buffer {
  return nftMessage(op, flags, family, attributeSet, value);
}

// ---- user data ------------------------------------------------------------

/** nft keeps comments in userdata as TLVs: type (NFTNL_UDATA_*_COMMENT = 0), length, NUL-terminated text. */
const UDATA_COMMENT = 0;

export function commentUserdata(comment: string, argument: string): Buffer {
  const text = Buffer.from(`${comment}\0`);
  if (text.length > 128) throw outOfRange(argument, 'at most 127 bytes long', comment);
  return Buffer.concat([Buffer.from([UDATA_COMMENT, text.length]), text]);
}

export function userdataComment(b: unknown): string | undefined {
  if (!Buffer.isBuffer(b)) return undefined;
  for (let i = 0; i + 2 <= b.length;) {
    const type = b[i];
    const len = b[i + 1];
    if (i + 2 + len > b.length) return undefined;
    if (type === UDATA_COMMENT) {
      const v = b.subarray(i + 2, i + 2 + len);
      const nul = v.indexOf(0);
      return v.toString('utf8', 0, nul === -1 ? v.length : nul);
    }
    i += 2 + len;
  }
  return undefined;
}

// ---- set elements ------------------------------------------------------

/** What encoding elements needs to know about their set. */
export interface SetShape {
  key: DataType;
  /** A map's data: a data type or 'verdict'. */
  data?: DataType | 'verdict';
  interval: boolean;
}

function bigFromBytes(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${b.toString('hex')}`);
}
function bytesFromBig(v: bigint, len: number): Buffer {
  return Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex');
}

/** An element key as [first, last] bytes (equal unless a prefix or range). */
function keyInterval(type: DataType, key: unknown, argument: string): { first: Buffer; last: Buffer } {
  if (type.name === 'ipv4_addr' || type.name === 'ipv6_addr') {
    const r = addressInterval(key, type.name === 'ipv4_addr' ? 4 : 6, argument);
    return { first: r.first, last: r.last };
  }
  if (Array.isArray(key)) {
    if (key.length !== 2) throw invalidValue(argument, key, 'must be [first, last]');
    const first = type.encode(key[0], `${argument}[0]`);
    const last = type.encode(key[1], `${argument}[1]`);
    if (type.name === 'inet_service' ? Buffer.compare(first, last) > 0 : false) {
      throw invalidValue(argument, key, 'must not end before it starts');
    }
    return { first, last };
  }
  const b = type.encode(key, argument);
  return { first: b, last: b };
}

function verdictData(v: unknown, argument: string): Record<string, unknown> {
  if (typeof v === 'string') {
    if (!['accept', 'drop', 'continue', 'return'].includes(v)) {
      throw invalidValue(
        argument,
        v,
        "must be 'accept', 'drop', 'continue', 'return' or { verdict: 'jump'|'goto', target }",
      );
    }
    return { verdict: { code: v } };
  }
  if (typeof v === 'object' && v !== null) {
    const { verdict, target } = v as { verdict?: unknown; target?: unknown };
    if (verdict === 'jump' || verdict === 'goto') {
      if (typeof target !== 'string' || target.length === 0)
        throw invalidType(`${argument}.target`, 'a chain name', target);
      return { verdict: { code: verdict, chain: target } };
    }
    return verdictData(verdict, `${argument}.verdict`);
  }
  throw invalidType(argument, 'a verdict', v);
}

/**
 * Elements as the kernel wants them: one per key, or for an interval set
 * a start element per range and an INTERVAL_END element one past its end
 * (the layout `nft` sends for its rbtree sets).
 */
export function encodeElements(shape: SetShape, elements: NftElement[], argument: string): Record<string, unknown>[] {
  if (!Array.isArray(elements)) throw invalidType(argument, 'an array of elements', elements);
  const items = elements.map((e, i) => {
    const arg = `${argument}[${i}]`;
    const obj = typeof e === 'object' && e !== null && !Array.isArray(e) ? e : { key: e };
    if (obj.key === undefined) throw invalidType(`${arg}.key`, 'an element key', obj.key);
    const range = keyInterval(shape.key, obj.key, obj === e ? `${arg}.key` : arg);
    if (!shape.interval && !range.first.equals(range.last)) {
      throw invalidValue(arg, obj.key, "is a range: the set needs the 'interval' flag");
    }
    const out: Record<string, unknown> = {};
    if (obj.value !== undefined) {
      if (!shape.data) throw invalidValue(`${arg}.value`, obj.value, 'belongs to a map element; this is a set');
      out.data =
        shape.data === 'verdict'
          ? verdictData(obj.value, `${arg}.value`)
          : { value: shape.data.encode(obj.value, `${arg}.value`) };
    } else if (shape.data) throw invalidType(`${arg}.value`, 'the map value of the element', obj.value);
    if (obj.timeout !== undefined) {
      if (typeof obj.timeout !== 'number' || !(obj.timeout > 0))
        throw invalidValue(`${arg}.timeout`, obj.timeout, 'must be a positive number of seconds');
      out.timeout = Math.round(obj.timeout * 1000);
    }
    return { range, out };
  });
  if (!shape.interval) return items.map(({ range, out }) => ({ key: { value: range.first }, ...out }));
  items.sort((a, b) => Buffer.compare(a.range.first, b.range.first));
  const result: Record<string, unknown>[] = [];
  const len = shape.key.len;
  const max = (1n << BigInt(len * 8)) - 1n;
  for (let i = 0; i < items.length; i++) {
    const { range, out } = items[i];
    if (i > 0 && Buffer.compare(range.first, items[i - 1].range.last) <= 0) {
      throw invalidValue(argument, elements, 'holds overlapping intervals');
    }
    result.push({ key: { value: range.first }, ...out });
    const last = bigFromBytes(range.last);
    if (last < max) result.push({ key: { value: bytesFromBig(last + 1n, len) }, flags: NFT_SET_ELEM_INTERVAL_END });
  }
  return result;
}

/** Decoded setelem attributes back to typed elements (intervals joined, prefixes where they fit). */
export function decodeElements(shape: SetShape | undefined, raw: Decoded[]): NftElement[] {
  if (!shape)
    return raw.map((r) => ((r.key as Decoded | undefined)?.value as Buffer | undefined)?.toString('hex') ?? '');
  const entries = raw
    .map((r) => ({
      key: (r.key as Decoded | undefined)?.value as Buffer | undefined,
      end: (((r.flags as number | undefined) ?? 0) & NFT_SET_ELEM_INTERVAL_END) !== 0,
      r,
    }))
    .filter((e): e is { key: Buffer; end: boolean; r: Decoded } => Buffer.isBuffer(e.key));
  const extras = (r: Decoded): Omit<Exclude<NftElement, NftElementKey>, 'key'> => {
    const x: Record<string, unknown> = {};
    const data = r.data as Decoded | undefined;
    if (data && shape.data) x.value = decodeData(shape.data, data);
    if (r.timeout !== undefined) x.timeout = (r.timeout as number) / 1000;
    if (r.expiration !== undefined) x.expires = Math.round((r.expiration as number) / 1000);
    const expr = r.expr as Decoded | undefined;
    if (expr?.name === 'counter') {
      const d = (expr.data ?? {}) as Decoded;
      x.counter = { packets: Number(d.packets ?? 0), bytes: Number(d.bytes ?? 0) };
    }
    return x;
  };
  const wrap = (key: NftElementKey, r: Decoded): NftElement => {
    const x = extras(r);
    return Object.keys(x).length ? { key, ...x } : key;
  };
  // Sorted by key, as nft lists them (the kernel's hash order is arbitrary).
  entries.sort((a, b) => Buffer.compare(a.key, b.key) || Number(b.end) - Number(a.end));
  if (!shape.interval) return entries.map((e) => wrap(shape.key.decode(e.key), e.r));
  const out: NftElement[] = [];
  const len = shape.key.len;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.end) continue; // an end with no start: the 0 sentinel nft adds
    const next = entries[i + 1];
    const first = e.key;
    const last = next?.end
      ? bytesFromBig(bigFromBytes(next.key) - 1n, len)
      : bytesFromBig((1n << BigInt(len * 8)) - 1n, len);
    out.push(wrap(intervalKey(shape.key, first, last), e.r));
  }
  return out;
}

function intervalKey(type: DataType, first: Buffer, last: Buffer): NftElementKey {
  if (first.equals(last)) return type.decode(first);
  if (type.name === 'ipv4_addr' || type.name === 'ipv6_addr') {
    // A CIDR prefix when [first, last] is exactly one.
    const span = bigFromBytes(last) - bigFromBytes(first) + 1n;
    const bits = span.toString(2).length - 1;
    if (span === 1n << BigInt(bits) && (bigFromBytes(first) & (span - 1n)) === 0n) {
      return `${type.decode(first)}/${type.len * 8 - bits}`;
    }
  }
  return [type.decode(first), type.decode(last)];
}

function decodeData(
  type: DataType | 'verdict',
  data: Decoded,
): string | number | { verdict: NftVerdictName; target?: string } {
  if (type === 'verdict') {
    const v = data.verdict as Decoded | undefined;
    const code = v?.code as NftVerdictName;
    return v?.chain !== undefined ? { verdict: code, target: v.chain as string } : code;
  }
  return type.decode(data.value as Buffer);
}

// ---- decoders --------------------------------------------------------------

function header(buf: Buffer, offset: number): { family: NftFamily; start: number } {
  return { family: familyName(buf[offset + NLMSG_HDRLEN]) as NftFamily, start: offset + NLMSG_HDRLEN + 4 };
}

export function decodeTable(buf: Buffer, offset: number, length: number): NftTable {
  const { family, start } = header(buf, offset);
  const a = attrs('table-attrs').decode(buf, start, offset + length);
  const out: NftTable = {
    family,
    name: a.name as string,
    handle: (a.handle as number) ?? 0,
    flags: ((a.flags as (string | number)[] | undefined) ?? []).map(String),
  };
  if (a.use !== undefined) out.use = a.use as number;
  return out;
}

export function decodeChain(buf: Buffer, offset: number, length: number): NftChain {
  const { family, start } = header(buf, offset);
  const a = attrs('chain-attrs').decode(buf, start, offset + length);
  const out: NftChain = { family, table: a.table as string, name: a.name as string, handle: (a.handle as number) ?? 0 };
  const hook = a.hook as Decoded | undefined;
  if (a.type !== undefined) out.type = a.type as NftChain['type'];
  if (hook) {
    if (hook.num !== undefined) out.hook = String(hookName(family, hook.num as number));
    if (hook.priority !== undefined) out.priority = hook.priority as number;
    if (hook.dev !== undefined) out.device = hook.dev as string;
    const devs = (hook.devs as Decoded | undefined)?.name as string[] | undefined;
    // Newer kernels report a single device both ways; keep `device` alone then.
    if (devs && !(devs.length === 1 && devs[0] === out.device)) out.devices = devs;
  }
  if (a.policy !== undefined)
    out.policy = a.policy === NF_ACCEPT ? 'accept' : a.policy === NF_DROP ? 'drop' : (a.policy as never);
  if (a.use !== undefined) out.use = a.use as number;
  return out;
}

/** A rule before its expressions are turned into the typed form. */
export interface RawRule {
  family: NftFamily;
  table: string;
  chain: string;
  handle: number;
  expressions: NftExpression[];
  comment?: string;
}

export function decodeRawRule(buf: Buffer, offset: number, length: number): RawRule {
  const { family, start } = header(buf, offset);
  const a = attrs('rule-attrs').decode(buf, start, offset + length);
  const list = ((a.expressions as Decoded | undefined)?.elem as Decoded[] | undefined) ?? [];
  const out: RawRule = {
    family,
    table: a.table as string,
    chain: a.chain as string,
    handle: (a.handle as number) ?? 0,
    expressions: list.map((e) =>
      e.data === undefined ? { name: e.name as string } : { name: e.name as string, data: e.data as Decoded },
    ),
  };
  const comment = userdataComment(a.userdata);
  if (comment !== undefined) out.comment = comment;
  return out;
}

/** A set with what decoding its elements needs. */
export interface RawSet extends Omit<NftSet, 'elements'> {
  anonymous: boolean;
  shape?: SetShape;
}

const SET_FLAG_NAMES: Record<string, string> = { eval: 'dynamic' };

export function decodeSet(buf: Buffer, offset: number, length: number): RawSet {
  const { family, start } = header(buf, offset);
  const a = attrs('set-attrs').decode(buf, start, offset + length);
  const flags = ((a.flags as (string | number)[] | undefined) ?? []).map(String);
  const key = dataTypeById(a.keyType as number);
  const isMap = flags.includes('map');
  const data = isMap ? (a.dataType === VERDICT_DATA_TYPE ? 'verdict' : dataTypeById(a.dataType as number)) : undefined;
  const out: RawSet = {
    family,
    table: a.table as string,
    name: a.name as string,
    handle: (a.handle as number) ?? 0,
    type: key?.name ?? (a.keyType as number),
    flags: flags.filter((f) => !['map', 'anonymous', 'expr', 'object'].includes(f)).map((f) => SET_FLAG_NAMES[f] ?? f),
    anonymous: flags.includes('anonymous'),
  };
  if (isMap) out.map = data === 'verdict' ? 'verdict' : (data?.name ?? (a.dataType as number));
  if (a.timeout !== undefined) out.timeout = (a.timeout as number) / 1000;
  const desc = a.desc as Decoded | undefined;
  if (desc?.size !== undefined) out.size = desc.size as number;
  const exprs = (a.expr as Decoded[] | undefined) ?? [];
  if (exprs.some((e) => e.name === 'counter')) out.counter = true;
  if (key && (!isMap || data)) out.shape = { key, data, interval: flags.includes('interval') };
  return out;
}

/** The elements of one GETSETELEM reply message. */
export function decodeSetElements(buf: Buffer, offset: number, length: number): Decoded[] {
  const { start } = header(buf, offset);
  const a = attrs('setelem-list-attrs').decode(buf, start, offset + length);
  return ((a.elements as Decoded | undefined)?.elem as Decoded[] | undefined) ?? [];
}

export function decodeObject(buf: Buffer, offset: number, length: number): NftObject | undefined {
  const { family, start } = header(buf, offset);
  const a = attrs('obj-attrs').decode(buf, start, offset + length);
  const base = { family, table: a.table as string, name: a.name as string, handle: (a.handle as number) ?? 0 };
  const d = (a.data ?? {}) as Decoded;
  if (a.type === 'counter')
    return { ...base, type: 'counter', packets: Number(d.packets ?? 0), bytes: Number(d.bytes ?? 0) };
  if (a.type === 'quota') {
    const flags = (d.flags as string[] | undefined) ?? [];
    return {
      ...base,
      type: 'quota',
      bytes: Number(d.bytes ?? 0),
      used: Number(d.consumed ?? 0),
      over: flags.includes('invert'),
    };
  }
  return undefined;
}

export function decodeGeneration(buf: Buffer, offset: number, length: number): number {
  const { start } = header(buf, offset);
  return attrs('gen-attrs').decode(buf, start, offset + length).id as number;
}

export { NFT_OBJECT_COUNTER, NFT_OBJECT_QUOTA, NFT_QUOTA_F_INV, DATA_TYPES };
