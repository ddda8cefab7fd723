/**
 * Nexthop objects (RTM_*NEXTHOP): single nexthops (gateway, device,
 * blackhole, onlink, fdb) and groups of them (multipath with weights, or
 * resilient with buckets), which routes point at by id (`nhid`). Replacing
 * a group re-points every route that uses it in one request.
 *
 * The kernel ships no YNL spec for nexthops, so the attribute table below
 * is written by hand in the shape of the generated ones (lib/specs/), with
 * every number taken from the uapi constants (linux/nexthop.h).
 */
import type { NetlinkClient } from './engine/client';
import { dump, request, stream, type RequestOptions } from './engine/requests';
import { invalidType, invalidValue, outOfRange } from './errors';
import { ipArgument } from './inputs';
import type { LinkApi, LinkRef } from './link';
import { NLA_F_NESTED, Writer } from './netlink/attributes';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  HZ,
  NETLINK_ROUTE,
  NEXTHOP_GRP_TYPE_MPATH,
  NEXTHOP_GRP_TYPE_RES,
  NHA_BLACKHOLE,
  NHA_ENCAP,
  NHA_ENCAP_TYPE,
  NHA_FDB,
  NHA_GATEWAY,
  NHA_GROUP,
  NHA_GROUPS,
  NHA_GROUP_TYPE,
  NHA_ID,
  NHA_MASTER,
  NHA_OIF,
  NHA_RES_BUCKET,
  NHA_RES_BUCKET_IDLE_TIME,
  NHA_RES_BUCKET_INDEX,
  NHA_RES_BUCKET_NH_ID,
  NHA_RES_BUCKET_PAD,
  NHA_RES_GROUP,
  NHA_RES_GROUP_BUCKETS,
  NHA_RES_GROUP_IDLE_TIMER,
  NHA_RES_GROUP_PAD,
  NHA_RES_GROUP_UNBALANCED_TIME,
  NHA_RES_GROUP_UNBALANCED_TIMER,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  RTM_DELNEXTHOP,
  RTM_DELNEXTHOPBUCKET,
  RTM_GETNEXTHOP,
  RTM_GETNEXTHOPBUCKET,
  RTM_NEWNEXTHOP,
  RTM_NEWNEXTHOPBUCKET,
  RTNH_F_DEAD,
  RTNH_F_LINKDOWN,
  RTNH_F_OFFLOAD,
  RTNH_F_ONLINK,
  RTNH_F_PERVASIVE,
  RTNH_F_TRAP,
  RTNH_F_UNRESOLVED,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { FamilySchemas } from './netlink/schema';
import type { FamilySpecDef } from './netlink/spec-types';
import { registerDecoder } from './registry';
import { protocols, scopes } from './rt-names';

/** One member of a nexthop group. */
export interface NexthopGroupMember {
  /** The member nexthop's id. */
  id: number;
  /** 1-256 (kernels since 6.12 carry up to 65536, which decodes too). */
  weight: number;
}

/** The parameters of a resilient group (NHA_RES_GROUP). Times are in seconds. */
export interface NexthopResilientParams {
  /** How many hash buckets the group spreads flows over. */
  buckets: number;
  /** How long a bucket must be idle before it may move to another nexthop. */
  idleTimer: number;
  /** How long the group may stay unbalanced before busy buckets move too (0: never). */
  unbalancedTimer: number;
  /** How long the group has been unbalanced (reported, never set). */
  unbalancedTime?: number;
}

/**
 * A nexthop object as the kernel reports it, shaped like one entry of
 * `ip -j nexthop show` (with `dev` an interface index, like Route.dev).
 *
 * Exactly one of these describes what it is: `group` (a group), `blackhole`,
 * or `gateway` and/or `dev` (a single nexthop; `fdb` ones have no `dev`).
 */
export interface Nexthop {
  id: number;
  /** 4 or 6 for a single nexthop; absent for a group (the kernel's AF_UNSPEC). */
  family?: 4 | 6;
  /** 'link' (via a gateway), 'host' (device only), 'global' (blackhole, group), or a number. */
  scope: string | number;
  /** Who installed it: 'unspec', 'static', 'bgp', ... (iproute2's names) or a number. */
  protocol: string | number;
  /** RTNH_F_* as iproute2 names them: 'dead', 'onlink', 'pervasive', 'offload', 'trap', 'linkdown', 'unresolved'. */
  flags: string[];
  gateway?: string;
  /** Interface index of the nexthop's device. */
  dev?: number;
  blackhole?: true;
  /** The gateway is taken as directly reachable on `dev` (flags has 'onlink'). */
  onlink?: true;
  /** A nexthop (or group) for bridge FDB entries of VXLAN devices, not for routes. */
  fdb?: true;
  /** The members of a group, in the kernel's order. */
  group?: NexthopGroupMember[];
  /** 'mpath' (hash-threshold multipath) or 'resilient' (a number for types newer than this library); present exactly when `group` is. */
  groupType?: 'mpath' | 'resilient' | number;
  /** The parameters of a resilient group. */
  resilient?: NexthopResilientParams;
  /** Lightweight-tunnel encapsulation type (LWTUNNEL_ENCAP_*), when set; its data is not decoded. */
  encapType?: number;
}

