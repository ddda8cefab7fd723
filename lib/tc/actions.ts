/**
 * tc actions (gact, mirred, police, skbedit, vlan, tunnel_key, csum,
 * pedit): typed specs, their encoding inside a filter's action list or a
 * standalone RTM_NEWACTION, and decoding of what the kernel dumps.
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import {
  NLA_F_NESTED,
  Writer,
  attrS32 as readS32Attribute,
  attrU8 as readU8Attribute,
  attrU16 as readU16Attribute,
  attrU32 as readU32Attribute,
  forEachAttribute,
} from '../netlink/attributes';
import { formatIP } from '../netlink/address';
import {
  TCA_ACT_INDEX,
  TCA_ACT_KIND,
  TCA_ACT_OPTIONS,
  TCA_ACT_STATS,
  TCA_CSUM_PARMS,
  TCA_CSUM_UPDATE_FLAG_ICMP,
  TCA_CSUM_UPDATE_FLAG_IGMP,
  TCA_CSUM_UPDATE_FLAG_IPV4HDR,
  TCA_CSUM_UPDATE_FLAG_SCTP,
  TCA_CSUM_UPDATE_FLAG_TCP,
  TCA_CSUM_UPDATE_FLAG_UDP,
  TCA_CSUM_UPDATE_FLAG_UDPLITE,
  TCA_EGRESS_MIRROR,
  TCA_EGRESS_REDIR,
  TCA_GACT_PARMS,
  TCA_GACT_PROB,
  TCA_INGRESS_MIRROR,
  TCA_INGRESS_REDIR,
  TCA_MIRRED_PARMS,
  TCA_PEDIT_PARMS,
  TCA_PEDIT_PARMS_EX,
  TCA_POLICE_AVRATE,
  TCA_POLICE_PEAKRATE,
  TCA_POLICE_PEAKRATE64,
  TCA_POLICE_RATE,
  TCA_POLICE_RATE64,
  TCA_POLICE_RESULT,
  TCA_POLICE_TBF,
  TCA_SKBEDIT_MARK,
  TCA_SKBEDIT_MASK,
  TCA_SKBEDIT_PARMS,
  TCA_SKBEDIT_PRIORITY,
  TCA_SKBEDIT_PTYPE,
  TCA_SKBEDIT_QUEUE_MAPPING,
  TCA_TUNNEL_KEY_ACT_RELEASE,
  TCA_TUNNEL_KEY_ACT_SET,
  TCA_TUNNEL_KEY_ENC_DST_PORT,
  TCA_TUNNEL_KEY_ENC_IPV4_DST,
  TCA_TUNNEL_KEY_ENC_IPV4_SRC,
  TCA_TUNNEL_KEY_ENC_IPV6_DST,
  TCA_TUNNEL_KEY_ENC_IPV6_SRC,
  TCA_TUNNEL_KEY_ENC_KEY_ID,
  TCA_TUNNEL_KEY_ENC_TOS,
  TCA_TUNNEL_KEY_ENC_TTL,
  TCA_TUNNEL_KEY_NO_CSUM,
  TCA_TUNNEL_KEY_PARMS,
  TCA_VLAN_ACT_MODIFY,
  TCA_VLAN_ACT_POP,
  TCA_VLAN_ACT_PUSH,
  TCA_VLAN_PARMS,
  TCA_VLAN_PUSH_VLAN_ID,
  TCA_VLAN_PUSH_VLAN_PRIORITY,
  TCA_VLAN_PUSH_VLAN_PROTOCOL,
  TC_ACT_GOTO_CHAIN,
  TC_ACT_JUMP,
  TC_ACT_EXT_VAL_MASK,
} from '../netlink/constants';
import { ipArgument } from '../inputs';
import { FamilySchemas } from '../netlink/schema';
import { tc as tcSpec } from '../specs';
import type { LinkRef } from '../link';
import { parseProtocol, parseHandle, protocolName, formatHandle } from './handles';
import {
  linkLayerArgument,
  parseRate,
  parseSize,
  rateTable,
  readRatespec,
  transmitSize,
  transmitTicks,
  writeRatespec,
} from './units';
import { decodeStats, type TcStats } from './stats';

/**
 * What happens to the packet after an action: 'pass' (TC_ACT_OK), 'drop',
 * 'continue', 'reclassify', 'pipe', 'stolen', 'queued', 'repeat',
 * 'redirect', 'trap', 'goto chain N', 'jump N'.
 */
export type Verdict = string;

const VERDICTS: [string, number][] = [
  ['continue', -1],
  ['pass', 0],
  ['reclassify', 1],
  ['drop', 2],
  ['pipe', 3],
  ['stolen', 4],
  ['queued', 5],
  ['repeat', 6],
  ['redirect', 7],
  ['trap', 8],
];
const VERDICT_BY_NAME = new Map<string, number>([...VERDICTS, ['ok', 0], ['shot', 2]]);
const VERDICT_BY_VALUE = new Map(VERDICTS.map(([n, v]) => [v, n]));

