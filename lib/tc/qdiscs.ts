/**
 * Qdisc and class kinds: typed options both ways. Each codec writes the
 * payload of TCA_OPTIONS the way iproute2's `tc` does (same attributes,
 * same order, same rate tables), and decodes what the kernel dumps into
 * the same option names, in the units of units.ts.
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import {
  Writer,
  attrU8 as readU8Attribute,
  attrU32 as readU32Attribute,
  forEachAttribute,
} from '../netlink/attributes';
import {
  CAKE_ACK_AGGRESSIVE,
  CAKE_ACK_FILTER,
  CAKE_ACK_NONE,
  CAKE_ATM_ATM,
  CAKE_ATM_NONE,
  CAKE_ATM_PTM,
  CAKE_DIFFSERV_BESTEFFORT,
  CAKE_DIFFSERV_DIFFSERV3,
  CAKE_DIFFSERV_DIFFSERV4,
  CAKE_DIFFSERV_DIFFSERV8,
  CAKE_DIFFSERV_PRECEDENCE,
  CAKE_FLOW_DST_IP,
  CAKE_FLOW_DUAL_DST,
  CAKE_FLOW_DUAL_SRC,
  CAKE_FLOW_FLOWS,
  CAKE_FLOW_HOSTS,
  CAKE_FLOW_NONE,
  CAKE_FLOW_SRC_IP,
  CAKE_FLOW_TRIPLE,
  TCA_CAKE_ACK_FILTER,
  TCA_CAKE_ATM,
  TCA_CAKE_AUTORATE,
  TCA_CAKE_BASE_RATE64,
  TCA_CAKE_DIFFSERV_MODE,
  TCA_CAKE_FLOW_MODE,
  TCA_CAKE_FWMARK,
  TCA_CAKE_INGRESS,
  TCA_CAKE_MEMORY,
  TCA_CAKE_MPU,
  TCA_CAKE_NAT,
  TCA_CAKE_OVERHEAD,
  TCA_CAKE_RAW,
  TCA_CAKE_RTT,
  TCA_CAKE_SPLIT_GSO,
  TCA_CAKE_TARGET,
  TCA_CAKE_WASH,
  TCA_CODEL_CE_THRESHOLD,
  TCA_CODEL_ECN,
  TCA_CODEL_INTERVAL,
  TCA_CODEL_LIMIT,
  TCA_CODEL_TARGET,
  TCA_DRR_QUANTUM,
  TCA_FQ_BUCKETS_LOG,
  TCA_FQ_CE_THRESHOLD,
  TCA_FQ_CODEL_CE_THRESHOLD,
  TCA_FQ_CODEL_DROP_BATCH_SIZE,
  TCA_FQ_CODEL_ECN,
  TCA_FQ_CODEL_FLOWS,
  TCA_FQ_CODEL_INTERVAL,
  TCA_FQ_CODEL_LIMIT,
  TCA_FQ_CODEL_MEMORY_LIMIT,
  TCA_FQ_CODEL_QUANTUM,
  TCA_FQ_CODEL_TARGET,
  TCA_FQ_FLOW_MAX_RATE,
  TCA_FQ_FLOW_PLIMIT,
  TCA_FQ_FLOW_REFILL_DELAY,
  TCA_FQ_HORIZON,
  TCA_FQ_HORIZON_DROP,
  TCA_FQ_INITIAL_QUANTUM,
  TCA_FQ_LOW_RATE_THRESHOLD,
  TCA_FQ_ORPHAN_MASK,
  TCA_FQ_PLIMIT,
  TCA_FQ_QUANTUM,
  TCA_FQ_RATE_ENABLE,
  TCA_FQ_TIMER_SLACK,
  TCA_HFSC_FSC,
  TCA_HFSC_RSC,
  TCA_HFSC_USC,
  TCA_HTB_CEIL64,
  TCA_HTB_CTAB,
  TCA_HTB_DIRECT_QLEN,
  TCA_HTB_INIT,
  TCA_HTB_OFFLOAD,
  TCA_HTB_PARMS,
  TCA_HTB_RATE64,
  TCA_HTB_RTAB,
  TCA_NETEM_CORR,
  TCA_NETEM_CORRUPT,
  TCA_NETEM_ECN,
  TCA_NETEM_JITTER64,
  TCA_NETEM_LATENCY64,
  TCA_NETEM_RATE,
  TCA_NETEM_RATE64,
  TCA_NETEM_REORDER,
  TCA_RED_FLAGS,
  TCA_RED_MAX_P,
  TCA_RED_PARMS,
  TCA_RED_STAB,
  TCA_TBF_BURST,
  TCA_TBF_PARMS,
  TCA_TBF_PBURST,
  TCA_TBF_PRATE64,
  TCA_TBF_PTAB,
  TCA_TBF_RATE64,
  TCA_TBF_RTAB,
  TC_RED_ADAPTATIVE,
  TC_RED_ECN,
  TC_RED_HARDDROP,
  TC_RED_HISTORIC_FLAGS,
  TC_RED_NODROP,
} from '../netlink/constants';
import { formatHandle, parseHandle } from './handles';
import {
  fractionToPercent,
  linkLayerArgument,
  parsePercent,
  parseRate,
  parseSize,
  parseTime,
  percentToFraction,
  pschedClock,
  rateTable,
  readRatespec,
  ticksToTime,
  timeToTicks,
  transmitSize,
  transmitTicks,
  writeRatespec,
} from './units';

export type Options = Record<string, unknown>;

export interface EncodeContext {
  /** Argument path for errors, e.g. 'spec.options'. */
  argument: string;
  /** The qdisc's handle or the class's id (u32). */
  handle: number;
}

export interface DecodeContext {
  handle: number;
}

/** How one kind's options travel. */
export interface KindCodec {
  /** Option names accepted on input. */
  keys: readonly string[];
  /** tc sends no TCA_OPTIONS for this kind (or none when `options` is empty). */
  omitOptions?: (o: Options) => boolean;
  /** Writes the payload of TCA_OPTIONS. */
  encode(w: Writer, o: Options, c: EncodeContext): void;
  /** Decodes the payload of TCA_OPTIONS. */
  decode(buf: Buffer, start: number, end: number, c: DecodeContext): Options;
}