/** A group member as an input: an id (weight 1) or { id, weight }. */
export type NexthopGroupMemberSpec = number | { id: number; weight?: number };

/**
 * What nexthop.add/replace take. Give one of: `group`; `blackhole`;
 * `dev` (with or without `gateway`); or `gateway` with `fdb`.
 */
export interface NexthopSpec {
  /** 1-4294967295; omitted in add(): the kernel picks one (add() returns it). Required by replace(). */
  id?: number;
  /** Defaults to the gateway's family, else 4. A gateway of the other family is a TypeError. */
  family?: 4 | 6;
  gateway?: string;
  dev?: LinkRef;
  blackhole?: boolean;
  /** Use the gateway even if no route to it exists on `dev`. */
  onlink?: boolean;
  /** For bridge FDB entries (VXLAN): a gateway without a device, or a group of such nexthops. */
  fdb?: boolean;
  /** Members of a group, each existing already. Weights 1-256. */
  group?: NexthopGroupMemberSpec[];
  /** Default 'mpath'; 'resilient' when `resilient` is given. */
  groupType?: 'mpath' | 'resilient';
  /**
   * Resilient-group parameters. A new group needs `buckets`, which replace()
   * cannot change; the kernel's defaults are a 120 s idle timer and no
   * unbalanced timer (0).
   */
  resilient?: Partial<Omit<NexthopResilientParams, 'unbalancedTime'>>;
  /** An iproute2 protocol name or 0-255; default 'unspec' (0), as `ip nexthop add` does. */
  protocol?: string | number;
}

/**
 * What nexthop.list() narrows to. The kernel filters by dev, master, groups
 * and family itself (with or without strict checking: nexthop dumps always
 * parse their filters); id, fdb and protocol are filtered as replies arrive.
 */
export interface NexthopFilter {
  id?: number;
  /** Single nexthops using this device. */
  dev?: LinkRef;
  /** Single nexthops whose device is enslaved to this master (bridge, VRF). */
  master?: LinkRef;
  /** true: groups only. */
  groups?: boolean;
  /** true: fdb nexthops and groups only. (The kernel parses this in a dump request but, as of 6.18, does not apply it.) */
  fdb?: boolean;
  /** Single nexthops of this family (groups have none, so they are left out). */
  family?: 4 | 6;
  protocol?: string | number;
}

/** One hash bucket of a resilient group, as `ip -j nexthop bucket show` reports it. */
export interface NexthopBucket {
  /** The group's id. */
  id: number;
  index: number;
  /** Seconds since traffic last hit the bucket. */
  idleTime: number;
  /** The member nexthop the bucket sends to. */
  nhid: number;
  flags: string[];
}

/** What nexthop.buckets() narrows to. */
export interface NexthopBucketFilter {
  /** The resilient group. */
  id?: number;
  /** Buckets whose nexthop uses this device. */
  dev?: LinkRef;
  master?: LinkRef;
  /** Buckets pointing at this member nexthop. */
  nhid?: number;
}

/**
 * The nexthop message format (struct nhmsg, struct nexthop_grp, NHA_*),
 * written by hand from linux/nexthop.h since the kernel has no YNL spec for it.
 */