export function verdictValue(value: unknown, argument: string): number {
  if (typeof value !== 'string') throw invalidType(argument, "a verdict like 'pass', 'drop', 'pipe'", value);
  const v = VERDICT_BY_NAME.get(value);
  if (v !== undefined) return v;
  const m = /^(goto chain|jump) (\d+)$/.exec(value);
  if (m && Number(m[2]) <= TC_ACT_EXT_VAL_MASK)
    return ((m[1] === 'jump' ? TC_ACT_JUMP : TC_ACT_GOTO_CHAIN) | Number(m[2])) >>> 0;
  throw invalidValue(
    argument,
    value,
    `must be one of ${VERDICTS.map(([n]) => n).join(', ')}, 'goto chain N' or 'jump N'`,
  );
}

export function verdictName(v: number): Verdict {
  const name = VERDICT_BY_VALUE.get(v);
  if (name !== undefined) return name;
  const u = v >>> 0;
  if ((u & ~TC_ACT_EXT_VAL_MASK) >>> 0 === TC_ACT_GOTO_CHAIN) return `goto chain ${u & TC_ACT_EXT_VAL_MASK}`;
  if ((u & ~TC_ACT_EXT_VAL_MASK) >>> 0 === TC_ACT_JUMP) return `jump ${u & TC_ACT_EXT_VAL_MASK}`;
  return String(v);
}

interface ActionCommon {
  /** The action's index in its kind's table (shared by filters that name it). */
  index?: number;
}

export interface GactAction extends ActionCommon {
  kind: 'gact';
  /** The verdict: 'drop', 'pass', 'reclassify', 'continue', 'pipe', 'goto chain N', ... */
  action: Verdict;
  /** A random second verdict: 'netrand' with a percentage, or 'determ' every Nth packet. */
  random?: { type: 'netrand' | 'determ'; value: number; action: Verdict };
}

export interface MirredAction extends ActionCommon {
  kind: 'mirred';
  direction: 'egress' | 'ingress';
  action: 'redirect' | 'mirror';
  /** Target link (name or index); decoded objects carry `ifindex` and, from list(), `dev`. */
  dev?: LinkRef;
  ifindex?: number;
  /** Verdict after the copy: 'stolen' for redirect and 'pipe' for mirror by default. */
  control?: Verdict;
}

export interface PoliceAction extends ActionCommon {
  kind: 'police';
  /** Bytes/s or a tc rate string. */
  rate?: number | string;
  /** Bucket size in bytes (or '10k'...). */
  burst?: number | string;
  mtu?: number | string;
  peakrate?: number | string;
  /** Estimated-rate policing (bytes/s), needs a rate estimator. */
  avrate?: number | string;
  mpu?: number;
  overhead?: number;
  linklayer?: 'ethernet' | 'atm';
  /** Verdict for packets over the rate (default 'reclassify'). */
  exceed?: Verdict;
  /** Verdict for packets within the rate (default 'pass'). */
  conform?: Verdict;
}

export interface SkbeditAction extends ActionCommon {
  kind: 'skbedit';
  mark?: number;
  mask?: number;
  /** Class id to set as skb->priority, e.g. '1:10', or a number. */
  priority?: string | number;
  queueMapping?: number;
  /** Packet type: 'host', 'otherhost', 'broadcast', 'multicast' or a number. */
  ptype?: string | number;
  control?: Verdict;
}

export interface VlanAction extends ActionCommon {
  kind: 'vlan';
  op: 'push' | 'pop' | 'modify';
  id?: number;
  /** '802.1Q' or '802.1ad' (default 802.1Q). */
  protocol?: string | number;
  priority?: number;
  control?: Verdict;
}

export interface TunnelKeyAction extends ActionCommon {
  kind: 'tunnel_key';
  op: 'set' | 'unset';
  src?: string;
  dst?: string;
  /** Tunnel key (VNI). */
  id?: number;
  dstPort?: number;
  tos?: number;
  ttl?: number;
  /** Whether to compute the UDP checksum of the outer header (default true). */
  checksum?: boolean;
  noFrag?: boolean;
  control?: Verdict;
}

export interface CsumAction extends ActionCommon {
  kind: 'csum';
  /** Headers to recompute: 'iph', 'icmp', 'igmp', 'tcp', 'udp', 'udplite', 'sctp'. */
  update: string[];
  control?: Verdict;
}

/** One 32-bit edit: at byte `offset` (a multiple of 4), packet = (packet & mask) ^ value (both big-endian words). */
export interface PeditKey {
  offset: number;
  value: number;
  /** Bits kept from the packet; 0 (the default) replaces the whole word. */
  mask?: number;
  at?: number;
  offmask?: number;
  shift?: number;
}

export interface PeditAction extends ActionCommon {
  kind: 'pedit';
  keys: PeditKey[];
  control?: Verdict;
}

/** An action as filters and `tc.action` take it, and as they are decoded. */
export type TcAction =
  GactAction | MirredAction | PoliceAction | SkbeditAction | VlanAction | TunnelKeyAction | CsumAction | PeditAction;