// ---- small helpers -----------------------------------------------------------

function int(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer', v);
  if (v < min || v > max) throw outOfRange(argument, `>= ${min} and <= ${max}`, v);
  return v;
}
const u32 = (v: unknown, a: string) => int(v, a, 0, 0xffffffff);
const u16 = (v: unknown, a: string) => int(v, a, 0, 0xffff);

function bool(v: unknown, argument: string): boolean {
  if (typeof v !== 'boolean') throw invalidType(argument, 'a boolean', v);
  return v;
}

function attrs(buf: Buffer, start: number, end: number): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  forEachAttribute(buf, start, end, (type, _f, off, len) => m.set(type, [off, len]));
  return m;
}

const readU64 = (buf: Buffer, off: number) => buf.readUInt32LE(off + 4) * 2 ** 32 + buf.readUInt32LE(off);

function attrU64(w: Writer, type: number, v: number): void {
  const at = w.begin(type);
  w.u64(v);
  w.end(at);
}

/** Names for an enum-valued option, both ways. */
class Names {
  constructor(private readonly entries: [string, number][]) {}
  value(v: unknown, argument: string): number {
    if (typeof v === 'number') return u32(v, argument);
    const e = this.entries.find(([n]) => n === v);
    if (!e) throw invalidValue(argument, v, `must be one of ${this.entries.map(([n]) => n).join(', ')}`);
    return e[1];
  }
  name(v: number): string | number {
    return this.entries.find(([, x]) => x === v)?.[0] ?? v;
  }
}

type ScalarKind = 'u32' | 'u8' | 'bool32' | 'bool8' | 'rate32' | 'rate64' | 'time' | 'size' | 's32' | 'log2' | Names;

/**
 * Kinds whose options are plain attributes: [option, attribute, how],
 * written in table order (tc's order) and decoded by the same table.
 */
function attributeCodec(table: [string, number, ScalarKind][], extra?: (o: Options) => Options): KindCodec {
  return {
    keys: table.map(([n]) => n),
    encode(w, input, c) {
      const o = extra ? extra(input) : input;
      for (const [name, type, how] of table) {
        const v = o[name];
        if (v === undefined) continue;
        const arg = `${c.argument}.${name}`;
        if (how instanceof Names) w.attrU32(type, how.value(v, arg));
        else if (how === 'u8') w.attrU8(type, int(v, arg, 0, 255));
        else if (how === 'bool8') w.attrU8(type, bool(v, arg) ? 1 : 0);
        else if (how === 'bool32') w.attrU32(type, bool(v, arg) ? 1 : 0);
        else if (how === 'rate32')
          w.attrU32(type, v === 'unlimited' ? 0xffffffff : Math.min(parseRate(v, arg), 0xffffffff));
        else if (how === 'rate64') attrU64(w, type, parseRate(v, arg));
        else if (how === 'time') w.attrU32(type, Math.round(parseTime(v, arg)));
        else if (how === 'size') w.attrU32(type, parseSize(v, arg));
        else if (how === 's32') {
          const at = w.begin(type);
          w.s32(int(v, arg, -(2 ** 31), 2 ** 31 - 1));
          w.end(at);
        } else if (how === 'log2') {
          const n = u32(v, arg);
          if (n === 0 || (n & (n - 1)) !== 0) throw invalidValue(arg, v, 'must be a power of two');
          w.attrU32(type, Math.log2(n));
        } else w.attrU32(type, u32(v, arg));
      }
    },
    decode(buf, start, end) {
      const a = attrs(buf, start, end);
      const out: Options = {};
      for (const [name, type, how] of table) {
        const at = a.get(type);
        if (!at || name in out) continue;
        const [off, len] = at;
        if (how === 'u8') out[name] = readU8Attribute(buf, off, len);
        else if (how === 'bool8') out[name] = readU8Attribute(buf, off, len) !== 0;
        else if (len < 4) continue;
        else if (how === 'rate64') out[name] = len >= 8 ? readU64(buf, off) : buf.readUInt32LE(off);
        else if (how === 'bool32') out[name] = buf.readUInt32LE(off) !== 0;
        else if (how === 's32') out[name] = buf.readInt32LE(off);
        else if (how === 'log2') out[name] = 2 ** buf.readUInt32LE(off);
        else if (how instanceof Names) out[name] = how.name(buf.readUInt32LE(off));
        else out[name] = buf.readUInt32LE(off);
      }
      return out;
    },
  };
}

function checkKeys(o: Options, keys: readonly string[], kind: string, argument: string): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw invalidValue(`${argument}.${k}`, o[k], `is not an option of ${kind}`);
  }
}

// ---- fifo, prio, sfq ---------------------------------------------------------

const fifo = (sizeInBytes: boolean): KindCodec => ({
  keys: ['limit'],
  omitOptions: (o) => o.limit === undefined,
  encode(w, o, c) {
    w.u32(sizeInBytes ? parseSize(o.limit, `${c.argument}.limit`) : u32(o.limit, `${c.argument}.limit`));
  },
  decode: (buf, start, end) => (end - start >= 4 ? { limit: buf.readUInt32LE(start) } : {}),
});

const DEFAULT_PRIOMAP = [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];

function decodePrio(buf: Buffer, start: number, end: number): Options {
  if (end - start < 20) return {};
  return { bands: buf.readUInt32LE(start), priomap: [...buf.subarray(start + 4, start + 20)] };
}