export const rtNexthopSpec: FamilySpecDef = {
  name: 'rt-nexthop',
  protocol: 'netlink-raw',
  protonum: NETLINK_ROUTE,
  fixedHeader: 'nhmsg',
  enums: {
    'nexthop-grp-type': {
      name: 'nexthop-grp-type',
      type: 'enum',
      entries: [
        { name: 'mpath', value: NEXTHOP_GRP_TYPE_MPATH },
        { name: 'resilient', value: NEXTHOP_GRP_TYPE_RES },
      ],
    },
  },
  structs: {
    nhmsg: {
      name: 'nhmsg',
      members: [
        { name: 'nhFamily', type: 'u8' },
        { name: 'nhScope', type: 'u8' },
        { name: 'nhProtocol', type: 'u8' },
        { name: 'resvd', type: 'pad', len: 1 },
        { name: 'nhFlags', type: 'u32' },
      ],
    },
    'nexthop-grp': {
      name: 'nexthop-grp',
      members: [
        { name: 'id', type: 'u32' },
        // The weight minus one; since 6.12 weight-high carries bits 8-15 (was resvd1).
        { name: 'weight', type: 'u8' },
        { name: 'weightHigh', type: 'u8' },
        { name: 'resvd2', type: 'pad', len: 2 },
      ],
    },
  },
  attributeSets: {
    'nexthop-attrs': {
      name: 'nexthop-attrs',
      attributes: [
        { name: 'id', value: NHA_ID, type: 'u32' },
        // An array of struct nexthop_grp: decodeGroup() and buildNexthopMessage() walk it.
        { name: 'group', value: NHA_GROUP, type: 'binary' },
        { name: 'groupType', value: NHA_GROUP_TYPE, type: 'u16', enum: 'nexthop-grp-type' },
        { name: 'blackhole', value: NHA_BLACKHOLE, type: 'flag' },
        { name: 'oif', value: NHA_OIF, type: 'u32' },
        { name: 'gateway', value: NHA_GATEWAY, type: 'binary', displayHint: 'ipv4-or-v6' },
        { name: 'encapType', value: NHA_ENCAP_TYPE, type: 'u16' },
        { name: 'encap', value: NHA_ENCAP, type: 'binary' },
        { name: 'groups', value: NHA_GROUPS, type: 'flag' },
        { name: 'master', value: NHA_MASTER, type: 'u32' },
        { name: 'fdb', value: NHA_FDB, type: 'flag' },
        { name: 'resGroup', value: NHA_RES_GROUP, type: 'nest', nestedAttributes: 'res-group-attrs' },
        { name: 'resBucket', value: NHA_RES_BUCKET, type: 'nest', nestedAttributes: 'res-bucket-attrs' },
      ],
    },
    'res-group-attrs': {
      name: 'res-group-attrs',
      attributes: [
        { name: 'pad', value: NHA_RES_GROUP_PAD, type: 'pad' },
        { name: 'buckets', value: NHA_RES_GROUP_BUCKETS, type: 'u16' },
        // clock_t (USER_HZ ticks)
        { name: 'idleTimer', value: NHA_RES_GROUP_IDLE_TIMER, type: 'u32' },
        { name: 'unbalancedTimer', value: NHA_RES_GROUP_UNBALANCED_TIMER, type: 'u32' },
        { name: 'unbalancedTime', value: NHA_RES_GROUP_UNBALANCED_TIME, type: 'u64' },
      ],
    },
    'res-bucket-attrs': {
      name: 'res-bucket-attrs',
      attributes: [
        { name: 'pad', value: NHA_RES_BUCKET_PAD, type: 'pad' },
        { name: 'index', value: NHA_RES_BUCKET_INDEX, type: 'u16' },
        { name: 'idleTime', value: NHA_RES_BUCKET_IDLE_TIME, type: 'u64' },
        { name: 'nhId', value: NHA_RES_BUCKET_NH_ID, type: 'u32' },
      ],
    },
  },
  subMessages: {},
  operations: [
    { name: 'newnexthop', requestValue: RTM_NEWNEXTHOP, attributeSet: 'nexthop-attrs', fixedHeader: 'nhmsg' },
    { name: 'delnexthop', requestValue: RTM_DELNEXTHOP, attributeSet: 'nexthop-attrs', fixedHeader: 'nhmsg' },
    {
      name: 'getnexthop',
      requestValue: RTM_GETNEXTHOP,
      replyValue: RTM_NEWNEXTHOP,
      attributeSet: 'nexthop-attrs',
      fixedHeader: 'nhmsg',
    },
    {
      name: 'getnexthopbucket',
      requestValue: RTM_GETNEXTHOPBUCKET,
      replyValue: RTM_NEWNEXTHOPBUCKET,
      attributeSet: 'nexthop-attrs',
      fixedHeader: 'nhmsg',
    },
  ],
};

export const rtNexthopSchemas = new FamilySchemas(rtNexthopSpec);
const nexthopAttrs = () => rtNexthopSchemas.attributeSet('nexthop-attrs');
const resGroupAttrs = () => rtNexthopSchemas.attributeSet('res-group-attrs');
const nexthopGrp = () => rtNexthopSchemas.struct('nexthop-grp');
const NHMSG_LEN = 8;
const NEXTHOP_GRP_LEN = 8; // sizeof(struct nexthop_grp), for sizing buffers
const MAX_WEIGHT = 256;
const MAX_ID = 0xffffffff;
/** The largest time a u32 of clock_t ticks holds, in seconds. */
const MAX_TIMER = Math.floor(0xffffffff / HZ);

// iproute2's names for RTNH_F_* bits, in the order it prints them.
const FLAG_NAMES: [number, string][] = [
  [RTNH_F_DEAD, 'dead'],
  [RTNH_F_ONLINK, 'onlink'],
  [RTNH_F_PERVASIVE, 'pervasive'],
  [RTNH_F_OFFLOAD, 'offload'],
  [RTNH_F_TRAP, 'trap'],
  [RTNH_F_LINKDOWN, 'linkdown'],
  [RTNH_F_UNRESOLVED, 'unresolved'],
];

function flagNames(mask: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (mask & bit) out.push(name);
  return out;
}

function familyOf(afFamily: number): 4 | 6 | undefined {
  return afFamily === AF_INET ? 4 : afFamily === AF_INET6 ? 6 : undefined;
}

/** clock_t ticks to seconds. */
const seconds = (ticks: number) => ticks / HZ;

// Attributes a Nexthop shows; the rest (NHA_ENCAP, newer kernels' stats) are not decoded.
const NEXTHOP_SKIP = new Set([NHA_ENCAP]);