/** A decoded action: the spec plus its counters. */
export type TcActionInfo = TcAction & { refcnt?: number; bindcnt?: number; stats?: TcStats };

export const ACTION_KINDS = ['gact', 'mirred', 'police', 'skbedit', 'vlan', 'tunnel_key', 'csum', 'pedit'];

const CSUM_FLAGS: [string, number][] = [
  ['iph', TCA_CSUM_UPDATE_FLAG_IPV4HDR],
  ['icmp', TCA_CSUM_UPDATE_FLAG_ICMP],
  ['igmp', TCA_CSUM_UPDATE_FLAG_IGMP],
  ['tcp', TCA_CSUM_UPDATE_FLAG_TCP],
  ['udp', TCA_CSUM_UPDATE_FLAG_UDP],
  ['udplite', TCA_CSUM_UPDATE_FLAG_UDPLITE],
  ['sctp', TCA_CSUM_UPDATE_FLAG_SCTP],
];

// skb->pkt_type values (linux/if_packet.h PACKET_*), as tc skbedit names them.
const PTYPES: [string, number][] = [
  ['host', 0],
  ['broadcast', 1],
  ['multicast', 2],
  ['otherhost', 3],
];

const MIRRED_ACTIONS: [string, string, number][] = [
  ['egress', 'redirect', TCA_EGRESS_REDIR],
  ['egress', 'mirror', TCA_EGRESS_MIRROR],
  ['ingress', 'redirect', TCA_INGRESS_REDIR],
  ['ingress', 'mirror', TCA_INGRESS_MIRROR],
];

const VLAN_OPS: [string, number][] = [
  ['pop', TCA_VLAN_ACT_POP],
  ['push', TCA_VLAN_ACT_PUSH],
  ['modify', TCA_VLAN_ACT_MODIFY],
];

// Newer than the installed uapi headers (6.1): taken from the kernel's YNL spec.
const TCA_TUNNEL_KEY_NO_FRAG = new FamilySchemas(tcSpec).attributeSet('act-tunnel-key-attrs').typeOf('noFrag')!;

const KEYS: Record<string, string[]> = {
  gact: ['action', 'random'],
  mirred: ['direction', 'action', 'dev', 'ifindex', 'control'],
  police: ['rate', 'burst', 'mtu', 'peakrate', 'avrate', 'mpu', 'overhead', 'linklayer', 'exceed', 'conform'],
  skbedit: ['mark', 'mask', 'priority', 'queueMapping', 'ptype', 'control'],
  vlan: ['op', 'id', 'protocol', 'priority', 'control'],
  tunnel_key: ['op', 'src', 'dst', 'id', 'dstPort', 'tos', 'ttl', 'checksum', 'noFrag', 'control'],
  csum: ['update', 'control'],
  pedit: ['keys', 'control'],
};

function u32Arg(v: unknown, argument: string, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer', v);
  if (v < 0 || v > max) throw outOfRange(argument, `>= 0 and <= ${max}`, v);
  return v;
}

/** Checks an action spec's shape (kind, keys) before anything is resolved or sent. */
export function checkAction(action: unknown, argument: string): asserts action is TcAction {
  if (typeof action !== 'object' || action === null) throw invalidType(argument, 'an action object', action);
  const kind = (action as { kind?: unknown }).kind;
  const keys = typeof kind === 'string' ? KEYS[kind] : undefined;
  if (!keys) throw invalidValue(`${argument}.kind`, kind, `must be one of ${ACTION_KINDS.join(', ')}`);
  for (const key of Object.keys(action)) {
    if (
      key !== 'kind' &&
      key !== 'index' &&
      !keys.includes(key) &&
      key !== 'refcnt' &&
      key !== 'bindcnt' &&
      key !== 'stats'
    ) {
      throw invalidValue(
        `${argument}.${key}`,
        (action as Record<string, unknown>)[key],
        `is not an option of ${kind} actions`,
      );
    }
  }
}

/** Writes struct tc_gen: index, capab, action, refcnt, bindcnt. */
function gen(w: Writer, index: number, verdict: number): void {
  w.u32(index);
  w.u32(0);
  w.s32(verdict | 0);
  w.u32(0);
  w.u32(0);
}

function attrU32(w: Writer, type: number, v: number): void {
  w.attrU32(type, v >>> 0);
}

/**
 * Writes one action as the nest `order` (1-based): TCA_ACT_KIND and
 * TCA_ACT_OPTIONS. mirred's `dev` must already be resolved to `ifindex`.
 */
