/**
 * The codec fuzzer: real messages captured from the kernel and iproute2
 * (test/fixtures/*.json), mutated and fed to every decoder the library
 * has. A decoder must return, or throw DecodeError: any other exception is
 * a finding, and so is an input that takes too long or a result far larger
 * than the input that made it. Pure and deterministic for a seed, so a
 * finding replays from its seed and index alone.
 *
 * Used by reliability/fuzz.test.ts (a quick run, in a worker with a
 * watchdog) and scripts/fuzz.js (`npm run fuzz`, the long run).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DecodeError } from '../../lib/errors';
import { findDecoder } from '../../lib/registry';
import { decodeAttributeTree, forEachAttribute } from '../../lib/netlink/attributes';
import { NLMSG_HDRLEN, buildMessage, forEachMessage } from '../../lib/netlink/message';
import { FamilySchemas } from '../../lib/netlink/schema';
import * as constants from '../../lib/netlink/constants';
import * as specs from '../../lib/specs';
import { decodeLink } from '../../lib/link';
import { decodeAddress } from '../../lib/addr';
import { decodeRoute } from '../../lib/route';
import { decodeRule } from '../../lib/rule';
import { decodeNeighbour } from '../../lib/neigh';
import { decodeGroup, decodeNexthop, decodeNexthopBucket } from '../../lib/nexthop';
import { decodeActions, decodeClass, decodeFilter, decodeQdisc } from '../../lib/tc';
import { decodeAction, decodeActionList } from '../../lib/tc/actions';
import { decodeLegacyStats, decodeStats } from '../../lib/tc/stats';
import { decodeBridgeVlans } from '../../lib/bridge';
import { decodeNsidReply } from '../../lib/nsid';
import { decodeNetconf } from '../../lib/netconf';
import { rtLinkSchemas } from '../../lib/families';
// Registers every group's decoders in the registry, as the library does on load.
import '../../lib';

/** One decoder under test: gets a message (header included) or a bare attribute stream. */
export interface FuzzTarget {
  name: string;
  /** 'message': buf holds a netlink message at [off, off+len); 'range': a payload at [start, end). */
  kind: 'message' | 'range';
  run(buf: Buffer, off: number, len: number): unknown;
}

export interface Finding {
  seed: number;
  index: number;
  target: string;
  input: string;
  error: string;
}

export interface FuzzResult {
  inputs: number;
  calls: number;
  decoded: number;
  decodeErrors: number;
  findings: Finding[];
  slowestMs: number;
  slowestTarget: string;
  largestResult: number;
  elapsedMs: number;
  heapUsedMB: number;
}

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** Every message the fixtures hold, as bytes (header included). */
export function loadCorpus(dir = FIXTURES): Buffer[] {
  const out: Buffer[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.hex === 'string' && /^[0-9a-f]+$/i.test(o.hex) && o.hex.length >= NLMSG_HDRLEN * 2) {
      out.push(Buffer.from(o.hex, 'hex'));
    } else if (typeof o.payload === 'string' && typeof o.type === 'string') {
      out.push(buildMessage(Number(o.type), 0, Buffer.from(o.payload, 'hex')));
    }
    for (const child of Object.values(o)) if (typeof child === 'object') visit(child);
  };
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    visit(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')));
  }
  return out;
}

const FAMILY_SPECS = Object.values(specs) as ConstructorParameters<typeof FamilySchemas>[0][];