/** Decodes one RTM_NEWNEXTHOP/RTM_DELNEXTHOP message into a Nexthop. */
export function decodeNexthop(buf: Buffer, offset: number, length: number): Nexthop {
  checkMessage(buf, offset, length, NHMSG_LEN, 'nexthop');
  const body = offset + NLMSG_HDRLEN;
  const a = nexthopAttrs().decode(buf, body + NHMSG_LEN, offset + length, {}, NEXTHOP_SKIP);
  const nhFlags = buf.readUInt32LE(body + 4);
  const out: Nexthop = {
    id: (a.id as number | undefined) ?? 0,
    scope: scopes.name(buf[body + 1]),
    protocol: protocols.name(buf[body + 2]),
    flags: flagNames(nhFlags),
  };
  const family = familyOf(buf[body]);
  if (family !== undefined) out.family = family;
  if (typeof a.gateway === 'string') out.gateway = a.gateway;
  if (a.oif !== undefined) out.dev = a.oif as number;
  if (a.blackhole) out.blackhole = true;
  if (nhFlags & RTNH_F_ONLINK) out.onlink = true;
  if (a.fdb) out.fdb = true;
  if (Buffer.isBuffer(a.group)) {
    out.group = decodeGroup(a.group);
    // The kernel always sends the type with a group; a type newer than this code stays a number.
    out.groupType = (a.groupType as 'mpath' | 'resilient' | number | undefined) ?? 'mpath';
  }
  const res = a.resGroup as Record<string, number | undefined> | undefined;
  if (res) {
    out.resilient = {
      buckets: res.buckets ?? 0,
      idleTimer: seconds(res.idleTimer ?? 0),
      unbalancedTimer: seconds(res.unbalancedTimer ?? 0),
    };
    if (res.unbalancedTime !== undefined) out.resilient.unbalancedTime = seconds(res.unbalancedTime);
  }
  if (a.encapType !== undefined) out.encapType = a.encapType as number;
  return out;
}

/** NHA_GROUP's array of struct nexthop_grp to members. */
export function decodeGroup(data: Buffer): NexthopGroupMember[] {
  const grp = nexthopGrp();
  const members: NexthopGroupMember[] = [];
  for (let off = 0; off + grp.size <= data.length; off += grp.size) {
    const m = grp.decode(data, off, grp.size) as { id: number; weight: number; weightHigh: number };
    members.push({ id: m.id, weight: ((m.weightHigh << 8) | m.weight) + 1 });
  }
  return members;
}

/** Decodes one RTM_NEWNEXTHOPBUCKET/RTM_DELNEXTHOPBUCKET message. */
export function decodeNexthopBucket(buf: Buffer, offset: number, length: number): NexthopBucket {
  checkMessage(buf, offset, length, NHMSG_LEN, 'nexthop bucket');
  const body = offset + NLMSG_HDRLEN;
  const a = nexthopAttrs().decode(buf, body + NHMSG_LEN, offset + length);
  const bucket = (a.resBucket ?? {}) as Record<string, number | undefined>;
  return {
    id: (a.id as number | undefined) ?? 0,
    index: bucket.index ?? 0,
    idleTime: seconds(bucket.idleTime ?? 0),
    nhid: bucket.nhId ?? 0,
    flags: flagNames(buf.readUInt32LE(body + 4)),
  };
}

// ---- input validation --------------------------------------------------------------------

const SPEC_KEYS = new Set([
  'id',
  'family',
  'gateway',
  'dev',
  'blackhole',
  'onlink',
  'fdb',
  'group',
  'groupType',
  'resilient',
  'protocol',
]);
const RESILIENT_KEYS = new Set(['buckets', 'idleTimer', 'unbalancedTimer']);

function checkObject(v: unknown, argument: string): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidType(argument, 'an object', v);
}

function checkKeys(v: Record<string, unknown>, allowed: Set<string>, argument: string): void {
  for (const key of Object.keys(v)) {
    if (!allowed.has(key)) {
      throw invalidValue(`${argument}.${key}`, v[key], `is not an option (expected one of ${[...allowed].join(', ')})`);
    }
  }
}

function integer(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number') throw invalidType(argument, 'of type number', v);
  if (!Number.isInteger(v) || v < min || v > max) throw outOfRange(argument, `an integer >= ${min} and <= ${max}`, v);
  return v;
}

function boolean(v: unknown, argument: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalidType(argument, 'of type boolean', v);
  return v;
}

/** A nexthop id: 1-4294967295. */
export function nexthopId(v: unknown, argument: string): number {
  return integer(v, argument, 1, MAX_ID);
}

function timerTicks(v: unknown, argument: string): number {
  if (typeof v !== 'number') throw invalidType(argument, 'a number of seconds', v);
  if (!Number.isFinite(v) || v < 0 || v > MAX_TIMER) throw outOfRange(argument, `>= 0 and <= ${MAX_TIMER} seconds`, v);
  return Math.round(v * HZ);
}