export function encodeAction(w: Writer, action: TcAction, order: number, argument: string): void {
  checkAction(action, argument);
  const index = action.index === undefined ? 0 : u32Arg(action.index, `${argument}.index`);
  const at = w.begin(order);
  w.attrString(TCA_ACT_KIND, action.kind);
  const opts = w.begin(TCA_ACT_OPTIONS | NLA_F_NESTED);
  switch (action.kind) {
    case 'gact': {
      const p = w.begin(TCA_GACT_PARMS);
      gen(w, index, verdictValue(action.action, `${argument}.action`));
      w.end(p);
      if (action.random !== undefined) {
        const r = action.random;
        if (typeof r !== 'object' || r === null) throw invalidType(`${argument}.random`, 'an object', r);
        const type = r.type === 'netrand' ? 1 : r.type === 'determ' ? 2 : undefined;
        if (type === undefined) throw invalidValue(`${argument}.random.type`, r.type, "must be 'netrand' or 'determ'");
        const pr = w.begin(TCA_GACT_PROB);
        w.u16(type);
        w.u16(u32Arg(r.value, `${argument}.random.value`, 10000));
        w.s32(verdictValue(r.action, `${argument}.random.action`));
        w.end(pr);
      }
      break;
    }
    case 'mirred': {
      const m = MIRRED_ACTIONS.find(([d, a]) => d === action.direction && a === action.action);
      if (!m) {
        throw invalidValue(
          `${argument}.direction/action`,
          `${String(action.direction)} ${String(action.action)}`,
          "must be direction 'egress' or 'ingress' with action 'redirect' or 'mirror'",
        );
      }
      if (action.ifindex === undefined) throw invalidType(`${argument}.dev`, 'a link name or index', action.dev);
      const control =
        action.control !== undefined
          ? verdictValue(action.control, `${argument}.control`)
          : action.action === 'redirect'
            ? 4
            : 3;
      const p = w.begin(TCA_MIRRED_PARMS);
      gen(w, index, control);
      w.s32(m[2]);
      w.u32(u32Arg(action.ifindex, `${argument}.ifindex`));
      w.end(p);
      break;
    }
    case 'police':
      encodePolice(w, action, index, argument);
      break;
    case 'skbedit': {
      const p = w.begin(TCA_SKBEDIT_PARMS);
      gen(w, index, action.control === undefined ? 3 : verdictValue(action.control, `${argument}.control`));
      w.end(p);
      if (action.queueMapping !== undefined)
        w.attrU16(TCA_SKBEDIT_QUEUE_MAPPING, u32Arg(action.queueMapping, `${argument}.queueMapping`, 0xffff));
      if (action.priority !== undefined)
        attrU32(w, TCA_SKBEDIT_PRIORITY, parseHandle(action.priority, `${argument}.priority`, 'classid'));
      if (action.mark !== undefined) attrU32(w, TCA_SKBEDIT_MARK, u32Arg(action.mark, `${argument}.mark`));
      if (action.ptype !== undefined) {
        const pt =
          typeof action.ptype === 'number'
            ? u32Arg(action.ptype, `${argument}.ptype`, 0xffff)
            : PTYPES.find(([n]) => n === action.ptype)?.[1];
        if (pt === undefined)
          throw invalidValue(`${argument}.ptype`, action.ptype, `must be one of ${PTYPES.map(([n]) => n).join(', ')}`);
        w.attrU16(TCA_SKBEDIT_PTYPE, pt);
      }
      if (action.mask !== undefined) attrU32(w, TCA_SKBEDIT_MASK, u32Arg(action.mask, `${argument}.mask`));
      break;
    }
    case 'vlan': {
      const op = VLAN_OPS.find(([n]) => n === action.op)?.[1];
      if (op === undefined) throw invalidValue(`${argument}.op`, action.op, "must be 'push', 'pop' or 'modify'");
      const p = w.begin(TCA_VLAN_PARMS);
      gen(w, index, action.control === undefined ? 3 : verdictValue(action.control, `${argument}.control`));
      w.s32(op);
      w.end(p);
      if (op !== TCA_VLAN_ACT_POP) {
        if (action.id === undefined) throw invalidType(`${argument}.id`, 'a VLAN id (1-4094)', action.id);
        w.attrU16(TCA_VLAN_PUSH_VLAN_ID, u32Arg(action.id, `${argument}.id`, 4095));
        if (action.protocol !== undefined) {
          const at2 = w.begin(TCA_VLAN_PUSH_VLAN_PROTOCOL);
          w.u16be(parseProtocol(action.protocol, `${argument}.protocol`));
          w.end(at2);
        }
        if (action.priority !== undefined)
          w.attrU8(TCA_VLAN_PUSH_VLAN_PRIORITY, u32Arg(action.priority, `${argument}.priority`, 7));
      }
      break;
    }
    case 'tunnel_key': {
      if (action.op !== 'set' && action.op !== 'unset')
        throw invalidValue(`${argument}.op`, action.op, "must be 'set' or 'unset'");
      if (action.op === 'set') {
        for (const [key, v4, v6] of [
          ['src', TCA_TUNNEL_KEY_ENC_IPV4_SRC, TCA_TUNNEL_KEY_ENC_IPV6_SRC],
          ['dst', TCA_TUNNEL_KEY_ENC_IPV4_DST, TCA_TUNNEL_KEY_ENC_IPV6_DST],
        ] as const) {
          const v = action[key];
          if (v === undefined) continue;
          const ip = ipArgument(v, undefined, `${argument}.${key}`);
          w.attr(ip.family === 4 ? v4 : v6, ip.bytes);
        }
        if (action.id !== undefined) {
          const k = w.begin(TCA_TUNNEL_KEY_ENC_KEY_ID);
          w.u32be(u32Arg(action.id, `${argument}.id`));
          w.end(k);
        }
        if (action.dstPort !== undefined) {
          const k = w.begin(TCA_TUNNEL_KEY_ENC_DST_PORT);
          w.u16be(u32Arg(action.dstPort, `${argument}.dstPort`, 0xffff));
          w.end(k);
        }
        if (action.tos !== undefined) w.attrU8(TCA_TUNNEL_KEY_ENC_TOS, u32Arg(action.tos, `${argument}.tos`, 255));
        if (action.ttl !== undefined) w.attrU8(TCA_TUNNEL_KEY_ENC_TTL, u32Arg(action.ttl, `${argument}.ttl`, 255));
        if (action.noFrag) w.attrFlag(TCA_TUNNEL_KEY_NO_FRAG);
      }
      w.attrU8(TCA_TUNNEL_KEY_NO_CSUM, action.checksum === false ? 1 : 0);
      const p = w.begin(TCA_TUNNEL_KEY_PARMS);
      gen(w, index, action.control === undefined ? 3 : verdictValue(action.control, `${argument}.control`));
      w.s32(action.op === 'set' ? TCA_TUNNEL_KEY_ACT_SET : TCA_TUNNEL_KEY_ACT_RELEASE);
      w.end(p);
      break;
    }
    case 'csum': {
      if (!Array.isArray(action.update))
        throw invalidType(`${argument}.update`, 'an array of header names', action.update);
      let flags = 0;
      for (const name of action.update) {
        const bit = CSUM_FLAGS.find(([n]) => n === name)?.[1];
        if (bit === undefined)
          throw invalidValue(`${argument}.update`, name, `must be one of ${CSUM_FLAGS.map(([n]) => n).join(', ')}`);
        flags |= bit;
      }
      const p = w.begin(TCA_CSUM_PARMS);
      gen(w, index, action.control === undefined ? 0 : verdictValue(action.control, `${argument}.control`));
      w.u32(flags);
      w.end(p);
      break;
    }
    case 'pedit': {
      if (!Array.isArray(action.keys) || action.keys.length === 0 || action.keys.length > 128) {
        throw invalidType(`${argument}.keys`, 'an array of 1 to 128 { offset, value, mask? } keys', action.keys);
      }
      const p = w.begin(TCA_PEDIT_PARMS);
      gen(w, index, action.control === undefined ? 0 : verdictValue(action.control, `${argument}.control`));
      w.u8(action.keys.length);
      w.u8(0);
      w.u16(0);
      action.keys.forEach((k, i) => {
        const a = `${argument}.keys[${i}]`;
        if (typeof k !== 'object' || k === null) throw invalidType(a, 'an object', k);
        const offset = k.offset;
        if (typeof offset !== 'number' || !Number.isInteger(offset) || offset % 4 !== 0)
          throw invalidValue(`${a}.offset`, offset, 'must be an integer multiple of 4');
        w.u32be(u32Arg(k.mask ?? 0, `${a}.mask`));
        w.u32be(u32Arg(k.value, `${a}.value`));
        w.s32(offset);
        w.u32(u32Arg(k.at ?? 0, `${a}.at`));
        w.u32(u32Arg(k.offmask ?? 0, `${a}.offmask`));
        w.u32(u32Arg(k.shift ?? 0, `${a}.shift`));
      });
      w.end(p);
      break;
    }
  }
  w.end(opts);
  w.end(at);
}