const prio: KindCodec = {
  keys: ['bands', 'priomap'],
  encode(w, o, c) {
    const bands = o.bands === undefined ? 3 : int(o.bands, `${c.argument}.bands`, 2, 16);
    const map = o.priomap === undefined ? DEFAULT_PRIOMAP : o.priomap;
    if (!Array.isArray(map) || map.length > 16)
      throw invalidType(`${c.argument}.priomap`, 'an array of up to 16 bands', map);
    w.u32(bands);
    for (let i = 0; i < 16; i++)
      w.u8(map[i] === undefined ? 0 : int(map[i], `${c.argument}.priomap[${i}]`, 0, bands - 1));
    // tc nests an (empty) attribute set after the struct, for multiqueue.
    w.end(w.begin(2));
  },
  decode: decodePrio,
};

const pfifoFast: KindCodec = {
  keys: [],
  omitOptions: () => true,
  encode() {},
  decode: decodePrio,
};

const sfq: KindCodec = {
  keys: ['quantum', 'perturb', 'limit', 'divisor', 'flows', 'depth', 'headdrop'],
  encode(w, o, c) {
    const b = Buffer.alloc(72);
    const a = c.argument;
    if (o.quantum !== undefined) b.writeUInt32LE(parseSize(o.quantum, `${a}.quantum`), 0);
    if (o.perturb !== undefined) b.writeInt32LE(int(o.perturb, `${a}.perturb`, 0, 2 ** 31 - 1), 4);
    if (o.limit !== undefined) b.writeUInt32LE(u32(o.limit, `${a}.limit`), 8);
    if (o.divisor !== undefined) b.writeUInt32LE(u32(o.divisor, `${a}.divisor`), 12);
    if (o.flows !== undefined) b.writeUInt32LE(u32(o.flows, `${a}.flows`), 16);
    if (o.depth !== undefined) b.writeUInt32LE(u32(o.depth, `${a}.depth`), 20);
    if (o.headdrop !== undefined) b.writeUInt32LE(bool(o.headdrop, `${a}.headdrop`) ? 1 : 0, 24);
    w.bytes(b);
  },
  decode(buf, start, end) {
    if (end - start < 20) return {};
    const out: Options = {
      quantum: buf.readUInt32LE(start),
      perturb: buf.readInt32LE(start + 4),
      limit: buf.readUInt32LE(start + 8),
      divisor: buf.readUInt32LE(start + 12),
      flows: buf.readUInt32LE(start + 16),
    };
    if (end - start >= 28) {
      out.depth = buf.readUInt32LE(start + 20);
      out.headdrop = buf.readUInt32LE(start + 24) !== 0;
    }
    return out;
  },
};

// ---- tbf and htb: rate tables ---------------------------------------------------

const TBF_KEYS = ['rate', 'burst', 'limit', 'latency', 'peakrate', 'mtu', 'mpu', 'overhead', 'linklayer'] as const;

const tbf: KindCodec = {
  keys: TBF_KEYS,
  encode(w, o, c) {
    const a = c.argument;
    if (o.rate === undefined) throw invalidType(`${a}.rate`, 'a rate (tbf needs rate)', o.rate);
    if (o.burst === undefined) throw invalidType(`${a}.burst`, 'a size (tbf needs burst)', o.burst);
    if (o.limit === undefined && o.latency === undefined)
      throw invalidType(`${a}.limit`, 'a size (tbf needs limit or latency)', o.limit);
    const rate = parseRate(o.rate, `${a}.rate`);
    const burst = parseSize(o.burst, `${a}.burst`);
    const peakrate = o.peakrate === undefined ? 0 : parseRate(o.peakrate, `${a}.peakrate`);
    const mtu = o.mtu === undefined ? 0 : parseSize(o.mtu, `${a}.mtu`);
    if (peakrate && !mtu) throw invalidType(`${a}.mtu`, 'a size (tbf with peakrate needs mtu)', o.mtu);
    const mpu = o.mpu === undefined ? 0 : u16(o.mpu, `${a}.mpu`);
    const overhead = o.overhead === undefined ? 0 : u16(o.overhead, `${a}.overhead`);
    const linklayer = linkLayerArgument(o.linklayer, `${a}.linklayer`);
    let limit: number;
    if (o.limit !== undefined) limit = parseSize(o.limit, `${a}.limit`);
    else {
      const latency = parseTime(o.latency, `${a}.latency`);
      let lim = (rate * latency) / 1e6 + burst;
      if (peakrate) lim = Math.min(lim, (peakrate * latency) / 1e6 + mtu);
      limit = Math.min(Math.trunc(lim), 0xffffffff);
    }
    const rtab = rateTable(rate, { mtu, mpu, overhead, linklayer });
    const ptab = peakrate ? rateTable(peakrate, { mtu, mpu, overhead, linklayer }) : undefined;
    const parms = Buffer.alloc(36);
    writeRatespec(parms, 0, rtab.spec);
    writeRatespec(parms, 12, ptab?.spec);
    parms.writeUInt32LE(limit, 24);
    // tc computes TBF's tick fields from the 32-bit ratespec rates.
    parms.writeUInt32LE(transmitTicks(rtab.spec.rate, burst), 28);
    parms.writeUInt32LE(ptab ? transmitTicks(ptab.spec.rate, mtu) : 0, 32);
    w.attr(TCA_TBF_PARMS, parms);
    w.attrU32(TCA_TBF_BURST, burst);
    if (rate >= 2 ** 32) attrU64(w, TCA_TBF_RATE64, rate);
    w.attr(TCA_TBF_RTAB, rtab.table);
    if (ptab) {
      if (peakrate >= 2 ** 32) attrU64(w, TCA_TBF_PRATE64, peakrate);
      w.attrU32(TCA_TBF_PBURST, mtu);
      w.attr(TCA_TBF_PTAB, ptab.table);
    }
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const p = a.get(TCA_TBF_PARMS);
    if (!p || p[1] < 36) return {};
    const [off] = p;
    const r = readRatespec(buf, off);
    const peak = readRatespec(buf, off + 12);
    const r64 = a.get(TCA_TBF_RATE64);
    const p64 = a.get(TCA_TBF_PRATE64);
    const rate = r64 ? readU64(buf, r64[0]) : r.rate;
    const peakrate = p64 ? readU64(buf, p64[0]) : peak.rate;
    const limit = buf.readUInt32LE(off + 24);
    const bufferTicks = buf.readUInt32LE(off + 28);
    const out: Options = { rate, burst: transmitSize(r.rate, bufferTicks), limit };
    // What tc -j prints as "lat": the queueing delay the limit allows, in µs.
    const latency = Math.round((1e6 * limit) / rate - ticksToTime(bufferTicks));
    if (latency > 0) out.latency = latency;
    if (peakrate) {
      out.peakrate = peakrate;
      out.mtu = transmitSize(peak.rate, buf.readUInt32LE(off + 32));
    }
    out.mpu = r.mpu;
    if (r.overhead) out.overhead = r.overhead;
    out.linklayer = r.linklayer;
    return out;
  },
};