/** A spec checked and reduced to what goes on the wire; `dev` still to resolve. */
interface CheckedSpec {
  id: number;
  family: number;
  protocol: number;
  flags: number;
  dev?: LinkRef;
  gateway?: Buffer;
  blackhole: boolean;
  fdb: boolean;
  group?: { id: number; weight: number }[];
  groupType?: number;
  resilient?: { buckets?: number; idleTimer?: number; unbalancedTimer?: number };
}

/** Checks a NexthopSpec; every mistake is a TypeError/RangeError naming the field. */
export function checkNexthopSpec(spec: unknown, argument = 'spec'): CheckedSpec {
  checkObject(spec, argument);
  checkKeys(spec, SPEC_KEYS, argument);
  const s = spec as NexthopSpec;
  const out: CheckedSpec = {
    id: s.id === undefined ? 0 : nexthopId(s.id, `${argument}.id`),
    family: AF_INET,
    protocol: s.protocol === undefined ? 0 : protocols.value(s.protocol, `${argument}.protocol`),
    flags: 0,
    blackhole: boolean(s.blackhole, `${argument}.blackhole`),
    fdb: boolean(s.fdb, `${argument}.fdb`),
  };
  const onlink = boolean(s.onlink, `${argument}.onlink`);
  if (s.family !== undefined && s.family !== 4 && s.family !== 6) {
    throw invalidValue(`${argument}.family`, s.family, 'must be 4 or 6');
  }
  const conflict = (a: string, b: string) =>
    invalidValue(`${argument}.${a}`, s[a as keyof NexthopSpec], `cannot be combined with ${b}`);

  if (s.group !== undefined) {
    for (const other of ['gateway', 'dev', 'blackhole', 'onlink', 'family'] as const) {
      if (s[other] !== undefined && s[other] !== false) throw conflict(other, 'group');
    }
    out.family = AF_UNSPEC;
    out.group = checkGroup(s.group, `${argument}.group`);
    if (s.groupType !== undefined && s.groupType !== 'mpath' && s.groupType !== 'resilient') {
      throw invalidValue(`${argument}.groupType`, s.groupType, "must be 'mpath' or 'resilient'");
    }
    if (s.resilient !== undefined) {
      if (s.groupType === 'mpath') throw conflict('resilient', "groupType 'mpath'");
      out.resilient = checkResilient(s.resilient, `${argument}.resilient`);
    }
    if (s.groupType === 'resilient' || s.resilient !== undefined) out.groupType = NEXTHOP_GRP_TYPE_RES;
    else if (s.groupType === 'mpath') out.groupType = NEXTHOP_GRP_TYPE_MPATH;
    return out;
  }
  for (const groupOnly of ['groupType', 'resilient'] as const) {
    if (s[groupOnly] !== undefined) throw invalidValue(`${argument}.${groupOnly}`, s[groupOnly], 'needs a group');
  }
  if (out.blackhole) {
    for (const other of ['gateway', 'dev', 'onlink', 'fdb'] as const) {
      if (s[other] !== undefined && s[other] !== false) throw conflict(other, 'blackhole');
    }
  }
  if (out.fdb && s.dev !== undefined) throw conflict('dev', 'fdb');
  if (s.gateway !== undefined) {
    const gw = ipArgument(s.gateway, undefined, `${argument}.gateway`);
    if (s.family !== undefined && gw.family !== s.family) {
      throw invalidValue(
        `${argument}.gateway`,
        s.gateway,
        `must be an IPv${s.family} address, like family ${s.family}`,
      );
    }
    out.gateway = gw.bytes;
    out.family = gw.family === 6 ? AF_INET6 : AF_INET;
  } else if (s.family === 6) {
    out.family = AF_INET6;
  }
  if (!out.blackhole && s.dev === undefined && s.gateway === undefined) {
    throw invalidValue(argument, spec, 'needs one of group, blackhole, dev or gateway');
  }
  if (s.dev !== undefined) {
    if (typeof s.dev !== 'string' && typeof s.dev !== 'number') {
      throw invalidType(`${argument}.dev`, 'an interface name or index', s.dev);
    }
    out.dev = s.dev;
  }
  if (onlink) out.flags |= RTNH_F_ONLINK;
  return out;
}

function checkGroup(group: unknown, argument: string): { id: number; weight: number }[] {
  if (!Array.isArray(group)) throw invalidType(argument, 'an array of nexthop ids or { id, weight }', group);
  if (group.length === 0) throw invalidValue(argument, group, 'must name at least one nexthop');
  const seen = new Set<number>();
  return group.map((m: unknown, i) => {
    const at = `${argument}[${i}]`;
    let id: number;
    let weight = 1;
    if (typeof m === 'number') id = nexthopId(m, at);
    else {
      checkObject(m, at);
      checkKeys(m, new Set(['id', 'weight']), at);
      id = nexthopId(m.id, `${at}.id`);
      if (m.weight !== undefined) weight = integer(m.weight, `${at}.weight`, 1, MAX_WEIGHT);
    }
    if (seen.has(id)) throw invalidValue(at, m, `repeats nexthop ${id}`);
    seen.add(id);
    return { id, weight };
  });
}