function encodePolice(w: Writer, action: PoliceAction, index: number, argument: string): void {
  const rate = action.rate === undefined ? 0 : parseRate(action.rate, `${argument}.rate`);
  const peakrate = action.peakrate === undefined ? 0 : parseRate(action.peakrate, `${argument}.peakrate`);
  const avrate = action.avrate === undefined ? 0 : parseRate(action.avrate, `${argument}.avrate`);
  if (!rate && !avrate) throw invalidType(`${argument}.rate`, 'a rate (police needs rate or avrate)', action.rate);
  const burst = action.burst === undefined ? 0 : parseSize(action.burst, `${argument}.burst`);
  if (rate && !burst) throw invalidType(`${argument}.burst`, 'a size (police with a rate needs a burst)', action.burst);
  const mtu = action.mtu === undefined ? 0 : parseSize(action.mtu, `${argument}.mtu`);
  if (peakrate && !mtu)
    throw invalidType(`${argument}.mtu`, 'a size (police with a peakrate needs an mtu)', action.mtu);
  const linklayer = linkLayerArgument(action.linklayer, `${argument}.linklayer`);
  const mpu = action.mpu === undefined ? 0 : u32Arg(action.mpu, `${argument}.mpu`, 0xffff);
  const overhead = action.overhead === undefined ? 0 : u32Arg(action.overhead, `${argument}.overhead`, 0xffff);
  const exceed = action.exceed === undefined ? 1 : verdictValue(action.exceed, `${argument}.exceed`);
  const conform = action.conform === undefined ? 0 : verdictValue(action.conform, `${argument}.conform`);
  const rtab = rate ? rateTable(rate, { mtu, mpu, overhead, linklayer }) : undefined;
  const ptab = peakrate ? rateTable(peakrate, { mtu, mpu, overhead, linklayer }) : undefined;
  const tbf = Buffer.alloc(56);
  tbf.writeUInt32LE(index, 0);
  tbf.writeInt32LE(exceed | 0, 4);
  tbf.writeUInt32LE(rate ? transmitTicks(rate, burst) : 0, 12);
  tbf.writeUInt32LE(mtu, 16);
  writeRatespec(tbf, 20, rtab?.spec);
  writeRatespec(tbf, 32, ptab?.spec);
  w.attr(TCA_POLICE_TBF, tbf);
  if (rtab) w.attr(TCA_POLICE_RATE, rtab.table);
  if (ptab) w.attr(TCA_POLICE_PEAKRATE, ptab.table);
  if (avrate) w.attrU32(TCA_POLICE_AVRATE, avrate);
  if (conform) w.attrU32(TCA_POLICE_RESULT, conform >>> 0);
  if (rate >= 2 ** 32) {
    const a = w.begin(TCA_POLICE_RATE64);
    w.u64(rate);
    w.end(a);
  }
  if (peakrate >= 2 ** 32) {
    const a = w.begin(TCA_POLICE_PEAKRATE64);
    w.u64(peakrate);
    w.end(a);
  }
}