const htbQdisc: KindCodec = {
  keys: ['defaultClass', 'r2q', 'directQlen', 'offload'],
  encode(w, o, c) {
    const a = c.argument;
    let defcls = 0;
    if (o.defaultClass !== undefined) {
      const h = parseHandle(o.defaultClass, `${a}.defaultClass`, 'classid');
      defcls = typeof o.defaultClass === 'number' ? h : h & 0xffff;
    }
    const init = Buffer.alloc(20);
    init.writeUInt32LE(3, 0); // TC_HTB_PROTOVER
    init.writeUInt32LE(o.r2q === undefined ? 10 : u32(o.r2q, `${a}.r2q`), 4);
    init.writeUInt32LE(defcls, 8);
    w.attr(TCA_HTB_INIT, init);
    if (o.directQlen !== undefined) w.attrU32(TCA_HTB_DIRECT_QLEN, u32(o.directQlen, `${a}.directQlen`));
    if (o.offload !== undefined && bool(o.offload, `${a}.offload`)) w.attrFlag(TCA_HTB_OFFLOAD);
  },
  decode(buf, start, end, c) {
    const a = attrs(buf, start, end);
    const out: Options = {};
    const init = a.get(TCA_HTB_INIT);
    if (init && init[1] >= 20) {
      const [off] = init;
      out.r2q = buf.readUInt32LE(off + 4);
      const defcls = buf.readUInt32LE(off + 8);
      if (defcls) out.defaultClass = formatHandle(((c.handle & 0xffff0000) | (defcls & 0xffff)) >>> 0);
      const version = buf.readUInt32LE(off);
      out.version = `${version >>> 16}.${version & 0xffff}`;
      out.directPacketsStat = buf.readUInt32LE(off + 16);
    }
    const dq = a.get(TCA_HTB_DIRECT_QLEN);
    if (dq) out.directQlen = readU32Attribute(buf, dq[0], dq[1]);
    if (a.has(TCA_HTB_OFFLOAD)) out.offload = true;
    return out;
  },
};

const htbClass: KindCodec = {
  keys: ['rate', 'ceil', 'burst', 'cburst', 'prio', 'quantum', 'mtu', 'mpu', 'overhead', 'linklayer'],
  encode(w, o, c) {
    const a = c.argument;
    if (o.rate === undefined) throw invalidType(`${a}.rate`, 'a rate (htb classes need rate)', o.rate);
    const rate = parseRate(o.rate, `${a}.rate`);
    const ceil = o.ceil === undefined ? rate : parseRate(o.ceil, `${a}.ceil`);
    const mtu = o.mtu === undefined ? 1600 : parseSize(o.mtu, `${a}.mtu`);
    const mpu = o.mpu === undefined ? 0 : u16(o.mpu, `${a}.mpu`);
    const overhead = o.overhead === undefined ? 0 : u16(o.overhead, `${a}.overhead`);
    const linklayer = linkLayerArgument(o.linklayer, `${a}.linklayer`);
    const { hz } = pschedClock();
    // tc's minimum burst: a timer tick's worth of bytes plus one MTU.
    const burst = o.burst === undefined ? Math.floor(rate / hz) + mtu : parseSize(o.burst, `${a}.burst`);
    const cburst = o.cburst === undefined ? Math.floor(ceil / hz) + mtu : parseSize(o.cburst, `${a}.cburst`);
    const rtab = rateTable(rate, { mtu, mpu, overhead, linklayer });
    const ctab = rateTable(ceil, { mtu, mpu, overhead, linklayer });
    const parms = Buffer.alloc(44);
    writeRatespec(parms, 0, rtab.spec);
    writeRatespec(parms, 12, ctab.spec);
    parms.writeUInt32LE(transmitTicks(rate, burst), 24);
    parms.writeUInt32LE(transmitTicks(ceil, cburst), 28);
    parms.writeUInt32LE(o.quantum === undefined ? 0 : parseSize(o.quantum, `${a}.quantum`), 32);
    parms.writeUInt32LE(o.prio === undefined ? 0 : int(o.prio, `${a}.prio`, 0, 7), 40);
    if (rate >= 2 ** 32) attrU64(w, TCA_HTB_RATE64, rate);
    if (ceil >= 2 ** 32) attrU64(w, TCA_HTB_CEIL64, ceil);
    w.attr(TCA_HTB_PARMS, parms);
    w.attr(TCA_HTB_RTAB, rtab.table);
    w.attr(TCA_HTB_CTAB, ctab.table);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const p = a.get(TCA_HTB_PARMS);
    if (!p || p[1] < 44) return {};
    const [off] = p;
    const r = readRatespec(buf, off);
    const cr = readRatespec(buf, off + 12);
    const r64 = a.get(TCA_HTB_RATE64);
    const c64 = a.get(TCA_HTB_CEIL64);
    const rate = r64 ? readU64(buf, r64[0]) : r.rate;
    const ceil = c64 ? readU64(buf, c64[0]) : cr.rate;
    const out: Options = {
      rate,
      ceil,
      burst: transmitSize(rate, buf.readUInt32LE(off + 24)),
      cburst: transmitSize(ceil, buf.readUInt32LE(off + 28)),
      quantum: buf.readUInt32LE(off + 32),
      level: buf.readUInt32LE(off + 36),
      prio: buf.readUInt32LE(off + 40),
      mpu: r.mpu,
      linklayer: r.linklayer,
    };
    if (r.overhead) out.overhead = r.overhead;
    return out;
  },
};

