/**
 * tc statistics (TCA_STATS2 and action stats): basic counters, queue
 * counters and the rate estimator, named as `tc -j -s` prints them.
 */
import { forEachAttribute } from '../netlink/attributes';
import {
  TCA_STATS_BASIC,
  TCA_STATS_BASIC_HW,
  TCA_STATS_PKT64,
  TCA_STATS_QUEUE,
  TCA_STATS_RATE_EST,
  TCA_STATS_RATE_EST64,
} from '../netlink/constants';

/** Counters of a qdisc, class, filter or action. */
export interface TcStats {
  bytes: number;
  packets: number;
  drops: number;
  overlimits: number;
  requeues: number;
  /** Bytes queued now. */
  backlog: number;
  /** Packets queued now. */
  qlen: number;
  /** Rate estimator (bytes/s and packets/s), when one is attached. */
  rate?: { bps: number; pps: number };
  /** Counters of hardware offload, when the driver reports them. */
  hw?: { bytes: number; packets: number };
}

const u64 = (buf: Buffer, off: number) => buf.readUInt32LE(off + 4) * 2 ** 32 + buf.readUInt32LE(off);

/** Decodes a TCA_STATS2-style nest. */
export function decodeStats(buf: Buffer, start: number, end: number): TcStats {
  const s: TcStats = { bytes: 0, packets: 0, drops: 0, overlimits: 0, requeues: 0, backlog: 0, qlen: 0 };
  let pkt64: number | undefined;
  forEachAttribute(buf, start, end, (type, _f, off, len) => {
    switch (type) {
      case TCA_STATS_BASIC:
        if (len >= 12) {
          s.bytes = u64(buf, off);
          s.packets = buf.readUInt32LE(off + 8);
        }
        break;
      case TCA_STATS_BASIC_HW:
        if (len >= 12) s.hw = { bytes: u64(buf, off), packets: buf.readUInt32LE(off + 8) };
        break;
      case TCA_STATS_PKT64:
        if (len >= 8) pkt64 = u64(buf, off);
        break;
      case TCA_STATS_QUEUE:
        if (len >= 20) {
          s.qlen = buf.readUInt32LE(off);
          s.backlog = buf.readUInt32LE(off + 4);
          s.drops = buf.readUInt32LE(off + 8);
          s.requeues = buf.readUInt32LE(off + 12);
          s.overlimits = buf.readUInt32LE(off + 16);
        }
        break;
      case TCA_STATS_RATE_EST:
        if (len >= 8 && !s.rate) s.rate = { bps: buf.readUInt32LE(off), pps: buf.readUInt32LE(off + 4) };
        break;
      case TCA_STATS_RATE_EST64:
        if (len >= 16) s.rate = { bps: u64(buf, off), pps: u64(buf, off + 8) };
        break;
    }
  });
  if (pkt64 !== undefined) s.packets = pkt64;
  return s;
}

/** Decodes the legacy struct tc_stats (TCA_STATS), for kernels that send only that. */
export function decodeLegacyStats(buf: Buffer, off: number, len: number): TcStats {
  const s: TcStats = { bytes: 0, packets: 0, drops: 0, overlimits: 0, requeues: 0, backlog: 0, qlen: 0 };
  if (len < 36) return s;
  s.bytes = u64(buf, off);
  s.packets = buf.readUInt32LE(off + 8);
  s.drops = buf.readUInt32LE(off + 12);
  s.overlimits = buf.readUInt32LE(off + 16);
  const bps = buf.readUInt32LE(off + 20);
  const pps = buf.readUInt32LE(off + 24);
  if (bps || pps) s.rate = { bps, pps };
  s.qlen = buf.readUInt32LE(off + 28);
  s.backlog = buf.readUInt32LE(off + 32);
  return s;
}