/** Writes a filter's action list: the attribute `type` holding one nest per action, in order. */
export function encodeActionList(w: Writer, type: number, actions: unknown, argument: string): void {
  if (!Array.isArray(actions)) throw invalidType(argument, 'an array of actions', actions);
  if (actions.length > 32) throw outOfRange(argument, 'at most 32 actions long', actions);
  const at = w.begin(type);
  actions.forEach((a, i) => encodeAction(w, a as TcAction, i + 1, `${argument}[${i}]`));
  w.end(at);
}

/** Replaces mirred `dev` references by `ifindex`, with the resolver given. */
export async function resolveActionLinks(
  actions: unknown,
  argument: string,
  indexOf: (ref: LinkRef) => Promise<number>,
): Promise<TcAction[] | undefined> {
  if (actions === undefined) return undefined;
  if (!Array.isArray(actions)) throw invalidType(argument, 'an array of actions', actions);
  actions.forEach((a, i) => checkAction(a, `${argument}[${i}]`));
  const out: TcAction[] = [];
  for (const a of actions as TcAction[]) {
    if (a.kind === 'mirred' && a.dev !== undefined) {
      const { dev, ...rest } = a;
      out.push({ ...rest, ifindex: await indexOf(dev) });
    } else out.push(a);
  }
  return out;
}

interface Gen {
  index: number;
  action: number;
  refcnt: number;
  bindcnt: number;
}

function readGen(buf: Buffer, off: number): Gen {
  return {
    index: buf.readUInt32LE(off),
    action: buf.readInt32LE(off + 8),
    refcnt: buf.readInt32LE(off + 12),
    bindcnt: buf.readInt32LE(off + 16),
  };
}

function attrMap(buf: Buffer, start: number, end: number): Map<number, [number, number]> {
  const m = new Map<number, [number, number]>();
  forEachAttribute(buf, start, end, (type, _f, off, len) => m.set(type, [off, len]));
  return m;
}