// ---- hfsc, drr -------------------------------------------------------------------

const hfscQdisc: KindCodec = {
  keys: ['defaultClass'],
  encode(w, o, c) {
    const h = o.defaultClass === undefined ? 0 : parseHandle(o.defaultClass, `${c.argument}.defaultClass`, 'classid');
    w.u16(typeof o.defaultClass === 'number' ? h & 0xffff : h & 0xffff);
  },
  decode(buf, start, end, c) {
    if (end - start < 2) return {};
    const d = buf.readUInt16LE(start);
    return d ? { defaultClass: formatHandle(((c.handle & 0xffff0000) | d) >>> 0) } : {};
  },
};

/** An HFSC service curve: m1 (bytes/s) for d (µs), then m2 (bytes/s). `{ rate }` is `{ m2: rate }`. */
export interface ServiceCurve {
  m1?: number | string;
  d?: number | string;
  m2?: number | string;
  rate?: number | string;
}

function curve(v: unknown, argument: string): Buffer {
  if (typeof v !== 'object' || v === null)
    throw invalidType(argument, 'a service curve { m1?, d?, m2 } or { rate }', v);
  const sc = v as ServiceCurve;
  for (const k of Object.keys(sc)) {
    if (!['m1', 'd', 'm2', 'rate'].includes(k))
      throw invalidValue(`${argument}.${k}`, (sc as Options)[k], 'is not part of a service curve');
  }
  const m2 = sc.rate ?? sc.m2;
  if (m2 === undefined) throw invalidType(`${argument}.m2`, 'a rate', m2);
  const b = Buffer.alloc(12);
  if (sc.m1 !== undefined) b.writeUInt32LE(Math.min(parseRate(sc.m1, `${argument}.m1`), 0xffffffff), 0);
  if (sc.d !== undefined) b.writeUInt32LE(Math.round(parseTime(sc.d, `${argument}.d`)), 4);
  b.writeUInt32LE(Math.min(parseRate(m2, `${argument}.m2`), 0xffffffff), 8);
  return b;
}

const hfscClass: KindCodec = {
  keys: ['sc', 'rt', 'ls', 'ul'],
  encode(w, o, c) {
    const a = c.argument;
    if (o.sc !== undefined && (o.rt !== undefined || o.ls !== undefined))
      throw invalidValue(`${a}.sc`, o.sc, 'sets rt and ls both; give either sc or rt/ls');
    const rt = o.sc ?? o.rt;
    const ls = o.sc ?? o.ls;
    if (rt === undefined && ls === undefined && o.ul === undefined)
      throw invalidType(`${a}.sc`, 'a service curve (hfsc classes need sc, rt, ls or ul)', o.sc);
    if (rt !== undefined) w.attr(TCA_HFSC_RSC, curve(rt, `${a}.${o.sc ? 'sc' : 'rt'}`));
    if (ls !== undefined) w.attr(TCA_HFSC_FSC, curve(ls, `${a}.${o.sc ? 'sc' : 'ls'}`));
    if (o.ul !== undefined) w.attr(TCA_HFSC_USC, curve(o.ul, `${a}.ul`));
  },
  decode(buf, start, end) {
    const out: Options = {};
    forEachAttribute(buf, start, end, (type, _f, off, len) => {
      const name =
        type === TCA_HFSC_RSC ? 'rt' : type === TCA_HFSC_FSC ? 'ls' : type === TCA_HFSC_USC ? 'ul' : undefined;
      if (!name || len < 12) return;
      out[name] = { m1: buf.readUInt32LE(off), d: buf.readUInt32LE(off + 4), m2: buf.readUInt32LE(off + 8) };
    });
    return out;
  },
};

const noOptions: KindCodec = { keys: [], omitOptions: () => true, encode() {}, decode: () => ({}) };

const drrClass = attributeCodec([['quantum', TCA_DRR_QUANTUM, 'size']]);

// ---- fq family, codel, cake -------------------------------------------------------

const fq = attributeCodec([
  ['limit', TCA_FQ_PLIMIT, 'u32'],
  ['flowLimit', TCA_FQ_FLOW_PLIMIT, 'u32'],
  ['quantum', TCA_FQ_QUANTUM, 'size'],
  ['initialQuantum', TCA_FQ_INITIAL_QUANTUM, 'size'],
  ['pacing', TCA_FQ_RATE_ENABLE, 'bool32'],
  ['maxrate', TCA_FQ_FLOW_MAX_RATE, 'rate32'],
  ['lowRateThreshold', TCA_FQ_LOW_RATE_THRESHOLD, 'rate32'],
  ['buckets', TCA_FQ_BUCKETS_LOG, 'log2'],
  ['refillDelay', TCA_FQ_FLOW_REFILL_DELAY, 'time'],
  ['orphanMask', TCA_FQ_ORPHAN_MASK, 'u32'],
  ['ceThreshold', TCA_FQ_CE_THRESHOLD, 'time'],
  ['timerSlack', TCA_FQ_TIMER_SLACK, 'u32'],
  ['horizon', TCA_FQ_HORIZON, 'time'],
  ['horizonDrop', TCA_FQ_HORIZON_DROP, 'bool8'],
]);

const fqCodel = attributeCodec([
  ['limit', TCA_FQ_CODEL_LIMIT, 'u32'],
  ['flows', TCA_FQ_CODEL_FLOWS, 'u32'],
  ['quantum', TCA_FQ_CODEL_QUANTUM, 'size'],
  ['ceThreshold', TCA_FQ_CODEL_CE_THRESHOLD, 'time'],
  ['memoryLimit', TCA_FQ_CODEL_MEMORY_LIMIT, 'size'],
  ['dropBatchSize', TCA_FQ_CODEL_DROP_BATCH_SIZE, 'u32'],
  ['interval', TCA_FQ_CODEL_INTERVAL, 'time'],
  ['target', TCA_FQ_CODEL_TARGET, 'time'],
  ['ecn', TCA_FQ_CODEL_ECN, 'bool32'],
]);

