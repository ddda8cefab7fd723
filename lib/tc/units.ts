/**
 * Traffic-control units: rates, sizes, times and percentages as users write
 * them for `tc`, the kernel's scheduler clock, and the rate tables HTB,
 * TBF and police need (the kernel computes transmit times from them).
 *
 * Units of the public API: rates in bytes per second (as `tc -j` prints
 * them), sizes in bytes, times in microseconds.
 */
import * as fs from 'node:fs';
import { invalidType, invalidValue, outOfRange } from '../errors';

const RATE_UNITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  kibit: 1024,
  mibit: 1024 ** 2,
  gibit: 1024 ** 3,
  tibit: 1024 ** 4,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
  tbps: 8e12,
  kibps: 8 * 1024,
  mibps: 8 * 1024 ** 2,
  gibps: 8 * 1024 ** 3,
  tibps: 8 * 1024 ** 4,
};

// Sizes as `tc` reads them: 'k'/'kb' are KiB, 'kbit' is 1024 bits.
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  kbit: 1024 / 8,
  mbit: (1024 * 1024) / 8,
  gbit: (1024 * 1024 * 1024) / 8,
};

const TIME_UNITS: Record<string, number> = {
  s: 1e6,
  sec: 1e6,
  secs: 1e6,
  ms: 1e3,
  msec: 1e3,
  msecs: 1e3,
  us: 1,
  usec: 1,
  usecs: 1,
  ns: 1e-3,
  nsec: 1e-3,
  nsecs: 1e-3,
};

const NUMBER_WITH_UNIT = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:e(\d+))?\s*([a-z%]*)\s*$/i;

function splitUnit(text: string): [number, string] | undefined {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (!m) return undefined;
  return [Number(m[1]) * 10 ** Number(m[2] ?? 0), m[3].toLowerCase()];
}

const U64_MAX = 2 ** 64 - 1;

/**
 * A rate in bytes per second: a number (bytes/s) or a tc string
 * ('10mbit', '1.5gbit', '100kbps', '1mibit').
 */
export function parseRate(value: unknown, argument: string): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const parts = splitUnit(value);
    const unit = parts ? RATE_UNITS[parts[1]] : undefined;
    if (!parts || unit === undefined) {
      throw invalidValue(argument, value, "must be a rate like '10mbit', '1gbit', '500kbps' or a number of bytes/s");
    }
    bytes = Math.trunc((parts[0] * unit) / 8);
  } else {
    throw invalidType(argument, "a rate (bytes/s number or a string like '10mbit')", value);
  }
  if (!Number.isFinite(bytes) || !Number.isInteger(bytes)) throw invalidValue(argument, value, 'must be whole bytes/s');
  if (bytes <= 0 || bytes > U64_MAX) throw outOfRange(argument, '> 0 bytes/s', value);
  return bytes;
}

/** A size in bytes: a number or a tc string ('1500b', '64kb', '32kbit', '1mb'). */
export function parseSize(value: unknown, argument: string, max = 0xffffffff): number {
  let bytes: number;
  if (typeof value === 'number') {
    bytes = value;
  } else if (typeof value === 'string') {
    const parts = splitUnit(value);
    const unit = parts ? SIZE_UNITS[parts[1]] : undefined;
    if (!parts || unit === undefined) {
      throw invalidValue(argument, value, "must be a size like '1500b', '64kb', '32kbit', '1mb' or a number of bytes");
    }
    bytes = Math.trunc(parts[0] * unit);
  } else {
    throw invalidType(argument, "a size (bytes or a string like '64kb')", value);
  }
  if (!Number.isInteger(bytes)) throw invalidValue(argument, value, 'must be whole bytes');
  if (bytes < 0 || bytes > max) throw outOfRange(argument, `>= 0 and <= ${max} bytes`, value);
  return bytes;
}

/** A time in microseconds: a number (µs) or a tc string ('10ms', '1s', '250us'). */
export function parseTime(value: unknown, argument: string, max = 0xffffffff): number {
  let us: number;
  if (typeof value === 'number') {
    us = value;
  } else if (typeof value === 'string') {
    const parts = splitUnit(value);
    const unit = parts ? (parts[1] === '' ? 1 : TIME_UNITS[parts[1]]) : undefined;
    if (!parts || unit === undefined) {
      throw invalidValue(argument, value, "must be a time like '10ms', '1s', '250us' or a number of microseconds");
    }
    us = parts[0] * unit;
  } else {
    throw invalidType(argument, "a time (microseconds or a string like '10ms')", value);
  }
  if (!Number.isFinite(us) || us < 0 || us > max) throw outOfRange(argument, `>= 0 and <= ${max} microseconds`, value);
  return us;
}

/** A probability as a percentage: 1.5 or '1.5%'. */
export function parsePercent(value: unknown, argument: string): number {
  let p: number;
  if (typeof value === 'number') p = value;
  else if (typeof value === 'string') {
    const parts = splitUnit(value);
    if (!parts || (parts[1] !== '%' && parts[1] !== ''))
      throw invalidValue(argument, value, "must be a percentage like '1.5%'");
    p = parts[0];
  } else throw invalidType(argument, "a percentage (number or '1.5%')", value);
  if (!Number.isFinite(p) || p < 0 || p > 100) throw outOfRange(argument, '>= 0 and <= 100 (percent)', value);
  return p;
}

/** A percentage as the kernel's u32 fraction of 2^32-1 (netem), rounded as tc does. */
export function percentToFraction(percent: number): number {
  return Math.round((percent / 100) * 0xffffffff);
}

/** The inverse of percentToFraction, to 4 decimals. */
export function fractionToPercent(fraction: number): number {
  return Math.round((fraction / 0xffffffff) * 100 * 10000) / 10000;
}