/** Decodes one action nest (TCA_ACT_KIND, TCA_ACT_OPTIONS, TCA_ACT_STATS...). */
export function decodeAction(buf: Buffer, start: number, end: number): TcActionInfo | Record<string, unknown> {
  const a = attrMap(buf, start, end);
  const kindAt = a.get(TCA_ACT_KIND);
  const kind = kindAt ? buf.toString('utf8', kindAt[0], kindAt[0] + kindAt[1]).replace(/\0.*$/s, '') : '';
  const optsAt = a.get(TCA_ACT_OPTIONS);
  const o = optsAt ? attrMap(buf, optsAt[0], optsAt[0] + optsAt[1]) : new Map<number, [number, number]>();
  const out: Record<string, unknown> = { kind };
  const withGen = (type: number, minLen = 20): Gen | undefined => {
    const p = o.get(type);
    if (!p || p[1] < minLen) return undefined;
    const g = readGen(buf, p[0]);
    out.index = g.index;
    return g;
  };
  switch (kind) {
    case 'gact': {
      const g = withGen(TCA_GACT_PARMS);
      if (g) out.action = verdictName(g.action);
      const pr = o.get(TCA_GACT_PROB);
      if (pr && pr[1] >= 8 && readU16Attribute(buf, pr[0], pr[1]) !== 0) {
        out.random = {
          type: readU16Attribute(buf, pr[0], pr[1]) === 1 ? 'netrand' : 'determ',
          value: buf.readUInt16LE(pr[0] + 2),
          action: verdictName(buf.readInt32LE(pr[0] + 4)),
        };
      }
      break;
    }
    case 'mirred': {
      const g = withGen(TCA_MIRRED_PARMS, 28);
      if (g) {
        const p = o.get(TCA_MIRRED_PARMS)![0];
        const m = MIRRED_ACTIONS.find(([, , v]) => v === buf.readInt32LE(p + 20));
        out.direction = m?.[0] ?? 'egress';
        out.action = m?.[1] ?? buf.readInt32LE(p + 20);
        out.ifindex = buf.readUInt32LE(p + 24);
        out.control = verdictName(g.action);
      }
      break;
    }
    case 'police': {
      const t = o.get(TCA_POLICE_TBF);
      if (t && t[1] >= 44) {
        const p = t[0];
        out.index = buf.readUInt32LE(p);
        const r = readRatespec(buf, p + 20);
        const peak = readRatespec(buf, p + 32);
        const rate64 = readU64(buf, o.get(TCA_POLICE_RATE64));
        const peak64 = readU64(buf, o.get(TCA_POLICE_PEAKRATE64));
        const rate = rate64 ?? r.rate;
        if (rate) {
          out.rate = rate;
          out.burst = transmitSize(rate, buf.readUInt32LE(p + 12));
        }
        const mtu = buf.readUInt32LE(p + 16);
        if (mtu) out.mtu = mtu;
        if (peak64 ?? peak.rate) out.peakrate = peak64 ?? peak.rate;
        const avrate = o.get(TCA_POLICE_AVRATE);
        if (avrate && readU32Attribute(buf, avrate[0], avrate[1]))
          out.avrate = readU32Attribute(buf, avrate[0], avrate[1]);
        if (r.mpu) out.mpu = r.mpu;
        if (r.overhead) out.overhead = r.overhead;
        if (rate) out.linklayer = r.linklayer;
        out.exceed = verdictName(buf.readInt32LE(p + 4));
        const result = o.get(TCA_POLICE_RESULT);
        out.conform = verdictName(result ? readS32Attribute(buf, result[0], result[1]) : 0);
        if (t[1] >= 52) {
          out.refcnt = buf.readInt32LE(p + 44);
          out.bindcnt = buf.readInt32LE(p + 48);
        }
      }
      break;
    }
    case 'skbedit': {
      const g = withGen(TCA_SKBEDIT_PARMS);
      const u32 = (t: number) => (o.has(t) ? buf.readUInt32LE(o.get(t)![0]) : undefined);
      const u16 = (t: number) => (o.has(t) ? buf.readUInt16LE(o.get(t)![0]) : undefined);
      if (u32(TCA_SKBEDIT_MARK) !== undefined) out.mark = u32(TCA_SKBEDIT_MARK);
      if (u32(TCA_SKBEDIT_MASK) !== undefined) out.mask = u32(TCA_SKBEDIT_MASK);
      if (u32(TCA_SKBEDIT_PRIORITY) !== undefined) out.priority = formatHandle(u32(TCA_SKBEDIT_PRIORITY)!);
      if (u16(TCA_SKBEDIT_QUEUE_MAPPING) !== undefined) out.queueMapping = u16(TCA_SKBEDIT_QUEUE_MAPPING);
      const pt = u16(TCA_SKBEDIT_PTYPE);
      if (pt !== undefined) out.ptype = PTYPES.find(([, v]) => v === pt)?.[0] ?? pt;
      if (g) out.control = verdictName(g.action);
      break;
    }
    case 'vlan': {
      const g = withGen(TCA_VLAN_PARMS, 24);
      if (g) {
        const op = buf.readInt32LE(o.get(TCA_VLAN_PARMS)![0] + 20);
        out.op = VLAN_OPS.find(([, v]) => v === op)?.[0] ?? op;
      }
      const id = o.get(TCA_VLAN_PUSH_VLAN_ID);
      if (id) out.id = readU16Attribute(buf, id[0], id[1]);
      const proto = o.get(TCA_VLAN_PUSH_VLAN_PROTOCOL);
      if (proto) out.protocol = protocolName(buf.readUInt16BE(proto[0]));
      const prio = o.get(TCA_VLAN_PUSH_VLAN_PRIORITY);
      if (prio) out.priority = readU8Attribute(buf, prio[0], prio[1]);
      if (g) out.control = verdictName(g.action);
      break;
    }
    case 'tunnel_key': {
      const g = withGen(TCA_TUNNEL_KEY_PARMS, 24);
      if (g)
        out.op = buf.readInt32LE(o.get(TCA_TUNNEL_KEY_PARMS)![0] + 20) === TCA_TUNNEL_KEY_ACT_SET ? 'set' : 'unset';
      for (const [key, type] of [
        ['src', TCA_TUNNEL_KEY_ENC_IPV4_SRC],
        ['src', TCA_TUNNEL_KEY_ENC_IPV6_SRC],
        ['dst', TCA_TUNNEL_KEY_ENC_IPV4_DST],
        ['dst', TCA_TUNNEL_KEY_ENC_IPV6_DST],
      ] as const) {
        const v = o.get(type);
        if (v) out[key] = formatIP(buf, v[0], v[1]);
      }
      const id = o.get(TCA_TUNNEL_KEY_ENC_KEY_ID);
      if (id) out.id = buf.readUInt32BE(id[0]);
      const port = o.get(TCA_TUNNEL_KEY_ENC_DST_PORT);
      if (port) out.dstPort = buf.readUInt16BE(port[0]);
      const tos = o.get(TCA_TUNNEL_KEY_ENC_TOS);
      if (tos) out.tos = readU8Attribute(buf, tos[0], tos[1]);
      const ttl = o.get(TCA_TUNNEL_KEY_ENC_TTL);
      if (ttl) out.ttl = readU8Attribute(buf, ttl[0], ttl[1]);
      const noCsum = o.get(TCA_TUNNEL_KEY_NO_CSUM);
      if (noCsum) out.checksum = readU8Attribute(buf, noCsum[0], noCsum[1]) === 0;
      if (o.has(TCA_TUNNEL_KEY_NO_FRAG)) out.noFrag = true;
      if (g) out.control = verdictName(g.action);
      break;
    }
    case 'csum': {
      const g = withGen(TCA_CSUM_PARMS, 24);
      if (g) {
        const flags = buf.readUInt32LE(o.get(TCA_CSUM_PARMS)![0] + 20);
        out.update = CSUM_FLAGS.filter(([, bit]) => flags & bit).map(([n]) => n);
        out.control = verdictName(g.action);
      }
      break;
    }
    case 'pedit': {
      const type = o.has(TCA_PEDIT_PARMS_EX) ? TCA_PEDIT_PARMS_EX : TCA_PEDIT_PARMS;
      const g = withGen(type, 24);
      if (g) {
        const p = o.get(type)!;
        const n = buf[p[0] + 20];
        const keys: PeditKey[] = [];
        for (let i = 0; i < n && p[0] + 24 + (i + 1) * 24 <= p[0] + p[1]; i++) {
          const k = p[0] + 24 + i * 24;
          const key: PeditKey = { offset: buf.readInt32LE(k + 8), value: buf.readUInt32BE(k + 4) };
          if (buf.readUInt32BE(k)) key.mask = buf.readUInt32BE(k);
          if (buf.readUInt32LE(k + 12)) key.at = buf.readUInt32LE(k + 12);
          if (buf.readUInt32LE(k + 16)) key.offmask = buf.readUInt32LE(k + 16);
          if (buf.readUInt32LE(k + 20)) key.shift = buf.readUInt32LE(k + 20);
          keys.push(key);
        }
        out.keys = keys;
        out.control = verdictName(g.action);
      }
      break;
    }
    default:
      if (optsAt) out.options = Buffer.from(buf.subarray(optsAt[0], optsAt[0] + optsAt[1]));
  }
  const gen = ['gact', 'mirred', 'skbedit', 'vlan', 'tunnel_key', 'csum', 'pedit'].includes(kind);
  if (gen) {
    const type = {
      gact: TCA_GACT_PARMS,
      mirred: TCA_MIRRED_PARMS,
      skbedit: TCA_SKBEDIT_PARMS,
      vlan: TCA_VLAN_PARMS,
      tunnel_key: TCA_TUNNEL_KEY_PARMS,
      csum: TCA_CSUM_PARMS,
      pedit: o.has(TCA_PEDIT_PARMS_EX) ? TCA_PEDIT_PARMS_EX : TCA_PEDIT_PARMS,
    }[kind]!;
    const p = o.get(type);
    if (p && p[1] >= 20) {
      const g = readGen(buf, p[0]);
      out.refcnt = g.refcnt;
      out.bindcnt = g.bindcnt;
    }
  }
  const idx = a.get(TCA_ACT_INDEX);
  if (idx && out.index === undefined) out.index = readU32Attribute(buf, idx[0], idx[1]);
  const stats = a.get(TCA_ACT_STATS);
  if (stats) out.stats = decodeStats(buf, stats[0], stats[0] + stats[1]);
  return out;
}

function readU64(buf: Buffer, at: [number, number] | undefined): number | undefined {
  if (!at || at[1] < 8) return undefined;
  return buf.readUInt32LE(at[0] + 4) * 2 ** 32 + readU32Attribute(buf, at[0], at[1]);
}

/** Decodes a filter's action list (nests by order). */
export function decodeActionList(buf: Buffer, start: number, end: number): (TcActionInfo | Record<string, unknown>)[] {
  const out: [number, TcActionInfo | Record<string, unknown>][] = [];
  forEachAttribute(buf, start, end, (type, _f, off, len) => out.push([type, decodeAction(buf, off, off + len)]));
  return out.sort((x, y) => x[0] - y[0]).map(([, a]) => a);
}