function checkResilient(v: unknown, argument: string): CheckedSpec['resilient'] {
  checkObject(v, argument);
  checkKeys(v, RESILIENT_KEYS, argument);
  const out: NonNullable<CheckedSpec['resilient']> = {};
  if (v.buckets !== undefined) out.buckets = integer(v.buckets, `${argument}.buckets`, 1, 0xffff);
  if (v.idleTimer !== undefined) out.idleTimer = timerTicks(v.idleTimer, `${argument}.idleTimer`);
  if (v.unbalancedTimer !== undefined) {
    out.unbalancedTimer = timerTicks(v.unbalancedTimer, `${argument}.unbalancedTimer`);
  }
  return out;
}

// ---- request builders ---------------------------------------------------------------------

function writeNhmsg(w: Writer, family: number, protocol: number, flags: number): void {
  w.u8(family);
  w.u8(0); // nh_scope: the kernel's to report
  w.u8(protocol);
  w.u8(0);
  w.u32(flags);
}

/**
 * Builds RTM_NEWNEXTHOP for a checked spec, `dev` resolved to its index.
 * Attributes go in the order iproute2 writes them.
 */
export function buildNexthopMessage(flags: number, spec: CheckedSpec, devIndex?: number): Buffer {
  const w = new Writer(64 + (spec.group?.length ?? 0) * NEXTHOP_GRP_LEN);
  const start = beginMessage(w, RTM_NEWNEXTHOP, flags);
  writeNhmsg(w, spec.family, spec.protocol, spec.flags);
  if (spec.id !== 0) w.attrU32(NHA_ID, spec.id);
  if (spec.group) {
    const at = w.begin(NHA_GROUP);
    const grp = nexthopGrp();
    for (const m of spec.group)
      grp.encode(w, { id: m.id, weight: (m.weight - 1) & 0xff, weightHigh: (m.weight - 1) >> 8 });
    w.end(at);
  }
  if (spec.resilient) {
    const at = w.begin(NHA_RES_GROUP | NLA_F_NESTED);
    resGroupAttrs().encode(w, spec.resilient);
    w.end(at);
  }
  if (spec.groupType !== undefined) w.attrU16(NHA_GROUP_TYPE, spec.groupType);
  if (spec.blackhole) w.attrFlag(NHA_BLACKHOLE);
  if (spec.gateway) w.attr(NHA_GATEWAY, spec.gateway);
  if (devIndex !== undefined) w.attrU32(NHA_OIF, devIndex);
  if (spec.fdb) w.attrFlag(NHA_FDB);
  finishMessage(w, start);
  return w.view();
}

/** RTM_DELNEXTHOP or a non-dump RTM_GETNEXTHOP for one id. */
export function buildNexthopIdMessage(type: number, flags: number, id: number): Buffer {
  const w = new Writer(32);
  const start = beginMessage(w, type, flags);
  writeNhmsg(w, AF_UNSPEC, 0, 0);
  w.attrU32(NHA_ID, id);
  finishMessage(w, start);
  return w.view();
}

/** A dump request: nexthops (RTM_GETNEXTHOP) or buckets (RTM_GETNEXTHOPBUCKET), with the kernel's filters. */
export function buildNexthopDump(
  type: number,
  filter: {
    family?: 4 | 6;
    dev?: number;
    master?: number;
    groups?: boolean;
    fdb?: boolean;
    id?: number;
    nhid?: number;
  },
): Buffer {
  const w = new Writer(64);
  const start = beginMessage(w, type, NLM_F_REQUEST | NLM_F_DUMP);
  writeNhmsg(w, filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : AF_UNSPEC, 0, 0);
  if (filter.id !== undefined) w.attrU32(NHA_ID, filter.id);
  if (filter.dev !== undefined) w.attrU32(NHA_OIF, filter.dev);
  if (filter.groups) w.attrFlag(NHA_GROUPS);
  if (filter.master !== undefined) w.attrU32(NHA_MASTER, filter.master);
  if (filter.fdb) w.attrFlag(NHA_FDB);
  if (filter.nhid !== undefined) {
    const at = w.begin(NHA_RES_BUCKET | NLA_F_NESTED);
    w.attrU32(NHA_RES_BUCKET_NH_ID, filter.nhid);
    w.end(at);
  }
  finishMessage(w, start);
  return w.view();
}

// ---- the API group ------------------------------------------------------------------------

export interface NexthopContext {
  route(): NetlinkClient;
  readonly link: LinkApi;
}

const decodeReply = (buf: Buffer, off: number, len: number, type: number): Nexthop | undefined =>
  type === RTM_NEWNEXTHOP ? decodeNexthop(buf, off, len) : undefined;