const codel = attributeCodec([
  ['limit', TCA_CODEL_LIMIT, 'u32'],
  ['interval', TCA_CODEL_INTERVAL, 'time'],
  ['target', TCA_CODEL_TARGET, 'time'],
  ['ecn', TCA_CODEL_ECN, 'bool32'],
  ['ceThreshold', TCA_CODEL_CE_THRESHOLD, 'time'],
]);

const cake = attributeCodec(
  [
    ['bandwidth', TCA_CAKE_BASE_RATE64, 'rate64'],
    [
      'diffserv',
      TCA_CAKE_DIFFSERV_MODE,
      new Names([
        ['diffserv3', CAKE_DIFFSERV_DIFFSERV3],
        ['diffserv4', CAKE_DIFFSERV_DIFFSERV4],
        ['diffserv8', CAKE_DIFFSERV_DIFFSERV8],
        ['besteffort', CAKE_DIFFSERV_BESTEFFORT],
        ['precedence', CAKE_DIFFSERV_PRECEDENCE],
      ]),
    ],
    [
      'atm',
      TCA_CAKE_ATM,
      new Names([
        ['noatm', CAKE_ATM_NONE],
        ['atm', CAKE_ATM_ATM],
        ['ptm', CAKE_ATM_PTM],
      ]),
    ],
    [
      'flowMode',
      TCA_CAKE_FLOW_MODE,
      new Names([
        ['flowblind', CAKE_FLOW_NONE],
        ['srchost', CAKE_FLOW_SRC_IP],
        ['dsthost', CAKE_FLOW_DST_IP],
        ['hosts', CAKE_FLOW_HOSTS],
        ['flows', CAKE_FLOW_FLOWS],
        ['dual-srchost', CAKE_FLOW_DUAL_SRC],
        ['dual-dsthost', CAKE_FLOW_DUAL_DST],
        ['triple-isolate', CAKE_FLOW_TRIPLE],
      ]),
    ],
    ['overhead', TCA_CAKE_OVERHEAD, 's32'],
    ['raw', TCA_CAKE_RAW, 'bool32'],
    ['mpu', TCA_CAKE_MPU, 'u32'],
    ['rtt', TCA_CAKE_RTT, 'time'],
    ['target', TCA_CAKE_TARGET, 'time'],
    ['autorate', TCA_CAKE_AUTORATE, 'bool32'],
    ['memory', TCA_CAKE_MEMORY, 'size'],
    ['fwmark', TCA_CAKE_FWMARK, 'u32'],
    ['nat', TCA_CAKE_NAT, 'bool32'],
    ['wash', TCA_CAKE_WASH, 'bool32'],
    ['ingress', TCA_CAKE_INGRESS, 'bool32'],
    [
      'ackFilter',
      TCA_CAKE_ACK_FILTER,
      new Names([
        ['no-ack-filter', CAKE_ACK_NONE],
        ['ack-filter', CAKE_ACK_FILTER],
        ['ack-filter-aggressive', CAKE_ACK_AGGRESSIVE],
      ]),
    ],
    ['splitGso', TCA_CAKE_SPLIT_GSO, 'bool32'],
  ],
  // A fixed bandwidth turns autorate off, as tc does.
  (o) => (o.bandwidth !== undefined && o.autorate === undefined ? { ...o, autorate: false } : o),
);

// ---- netem ---------------------------------------------------------------------

const NETEM_KEYS = [
  'delay',
  'jitter',
  'delayCorrelation',
  'loss',
  'lossCorrelation',
  'duplicate',
  'duplicateCorrelation',
  'reorder',
  'reorderCorrelation',
  'gap',
  'corrupt',
  'corruptCorrelation',
  'rate',
  'packetOverhead',
  'cellSize',
  'cellOverhead',
  'limit',
  'ecn',
] as const;