/**
 * The packet scheduler's clock as /proc/net/psched reports it (the same in
 * every namespace). Ticks are what TBF/HTB buffers and netem delays travel in.
 */
export interface PschedClock {
  /** Scheduler ticks per microsecond (15.625 on every kernel since 2.6.31). */
  ticksPerUsec: number;
  /** Timer frequency used for HTB's default burst (1e9 with high-resolution timers). */
  hz: number;
}

let clock: PschedClock | undefined;

/** Reads /proc/net/psched once; the kernel's fixed values when it is unreadable. */
export function pschedClock(): PschedClock {
  if (clock) return clock;
  // Kernel: NSEC_PER_USEC, PSCHED_TICKS2NS(1) = 64, 1000000, NSEC_PER_SEC / hrtimer resolution.
  let [t2us, us2t, clockRes, hz] = [1000, 64, 1000000, 1e9];
  try {
    const words = fs
      .readFileSync('/proc/net/psched', 'utf8')
      .trim()
      .split(/\s+/)
      .map((w) => parseInt(w, 16));
    if (words.length >= 4 && words.every((w) => Number.isFinite(w) && w > 0)) [t2us, us2t, clockRes, hz] = words;
  } catch {
    // Not Linux or /proc not mounted: keep the kernel's constants.
  }
  // A nanosecond clock advertises t2us 1000 for old binaries; it means 1.
  if (clockRes === 1000000000) t2us = us2t;
  const clockFactor = clockRes / 1e6;
  clock = { ticksPerUsec: (t2us / us2t) * clockFactor, hz: clockRes === 1000000 ? hz : 100 };
  return clock;
}

const u32 = (x: number) => (x >= 2 ** 32 ? 0xffffffff : x < 0 ? 0 : Math.trunc(x));

/** Microseconds to scheduler ticks, truncated as tc does. */
export function timeToTicks(us: number): number {
  return u32(u32(us) * pschedClock().ticksPerUsec);
}

/** Scheduler ticks to microseconds. */
export function ticksToTime(ticks: number): number {
  return ticks / pschedClock().ticksPerUsec;
}

/** Ticks to send `size` bytes at `rate` bytes/s (tc_calc_xmittime). */
export function transmitTicks(rate: number, size: number): number {
  return timeToTicks(1e6 * (size / rate));
}

/** Bytes sent at `rate` bytes/s in `ticks` (tc_calc_xmitsize), rounded down. */
export function transmitSize(rate: number, ticks: number): number {
  return Math.trunc((rate * ticksToTime(ticks)) / 1e6);
}

export const LINK_LAYERS = ['unaware', 'ethernet', 'atm'] as const;
export type LinkLayer = 'ethernet' | 'atm';

/** A tc_ratespec plus the 256-slot table of transmit ticks by size that goes beside it. */
export interface RateTable {
  spec: { cellLog: number; linklayer: number; overhead: number; cellAlign: number; mpu: number; rate: number };
  table: Buffer;
}

/**
 * tc_calc_rtable: the ratespec and its rate table. Slot i holds the ticks
 * to send ((i + 1) << cellLog) bytes, at least `mpu`, in ATM cells when
 * the link layer is ATM. Rates of 2^32 bytes/s and more go in a 64-bit
 * attribute; the ratespec then holds ~0 and the table is all zeros, as tc sends it.
 */
export function rateTable(
  rate: number,
  options: { mtu?: number; mpu?: number; overhead?: number; linklayer?: LinkLayer; cellLog?: number } = {},
): RateTable {
  const rate32 = rate >= 2 ** 32 ? 0xffffffff : rate;
  const mtu = options.mtu || 2047;
  let cellLog = options.cellLog ?? -1;
  if (cellLog < 0) {
    cellLog = 0;
    while (mtu >> cellLog > 255) cellLog++;
  }
  const mpu = options.mpu ?? 0;
  const table = Buffer.alloc(1024);
  for (let i = 0; i < 256; i++) {
    let size = (i + 1) << cellLog;
    if (size < mpu) size = mpu;
    if (options.linklayer === 'atm') size = Math.ceil(size / 48) * 53;
    table.writeUInt32LE(transmitTicks(rate32, size), i * 4);
  }
  return {
    spec: {
      cellLog,
      linklayer: options.linklayer === 'atm' ? 2 : 1,
      overhead: options.overhead ?? 0,
      cellAlign: -1,
      mpu,
      rate: rate32,
    },
    table,
  };
}

/** Writes a tc_ratespec (12 bytes). */
export function writeRatespec(buf: Buffer, at: number, spec: RateTable['spec'] | undefined): void {
  if (!spec) return;
  buf[at] = spec.cellLog;
  buf[at + 1] = spec.linklayer;
  buf.writeUInt16LE(spec.overhead, at + 2);
  buf.writeInt16LE(spec.cellAlign, at + 4);
  buf.writeUInt16LE(spec.mpu, at + 6);
  buf.writeUInt32LE(spec.rate, at + 8);
}

/** Reads a tc_ratespec's user-facing fields. */
export function readRatespec(
  buf: Buffer,
  at: number,
): { rate: number; overhead: number; mpu: number; linklayer: string | number } {
  const ll = buf[at + 1] & 0x0f;
  return {
    rate: buf.readUInt32LE(at + 8),
    overhead: buf.readUInt16LE(at + 2),
    mpu: buf.readUInt16LE(at + 6),
    linklayer: LINK_LAYERS[ll] ?? ll,
  };
}

export function linkLayerArgument(value: unknown, argument: string): LinkLayer | undefined {
  if (value === undefined) return undefined;
  if (value !== 'ethernet' && value !== 'atm') throw invalidValue(argument, value, "must be 'ethernet' or 'atm'");
  return value;
}