/**
 * The `nexthop` group: nexthop objects and groups, which routes use by id
 * (`nhid`). Replacing a group's members moves every route that points at
 * it at once.
 *
 * @example
 * await h.nexthop.add({ id: 1, gateway: '10.0.0.2', dev: 'eth0' })
 * await h.nexthop.add({ id: 2, gateway: '10.0.0.3', dev: 'eth0' })
 * await h.nexthop.add({ id: 100, group: [{ id: 1, weight: 3 }, 2] })
 * // ... routes with nhid 100 ...
 * await h.nexthop.replace({ id: 100, group: [2] })   // every route now goes via 10.0.0.3
 */
export class NexthopApi {
  constructor(private readonly ctx: () => NexthopContext) {}

  /**
   * Creates a nexthop or group and resolves it as the kernel reports it
   * (with the id the kernel picked, if none was given). An existing id
   * rejects with code 'EEXIST'; an unreachable gateway with 'EINVAL' and
   * the kernel's text ("Nexthop has invalid gateway").
   *
   * @example
   * const nh = await nl.nexthop.add({ gateway: '192.0.2.1', dev: 'eth0', protocol: 'static' })
   * console.log(nh.id)
   */
  async add(spec: NexthopSpec, req: RequestOptions = {}): Promise<Nexthop> {
    return this.write(spec, NLM_F_CREATE | NLM_F_EXCL, req);
  }

  /**
   * Creates the nexthop, or changes the one with this id in place: routes
   * using it (or a group it belongs to) follow. A group stays a group and a
   * single nexthop stays single (the kernel refuses otherwise).
   *
   * @example
   * await nl.nexthop.replace({ id: 100, group: [{ id: 3 }, { id: 4, weight: 2 }] })
   */
  async replace(spec: NexthopSpec, req: RequestOptions = {}): Promise<Nexthop> {
    checkObject(spec as unknown, 'spec');
    if (spec.id === undefined) throw invalidValue('spec.id', spec.id, 'is required to replace a nexthop');
    return this.write(spec, NLM_F_CREATE | NLM_F_REPLACE, req);
  }

  private async write(spec: NexthopSpec, flags: number, req: RequestOptions): Promise<Nexthop> {
    const checked = checkNexthopSpec(spec);
    const devIndex = checked.dev === undefined ? undefined : await this.ctx().link.indexOf(checked.dev);
    const message = buildNexthopMessage(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | flags, checked, devIndex);
    const echoed = await request(this.ctx().route(), message, decodeReply, { ...req, operation: 'RTM_NEWNEXTHOP' });
    const nh = echoed[echoed.length - 1];
    if (nh) return nh;
    // No echo (an older kernel): ask for it.
    if (checked.id === 0) throw new Error('RTM_NEWNEXTHOP: the kernel did not report the nexthop it created');
    return this.get(checked.id, req);
  }

  /**
   * Deletes a nexthop by id. Routes that use it go too; groups lose it as
   * a member. Missing: code 'ENOENT'.
   *
   * @example
   * await nl.nexthop.del(100)
   */
  async del(id: number | { id: number }, req: RequestOptions = {}): Promise<void> {
    const n = nexthopId(typeof id === 'object' && id !== null ? id.id : id, 'id');
    const message = buildNexthopIdMessage(RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_ACK, n);
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_DELNEXTHOP' });
  }

  /**
   * One nexthop by id, without a dump. Missing: code 'ENOENT'.
   *
   * @example
   * const g = await nl.nexthop.get(100)
   * console.log(g.group)
   */
  async get(id: number, req: RequestOptions = {}): Promise<Nexthop> {
    const message = buildNexthopIdMessage(RTM_GETNEXTHOP, NLM_F_REQUEST, nexthopId(id, 'id'));
    const [nh] = await request(this.ctx().route(), message, decodeReply, { ...req, operation: 'RTM_GETNEXTHOP' });
    if (!nh) throw new Error(`RTM_GETNEXTHOP: the kernel answered without nexthop ${id}`);
    return nh;
  }

  /**
   * Nexthops and groups, all or filtered (like `ip nexthop show dev eth0`,
   * `... groups`, `... fdb`).
   *
   * @example
   * const groups = await nl.nexthop.list({ groups: true })
   */
  async list(filter: NexthopFilter = {}, req: RequestOptions = {}): Promise<Nexthop[]> {
    const { message, accept } = await this.dumpRequest(filter);
    return dump(this.ctx().route(), message, (b, o, l) => keep(decodeNexthop(b, o, l), accept), {
      ...req,
      operation: 'RTM_GETNEXTHOP',
    });
  }

  /**
   * list() as an async iterable, decoded as datagrams arrive.
   *
   * @example
   * for await (const nh of h.nexthop.stream({ dev: 'eth0' })) console.log(nh.id, nh.gateway)
   */
  async *stream(filter: NexthopFilter = {}, req: RequestOptions = {}): AsyncIterable<Nexthop> {
    const { message, accept } = await this.dumpRequest(filter);
    yield* stream(this.ctx().route(), message, (b, o, l) => keep(decodeNexthop(b, o, l), accept), {
      ...req,
      operation: 'RTM_GETNEXTHOP',
    });
  }