const netem: KindCodec = {
  keys: NETEM_KEYS,
  encode(w, o, c) {
    const a = c.argument;
    const pct = (k: string) => (o[k] === undefined ? 0 : percentToFraction(parsePercent(o[k], `${a}.${k}`)));
    const delayUs = o.delay === undefined ? 0 : parseTime(o.delay, `${a}.delay`, Number.MAX_SAFE_INTEGER / 1000);
    const jitterUs = o.jitter === undefined ? 0 : parseTime(o.jitter, `${a}.jitter`, Number.MAX_SAFE_INTEGER / 1000);
    const reorder = pct('reorder');
    let gap = o.gap === undefined ? 0 : u32(o.gap, `${a}.gap`);
    if (reorder) {
      if (!delayUs)
        throw invalidValue(
          `${a}.reorder`,
          o.reorder,
          'needs a delay (packets are reordered by sending some without it)',
        );
      if (!gap) gap = 1;
    } else if (gap) throw invalidValue(`${a}.gap`, o.gap, 'needs reorder');
    const qopt = Buffer.alloc(24);
    qopt.writeUInt32LE(timeToTicks(delayUs), 0);
    qopt.writeUInt32LE(o.limit === undefined ? 1000 : u32(o.limit, `${a}.limit`), 4);
    qopt.writeUInt32LE(pct('loss'), 8);
    qopt.writeUInt32LE(gap, 12);
    qopt.writeUInt32LE(pct('duplicate'), 16);
    qopt.writeUInt32LE(timeToTicks(jitterUs), 20);
    w.bytes(qopt);
    // Delays beyond the 32-bit tick field travel in nanoseconds as well.
    if (delayUs * pschedClock().ticksPerUsec >= 2 ** 32) attrU64(w, TCA_NETEM_LATENCY64, Math.round(delayUs * 1000));
    if (jitterUs * pschedClock().ticksPerUsec >= 2 ** 32) attrU64(w, TCA_NETEM_JITTER64, Math.round(jitterUs * 1000));
    if (o.delayCorrelation !== undefined || o.lossCorrelation !== undefined || o.duplicateCorrelation !== undefined) {
      const at = w.begin(TCA_NETEM_CORR);
      w.u32(pct('delayCorrelation'));
      w.u32(pct('lossCorrelation'));
      w.u32(pct('duplicateCorrelation'));
      w.end(at);
    }
    if (reorder) {
      const at = w.begin(TCA_NETEM_REORDER);
      w.u32(reorder);
      w.u32(pct('reorderCorrelation'));
      w.end(at);
    }
    if (o.ecn !== undefined) {
      if (bool(o.ecn, `${a}.ecn`) && !o.loss)
        throw invalidValue(`${a}.ecn`, o.ecn, 'needs loss (it marks instead of dropping)');
      w.attrU32(TCA_NETEM_ECN, o.ecn ? 1 : 0);
    }
    if (o.corrupt !== undefined) {
      const at = w.begin(TCA_NETEM_CORRUPT);
      w.u32(pct('corrupt'));
      w.u32(pct('corruptCorrelation'));
      w.end(at);
    }
    if (o.rate !== undefined) {
      const rate = parseRate(o.rate, `${a}.rate`);
      if (rate >= 2 ** 32) attrU64(w, TCA_NETEM_RATE64, rate);
      const at = w.begin(TCA_NETEM_RATE);
      w.u32(Math.min(rate, 0xffffffff));
      w.s32(o.packetOverhead === undefined ? 0 : int(o.packetOverhead, `${a}.packetOverhead`, -(2 ** 31), 2 ** 31 - 1));
      w.u32(o.cellSize === undefined ? 0 : u32(o.cellSize, `${a}.cellSize`));
      w.s32(o.cellOverhead === undefined ? 0 : int(o.cellOverhead, `${a}.cellOverhead`, -(2 ** 31), 2 ** 31 - 1));
      w.end(at);
    }
  },
  decode(buf, start, end) {
    if (end - start < 24) return {};
    const pct = (f: number) => fractionToPercent(f);
    const out: Options = {
      delay: Math.round(ticksToTime(buf.readUInt32LE(start))),
      limit: buf.readUInt32LE(start + 4),
      loss: pct(buf.readUInt32LE(start + 8)),
      gap: buf.readUInt32LE(start + 12),
      duplicate: pct(buf.readUInt32LE(start + 16)),
      jitter: Math.round(ticksToTime(buf.readUInt32LE(start + 20))),
    };
    const a = attrs(buf, start + 24, end);
    const lat = a.get(TCA_NETEM_LATENCY64);
    if (lat && lat[1] >= 8) out.delay = Math.round(Number(buf.readBigInt64LE(lat[0])) / 1000);
    const jit = a.get(TCA_NETEM_JITTER64);
    if (jit && jit[1] >= 8) out.jitter = Math.round(Number(buf.readBigInt64LE(jit[0])) / 1000);
    const corr = a.get(TCA_NETEM_CORR);
    if (corr && corr[1] >= 12) {
      out.delayCorrelation = pct(readU32Attribute(buf, corr[0], corr[1]));
      out.lossCorrelation = pct(buf.readUInt32LE(corr[0] + 4));
      out.duplicateCorrelation = pct(buf.readUInt32LE(corr[0] + 8));
    }
    const reorder = a.get(TCA_NETEM_REORDER);
    if (reorder && reorder[1] >= 8) {
      out.reorder = pct(readU32Attribute(buf, reorder[0], reorder[1]));
      out.reorderCorrelation = pct(buf.readUInt32LE(reorder[0] + 4));
    }
    const corrupt = a.get(TCA_NETEM_CORRUPT);
    if (corrupt && corrupt[1] >= 8) {
      out.corrupt = pct(readU32Attribute(buf, corrupt[0], corrupt[1]));
      out.corruptCorrelation = pct(buf.readUInt32LE(corrupt[0] + 4));
    }
    const rate = a.get(TCA_NETEM_RATE);
    if (rate && rate[1] >= 16) {
      const r64 = a.get(TCA_NETEM_RATE64);
      out.rate = r64 && r64[1] >= 8 ? readU64(buf, r64[0]) : readU32Attribute(buf, rate[0], rate[1]);
      out.packetOverhead = buf.readInt32LE(rate[0] + 4);
      out.cellSize = buf.readUInt32LE(rate[0] + 8);
      out.cellOverhead = buf.readInt32LE(rate[0] + 12);
    }
    const ecn = a.get(TCA_NETEM_ECN);
    if (ecn) out.ecn = readU32Attribute(buf, ecn[0], ecn[1]) !== 0;
    return out;
  },
};

// ---- red -----------------------------------------------------------------------

/** tc_red_eval_ewma: log2 of the averaging weight that lets `burst` packets through. */
function redWlog(qmin: number, burst: number, avpkt: number): number {
  const a = burst + 1 - qmin / avpkt;
  if (a < 1) return -1;
  let W = 0.5;
  for (let wlog = 1; wlog < 32; wlog++, W /= 2) {
    if (a <= (1 - Math.pow(1 - W, burst)) / W) return wlog;
  }
  return -1;
}

/** tc_red_eval_P: log2 of the (qmax - qmin) span over the probability. */
function redPlog(qmin: number, qmax: number, prob: number): number {
  let i = qmax - qmin;
  if (!i) return 0;
  if (i < 0) return -1;
  prob /= i;
  for (i = 0; i < 32; i++) {
    if (prob > 1) break;
    prob *= 2;
  }
  return i >= 32 ? -1 : i;
}

/** tc_red_eval_idle_damping: the idle-time table and its cell log. */
function redIdleDamping(wlog: number, avpkt: number, rate: number): { scellLog: number; table: Buffer } {
  const xmitTime = transmitTicks(rate, avpkt);
  const lW = -Math.log(1 - 1 / 2 ** wlog) / xmitTime;
  const maxtime = 31 / lW;
  let clog = 0;
  for (; clog < 32; clog++) if (maxtime / 2 ** clog < 512) break;
  const table = Buffer.alloc(256);
  if (clog >= 32) return { scellLog: -1, table };
  for (let i = 1; i < 255; i++) table[i] = Math.min(Math.trunc(i * 2 ** clog * lW) & 0xff, 31);
  table[255] = 31;
  return { scellLog: clog, table };
}