/** Every decoder: registry decoders for every RTM_* type, the named decoders, and every attribute set. */
export function allTargets(): FuzzTarget[] {
  const targets: FuzzTarget[] = [];
  const message = (name: string, run: FuzzTarget['run']) => targets.push({ name, kind: 'message', run });
  const range = (name: string, run: (buf: Buffer, start: number, end: number) => unknown) =>
    targets.push({ name, kind: 'range', run: (buf, off, len) => run(buf, off, off + len) });

  const rtmNames = Object.entries(constants).filter(
    ([k, v]) => /^RTM_(NEW|DEL|GET|SET)/.test(k) && typeof v === 'number',
  ) as [string, number][];
  for (const [name, type] of rtmNames) {
    const decoder = findDecoder(constants.NETLINK_ROUTE, type);
    if (decoder) message(`registry ${name}`, (buf, off, len) => decoder.decode(buf, off, len));
  }
  message('decodeLink', decodeLink);
  message('decodeAddress', decodeAddress);
  message('decodeRoute', decodeRoute);
  message('decodeRule', decodeRule);
  message('decodeNeighbour', decodeNeighbour);
  message('decodeNexthop', decodeNexthop);
  message('decodeNexthopBucket', decodeNexthopBucket);
  message('decodeQdisc', decodeQdisc);
  message('decodeClass', decodeClass);
  message('decodeFilter', decodeFilter);
  message('decodeActions', decodeActions);
  message('decodeBridgeVlans', decodeBridgeVlans);
  message('decodeNsidReply', decodeNsidReply);
  message('decodeNetconf', decodeNetconf);
  message('forEachMessage+registry', (buf, off, len) => {
    const out: unknown[] = [];
    forEachMessage(buf, off, off + len, (o, type, _flags, _seq, l) => {
      const decoder = findDecoder(constants.NETLINK_ROUTE, type);
      if (decoder) out.push(decoder.decode(buf, o, l));
    });
    return out;
  });
  range('decodeGroup', (buf, start, end) => decodeGroup(buf.subarray(start, end)));
  range('decodeAction', decodeAction);
  range('decodeActionList', decodeActionList);
  range('decodeStats', decodeStats);
  range('decodeLegacyStats', (buf, start, end) => decodeLegacyStats(buf, start, end - start));
  range('decodeAttributeTree', (buf, start, end) => decodeAttributeTree(buf, start, end));
  range('decodeAttributeTree(all nests)', (buf, start, end) => decodeAttributeTree(buf, start, end, () => true));
  range('forEachAttribute', (buf, start, end) => {
    let n = 0;
    forEachAttribute(buf, start, end, () => n++);
    return n;
  });
  const families = [rtLinkSchemas, ...FAMILY_SPECS.map((spec) => new FamilySchemas(spec))];
  for (const family of families) {
    for (const set of Object.keys(family.spec.attributeSets)) {
      range(`${family.spec.name} attribute set ${set}`, (buf, start, end) =>
        family.attributeSet(set).decode(buf, start, end),
      );
    }
    for (const sub of Object.keys(family.spec.subMessages)) {
      for (const selector of family.subMessageSelectors(sub)) {
        const format = family.subMessageFormat(sub, selector);
        if (format)
          range(`${family.spec.name} ${sub}/${selector}`, (buf, start, end) => format.decode(buf, start, end - start));
      }
    }
  }
  return targets;
}

/** xorshift32: fast, deterministic for a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
}

const INTERESTING16 = [0, 1, 3, 4, 5, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffc, 0xffff];
const INTERESTING32 = [0, 1, 4, 16, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0];

/** A mutated copy of `seed`: one to a few of bit flips, length edits, splices, truncation, growth. */
export function mutate(rng: Rng, seed: Buffer, corpus: Buffer[]): Buffer {
  let buf = Buffer.from(seed);
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const n = buf.length;
    switch (rng.below(11)) {
      case 0: // flip a bit
        if (n) buf[rng.below(n)] ^= 1 << rng.below(8);
        break;
      case 1: // a random byte
        if (n) buf[rng.below(n)] = rng.below(256);
        break;
      case 2: // an interesting 16-bit value at an attribute-aligned offset (nla_len, nla_type)
        if (n >= 2)
          buf.writeUInt16LE(INTERESTING16[rng.below(INTERESTING16.length)], rng.below(n >> 1) * 2 - (n & 1 ? 0 : 0));
        break;
      case 3: // an interesting 32-bit value at a 4-aligned offset (nlmsg_len, struct members)
        if (n >= 4) buf.writeUInt32LE(INTERESTING32[rng.below(INTERESTING32.length)], rng.below(n >> 2) * 4);
        break;
      case 4: // truncate
        buf = buf.subarray(0, rng.below(n + 1));
        break;
      case 5: // grow with random bytes
        buf = Buffer.concat([buf, Buffer.from(Array.from({ length: 1 + rng.below(64) }, () => rng.below(256)))]);
        break;
      case 6: {
        // splice: the tail of another message after a prefix of this one
        const other = corpus[rng.below(corpus.length)];
        const cut = rng.below(n + 1);
        const from = rng.below(other.length + 1);
        buf = Buffer.concat([buf.subarray(0, cut), other.subarray(from)]);
        break;
      }
      case 7: {
        // duplicate a chunk (repeated attributes)
        if (!n) break;
        const a = rng.below(n);
        const b = a + rng.below(Math.min(64, n - a) + 1);
        buf = Buffer.concat([buf.subarray(0, b), buf.subarray(a, b), buf.subarray(b)]);
        break;
      }
      case 8: {
        // insert an attribute header with a hostile length and a random (often nested) type
        const at = n ? rng.below(n >> 2) * 4 : 0;
        const hdr = Buffer.alloc(4);
        hdr.writeUInt16LE(INTERESTING16[rng.below(INTERESTING16.length)], 0);
        hdr.writeUInt16LE(rng.below(64) | (rng.chance(0.5) ? 0x8000 : 0), 2);
        buf = Buffer.concat([buf.subarray(0, at), hdr, buf.subarray(at)]);
        break;
      }
      case 9: // zero a range
        if (n) {
          const a = rng.below(n);
          buf.fill(0, a, a + rng.below(n - a + 1));
        }
        break;
      default: // keep the netlink length consistent with the bytes, so the decoder gets past framing
        break;
    }
  }
  if (buf.length >= 4 && rng.chance(0.7)) buf.writeUInt32LE(buf.length, 0);
  return buf;
}

function randomBytes(rng: Rng, max: number): Buffer {
  const buf = Buffer.alloc(rng.below(max + 1));
  for (let i = 0; i < buf.length; i++) buf[i] = rng.below(256);
  return buf;
}