  /**
   * Deletes the nexthops list(filter) returns, groups first (so members are
   * never removed from under a group one by one). Returns how many went.
   *
   * @example
   * await h.nexthop.flush({ dev: 'eth0' })
   */
  async flush(filter: NexthopFilter = {}, req: RequestOptions = {}): Promise<number> {
    const all = await this.list(filter, req);
    all.sort((a, b) => Number(b.group !== undefined) - Number(a.group !== undefined));
    let n = 0;
    for (const nh of all) {
      await this.del(nh.id, req).then(
        () => n++,
        (error: { code?: string }) => {
          // Gone with a device or a group deleted just before.
          if (error.code !== 'ENOENT') throw error;
        },
      );
    }
    return n;
  }

  /**
   * The hash buckets of resilient groups, and where each sends traffic
   * (`ip nexthop bucket show`).
   *
   * @example
   * const buckets = await h.nexthop.buckets({ id: 100 })
   * const share = buckets.filter((b) => b.nhid === 1).length / buckets.length
   */
  async buckets(filter: NexthopBucketFilter = {}, req: RequestOptions = {}): Promise<NexthopBucket[]> {
    checkObject(filter as unknown, 'filter');
    checkKeys(filter as Record<string, unknown>, new Set(['id', 'dev', 'master', 'nhid']), 'filter');
    const id = filter.id === undefined ? undefined : nexthopId(filter.id, 'filter.id');
    const nhid = filter.nhid === undefined ? undefined : nexthopId(filter.nhid, 'filter.nhid');
    const dev = filter.dev === undefined ? undefined : await this.ctx().link.indexOf(filter.dev);
    const master = filter.master === undefined ? undefined : await this.ctx().link.indexOf(filter.master);
    const message = buildNexthopDump(RTM_GETNEXTHOPBUCKET, { id, nhid, dev, master });
    return dump(
      this.ctx().route(),
      message,
      (b, o, l, type) => {
        if (type !== RTM_NEWNEXTHOPBUCKET) return undefined;
        const bucket = decodeNexthopBucket(b, o, l);
        return (id === undefined || bucket.id === id) && (nhid === undefined || bucket.nhid === nhid)
          ? bucket
          : undefined;
      },
      { ...req, operation: 'RTM_GETNEXTHOPBUCKET' },
    );
  }

  private async dumpRequest(filter: NexthopFilter): Promise<{ message: Buffer; accept: (nh: Nexthop) => boolean }> {
    checkObject(filter as unknown, 'filter');
    checkKeys(
      filter as Record<string, unknown>,
      new Set(['id', 'dev', 'master', 'groups', 'fdb', 'family', 'protocol']),
      'filter',
    );
    const id = filter.id === undefined ? undefined : nexthopId(filter.id, 'filter.id');
    if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6) {
      throw invalidValue('filter.family', filter.family, 'must be 4 or 6');
    }
    const groups = boolean(filter.groups, 'filter.groups');
    const fdb = boolean(filter.fdb, 'filter.fdb');
    const protocol =
      filter.protocol === undefined ? undefined : protocols.name(protocols.value(filter.protocol, 'filter.protocol'));
    const dev = filter.dev === undefined ? undefined : await this.ctx().link.indexOf(filter.dev);
    const master = filter.master === undefined ? undefined : await this.ctx().link.indexOf(filter.master);
    const message = buildNexthopDump(RTM_GETNEXTHOP, { family: filter.family, dev, master, groups, fdb });
    // The kernel's filters again, client-side, plus those it lacks (id,
    // protocol, and fdb, which it parses but ignores). master needs the
    // links to check, and the kernel always applies it.
    const accept = (nh: Nexthop) =>
      (id === undefined || nh.id === id) &&
      (dev === undefined || nh.dev === dev) &&
      (!groups || nh.group !== undefined) &&
      (!fdb || nh.fdb === true) &&
      (filter.family === undefined || nh.family === filter.family) &&
      (protocol === undefined || nh.protocol === protocol);
    return { message, accept };
  }
}

function keep(nh: Nexthop, accept: (nh: Nexthop) => boolean): Nexthop | undefined {
  return accept(nh) ? nh : undefined;
}

registerDecoder(NETLINK_ROUTE, RTM_NEWNEXTHOP, { object: 'nexthop', event: 'new', decode: decodeNexthop });
registerDecoder(NETLINK_ROUTE, RTM_DELNEXTHOP, { object: 'nexthop', event: 'del', decode: decodeNexthop });
registerDecoder(NETLINK_ROUTE, RTM_NEWNEXTHOPBUCKET, {
  object: 'nexthop-bucket',
  event: 'new',
  decode: decodeNexthopBucket,
});
registerDecoder(NETLINK_ROUTE, RTM_DELNEXTHOPBUCKET, {
  object: 'nexthop-bucket',
  event: 'del',
  decode: decodeNexthopBucket,
});