const RED_FLAGS: [string, number][] = [
  ['ecn', TC_RED_ECN],
  ['harddrop', TC_RED_HARDDROP],
  ['adaptive', TC_RED_ADAPTATIVE],
  ['nodrop', TC_RED_NODROP],
];

const red: KindCodec = {
  keys: ['limit', 'min', 'max', 'avpkt', 'burst', 'bandwidth', 'probability', 'ecn', 'harddrop', 'adaptive', 'nodrop'],
  encode(w, o, c) {
    const a = c.argument;
    for (const k of ['limit', 'min', 'max', 'avpkt']) {
      if (o[k] === undefined) throw invalidType(`${a}.${k}`, 'a size (red needs limit, min, max and avpkt)', o[k]);
    }
    const limit = parseSize(o.limit, `${a}.limit`);
    const qmin = parseSize(o.min, `${a}.min`);
    const qmax = parseSize(o.max, `${a}.max`);
    const avpkt = parseSize(o.avpkt, `${a}.avpkt`);
    if (!avpkt) throw outOfRange(`${a}.avpkt`, '> 0', o.avpkt);
    if (qmin >= qmax) throw invalidValue(`${a}.min`, o.min, 'must be less than max');
    const burst = o.burst === undefined ? Math.floor((2 * qmin + qmax) / (3 * avpkt)) : u32(o.burst, `${a}.burst`);
    const rate = o.bandwidth === undefined ? 1250000 : parseRate(o.bandwidth, `${a}.bandwidth`);
    const probability = o.probability === undefined ? 0.02 : Number(o.probability);
    if (!(probability > 0 && probability <= 1)) throw outOfRange(`${a}.probability`, '> 0 and <= 1', o.probability);
    const wlog = redWlog(qmin, burst, avpkt);
    if (wlog < 0) throw invalidValue(`${a}.burst`, burst, 'is too small for min and avpkt (no averaging weight fits)');
    const plog = redPlog(qmin, qmax, probability);
    if (plog < 0) throw invalidValue(`${a}.probability`, probability, 'cannot be represented for this min/max span');
    const { scellLog, table } = redIdleDamping(wlog, avpkt, rate);
    if (scellLog < 0) throw invalidValue(`${a}.bandwidth`, o.bandwidth, 'gives no idle-damping table');
    let flags = 0;
    for (const [name, bit] of RED_FLAGS) if (o[name] !== undefined && bool(o[name], `${a}.${name}`)) flags |= bit;
    const parms = Buffer.alloc(16);
    parms.writeUInt32LE(limit, 0);
    parms.writeUInt32LE(qmin, 4);
    parms.writeUInt32LE(qmax, 8);
    parms[12] = wlog;
    parms[13] = plog;
    parms[14] = scellLog;
    parms[15] = flags & TC_RED_HISTORIC_FLAGS;
    w.attr(TCA_RED_PARMS, parms);
    w.attr(TCA_RED_STAB, table);
    w.attrU32(TCA_RED_MAX_P, Math.min(Math.trunc(probability * 2 ** 32), 0xffffffff));
    const at = w.begin(TCA_RED_FLAGS);
    w.u32(flags);
    w.u32(TC_RED_HISTORIC_FLAGS | TC_RED_NODROP);
    w.end(at);
  },
  decode(buf, start, end) {
    const a = attrs(buf, start, end);
    const p = a.get(TCA_RED_PARMS);
    if (!p || p[1] < 16) return {};
    const [off] = p;
    let flags = buf[off + 15];
    const fl = a.get(TCA_RED_FLAGS);
    if (fl && fl[1] >= 8) flags |= readU32Attribute(buf, fl[0], fl[1]);
    const out: Options = {
      limit: buf.readUInt32LE(off),
      min: buf.readUInt32LE(off + 4),
      max: buf.readUInt32LE(off + 8),
    };
    const maxP = a.get(TCA_RED_MAX_P);
    if (maxP) out.probability = Math.round((readU32Attribute(buf, maxP[0], maxP[1]) / 2 ** 32) * 1e6) / 1e6;
    for (const [name, bit] of RED_FLAGS) out[name] = (flags & bit) !== 0;
    out.wlog = buf[off + 12];
    out.plog = buf[off + 13];
    out.scellLog = buf[off + 14];
    return out;
  },
};

// ---- the tables ------------------------------------------------------------------

/** Qdisc kinds the library types, by name. */
export const QDISC_KINDS: Record<string, KindCodec> = {
  pfifo: fifo(false),
  bfifo: fifo(true),
  pfifo_head_drop: fifo(false),
  pfifo_fast: pfifoFast,
  prio,
  tbf,
  htb: htbQdisc,
  hfsc: hfscQdisc,
  drr: noOptions,
  sfq,
  fq,
  fq_codel: fqCodel,
  codel,
  cake,
  netem,
  red,
  ingress: noOptions,
  clsact: noOptions,
  noqueue: noOptions,
  mq: noOptions,
};

/** Class kinds, by their qdisc's kind. */
export const CLASS_KINDS: Record<string, KindCodec> = {
  htb: htbClass,
  hfsc: hfscClass,
  drr: drrClass,
};

/** Checks option names and writes TCA_OPTIONS for a kind (or nothing, as tc does). */
export function encodeKindOptions(
  w: Writer,
  codec: KindCodec,
  kind: string,
  options: unknown,
  c: EncodeContext,
  optionsType: number,
): void {
  const o = (options ?? {}) as Options;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalidType(c.argument, 'an object', options);
  checkKeys(o, codec.keys, kind, c.argument);
  if (codec.omitOptions?.(o)) return;
  const at = w.begin(optionsType);
  codec.encode(w, o, c);
  w.end(at);
}