/** Counts the values in a result, reading every property (lazy getters included). */
function measure(value: unknown, budget: { left: number }, depth = 0): void {
  if (--budget.left < 0) return;
  if (value === null || typeof value !== 'object' || depth > 64) {
    if (typeof value === 'string') budget.left -= value.length >> 4;
    return;
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
    budget.left -= (value as Uint8Array).length >> 4;
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) measure(item, budget, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) measure((value as Record<string, unknown>)[key], budget, depth + 1);
  // A lazily decoded field is a getter: reading it must obey the same rules.
  void JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Called every `every` inputs with the index reached (progress for a watchdog). */
  progress?: (index: number) => void;
  every?: number;
  /** Stop after this many findings (they tend to repeat). */
  maxFindings?: number;
  /** An input whose decoders take longer than this is a finding. */
  slowMs?: number;
}

/**
 * Runs `count` inputs. Each input is a mutated fixture message (or, one
 * time in ten, random bytes) given to one message decoder chosen at
 * random, to the registry decoder its header names, and to one attribute
 * decoder on its payload past a random offset.
 */
export function runFuzz(options: FuzzOptions): FuzzResult {
  const { seed, count } = options;
  const rng = new Rng(seed);
  const corpus = loadCorpus();
  const targets = allTargets();
  const messageTargets = targets.filter((t) => t.kind === 'message');
  const rangeTargets = targets.filter((t) => t.kind === 'range');
  const findings: Finding[] = [];
  const result: FuzzResult = {
    inputs: 0,
    calls: 0,
    decoded: 0,
    decodeErrors: 0,
    findings,
    slowestMs: 0,
    slowestTarget: '',
    largestResult: 0,
    elapsedMs: 0,
    heapUsedMB: 0,
  };
  const started = Date.now();
  const every = options.every ?? 1000;
  const slowMs = options.slowMs ?? 250;
  const maxFindings = options.maxFindings ?? 50;
  const seen = new Set<string>();

  const call = (target: FuzzTarget, buf: Buffer, off: number, len: number, index: number) => {
    result.calls++;
    const t0 = performance.now();
    try {
      const value = target.run(buf, off, len);
      // Bounded output: a decoder cannot make much more than it was given.
      const limit = 64 + 16 * len;
      const budget = { left: limit };
      measure(value, budget);
      result.largestResult = Math.max(result.largestResult, limit - budget.left);
      if (budget.left < 0) throw new Error(`result holds more than ${limit} values for ${len} bytes of input`);
      result.decoded++;
    } catch (error) {
      if (error instanceof DecodeError) {
        result.decodeErrors++;
      } else {
        const e = error as Error;
        const key = `${target.name}|${e?.constructor?.name}|${String(e?.message).replace(/\d+/g, 'N')}`;
        if (!seen.has(key)) {
          seen.add(key);
          findings.push({
            seed,
            index,
            target: target.name,
            input: buf.toString('hex', off, off + len),
            error: `${e?.constructor?.name ?? typeof e}: ${e?.message ?? String(e)}\n${String(e?.stack).split('\n').slice(1, 4).join('\n')}`,
          });
        }
      }
    }
    let ms = performance.now() - t0;
    if (ms > slowMs) {
      // Slow once is a GC pause or a busy machine; slow again on the same input is the decoder.
      const t1 = performance.now();
      try {
        target.run(buf, off, len);
      } catch {
        // judged above
      }
      ms = Math.min(ms, performance.now() - t1);
    }
    if (ms > result.slowestMs) {
      result.slowestMs = ms;
      result.slowestTarget = target.name;
    }
    if (ms > slowMs && !seen.has(`slow|${target.name}`)) {
      seen.add(`slow|${target.name}`);
      findings.push({
        seed,
        index,
        target: target.name,
        input: buf.toString('hex', off, off + len),
        error: `took ${ms.toFixed(0)} ms`,
      });
    }
  };

  for (let i = 0; i < count && findings.length < maxFindings; i++) {
    const input = rng.chance(0.1) ? randomBytes(rng, 256) : mutate(rng, corpus[rng.below(corpus.length)], corpus);
    result.inputs++;
    call(messageTargets[rng.below(messageTargets.length)], input, 0, input.length, i);
    if (input.length >= 6) {
      const registered = findDecoder(constants.NETLINK_ROUTE, input.readUInt16LE(4));
      if (registered)
        call(
          { name: `registry type ${input.readUInt16LE(4)}`, kind: 'message', run: registered.decode },
          input,
          0,
          input.length,
          i,
        );
    }
    const start = Math.min(input.length, rng.chance(0.5) ? NLMSG_HDRLEN + rng.below(24) : rng.below(input.length + 1));
    call(rangeTargets[rng.below(rangeTargets.length)], input, start, input.length - start, i);
    if (options.progress && i % every === 0) options.progress(i);
  }
  result.elapsedMs = Date.now() - started;
  result.heapUsedMB = Math.round(process.memoryUsage().heapUsed / 1e6);
  return result;
}
