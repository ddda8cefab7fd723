/**
 * Traffic control: qdiscs, classes, filters and standalone actions — the
 * `tc` group. Types, request builders, decoders and the API; the kinds'
 * options live in lib/tc/ (qdiscs.ts, filters.ts, actions.ts), units and
 * rate tables in lib/tc/units.ts.
 *
 * Units: rates in bytes per second (as `tc -j` prints them), sizes in
 * bytes, times in microseconds. Inputs also take tc strings: '10mbit',
 * '64kb', '10ms'. Handles are strings as tc prints them ('1:', '1:10',
 * 'root', 'ffff:fff1').
 */
import type { NetlinkClient } from './engine/client';
import { dump, request, stream, type RequestOptions } from './engine/requests';
import { native } from './native';
import { annotateSystemError, invalidType, invalidValue, outOfRange } from './errors';
import { Writer, attrU8, attrU32, forEachAttribute } from './netlink/attributes';
import {
  ETH_P_ALL,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  RTM_DELACTION,
  RTM_DELQDISC,
  RTM_DELTCLASS,
  RTM_DELTFILTER,
  RTM_GETACTION,
  RTM_GETQDISC,
  RTM_GETTCLASS,
  RTM_GETTFILTER,
  RTM_NEWACTION,
  RTM_NEWQDISC,
  RTM_NEWTCLASS,
  RTM_NEWTFILTER,
  TCA_ACT_INDEX,
  TCA_ACT_KIND,
  TCA_CHAIN,
  TCA_EGRESS_BLOCK,
  TCA_HW_OFFLOAD,
  TCA_INGRESS_BLOCK,
  TCA_KIND,
  TCA_OPTIONS,
  TCA_ROOT_TAB,
  TCA_STATS,
  TCA_STATS2,
  TCA_STATS_APP,
  TCA_XSTATS,
  TC_H_INGRESS,
  TC_H_ROOT,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { registerDecoder } from './registry';
import type { LinkApi, LinkRef } from './link';
import {
  ACTION_KINDS,
  checkAction,
  decodeAction,
  encodeAction,
  resolveActionLinks,
  type TcAction,
  type TcActionInfo,
} from './tc/actions';
import { FILTER_KINDS, formatU32Handle, parseU32Handle } from './tc/filters';
import { formatHandle, formatQdiscHandle, parseHandle, parseProtocol, protocolName, swap16 } from './tc/handles';
import { CLASS_KINDS, QDISC_KINDS, encodeKindOptions, type Options } from './tc/qdiscs';
import { decodeLegacyStats, decodeStats, type TcStats } from './tc/stats';

export type { TcAction, TcActionInfo, Verdict } from './tc/actions';
export type { TcStats } from './tc/stats';
export type { U32Match, U32Key, ClassicBpfInstruction } from './tc/filters';
export type { ServiceCurve } from './tc/qdiscs';

/** A qdisc, shaped like one entry of `tc -j -s qdisc show`. */
export interface Qdisc {
  /** Interface index; `dev` is its name where list() could resolve it. */
  ifindex: number;
  dev?: string;
  kind: string;
  /** 'major:' ('ffff:' for ingress/clsact, '0:' for the kernel's default ones). */
  handle: string;
  /** 'root', a class id like '1:10', or 'ffff:fff1' for ingress/clsact. */
  parent: string;
  /** Typed options of the kind (see README); the raw bytes for kinds the library does not type. */
  options: Record<string, unknown>;
  stats?: TcStats;
  /** Kind-specific statistics (TCA_XSTATS), decoded where the library knows the kind. */
  xstats?: Record<string, unknown>;
  refcnt?: number;
  chain?: number;
  ingressBlock?: number;
  egressBlock?: number;
  offloaded?: boolean;
}

/** A class of a classful qdisc (htb, hfsc, drr...). */
export interface TcClass {
  ifindex: number;
  dev?: string;
  kind: string;
  /** The class id, 'major:minor'. */
  classid: string;
  /** The parent class, or the qdisc ('1:') for top-level classes; 'root' as tc prints it. */
  parent: string;
  /** The qdisc attached below this class, if any ('10:'). */
  leaf?: string;
  options: Record<string, unknown>;
  stats?: TcStats;
  xstats?: Record<string, unknown>;
}

/** A filter (classifier instance). */
export interface TcFilter {
  ifindex: number;
  dev?: string;
  kind: string;
  /** The qdisc or class it is attached to; clsact hooks are 'ffff:fff2' (ingress) and 'ffff:fff3' (egress). */
  parent: string;
  /** 'ip', 'ipv6', 'all', ... as tc prints it, or the EtherType number. */
  protocol: string | number;
  /** The filter priority (tc's 'pref'). */
  priority: number;
  /** The filter handle: for u32 'htid:hash:node' as tc prints it, else a number. */
  handle: string | number;
  chain?: number;
  options: Record<string, unknown>;
  stats?: TcStats;
}

interface DeviceSpec {
  /** The interface, by name or index. */
  dev: LinkRef;
}

export interface QdiscSpec extends DeviceSpec {
  kind: string;
  /** 'root' (default), a class id ('1:10'), 'ingress'/'clsact' (ffff:fff1), or a number. */
  parent?: string | number;
  /** 'major:' like '1:'; the kernel picks one when omitted. */
  handle?: string | number;
  options?: Record<string, unknown>;
  ingressBlock?: number;
  egressBlock?: number;
}

export interface QdiscRef extends DeviceSpec {
  /** Default 'root' ('ingress'/'clsact' when kind is one of those). */
  parent?: string | number;
  handle?: string | number;
  kind?: string;
}

export interface ClassSpec extends DeviceSpec {
  kind: string;
  /** 'major:minor' like '1:10'. */
  classid: string | number;
  /** The parent class or qdisc, e.g. '1:' or '1:1'. */
  parent?: string | number;
  options?: Record<string, unknown>;
}

export interface ClassRef extends DeviceSpec {
  classid: string | number;
  parent?: string | number;
}

export interface FilterSpec extends DeviceSpec {
  kind: string;
  /** The qdisc or class ('1:', '1:10'), 'ingress'/'egress' (clsact hooks), or 'root' (default). */
  parent?: string | number;
  /** Default 'all'. */
  protocol?: string | number;
  /** tc's 'prio'/'pref'; the kernel picks one when omitted. */
  priority?: number;
  /** u32: 'htid:hash:node' ('800::5'); fw: the mark; others: a number. */
  handle?: string | number;
  chain?: number;
  options?: Record<string, unknown>;
}

export interface FilterRef extends DeviceSpec {
  parent?: string | number;
  protocol?: string | number;
  priority?: number;
  handle?: string | number;
  /** Needed with `handle` (the kernel asks the classifier to find it). */
  kind?: string;
  chain?: number;
}

export interface QdiscFilter {
  dev?: LinkRef;
  kind?: string;
}

export interface ClassFilter {
  dev?: LinkRef;
  /** Only the classes below this parent. */
  parent?: string | number;
}

export interface FilterFilter {
  dev?: LinkRef;
  /** One attachment point; by default the filters of every qdisc, class and clsact hook of the device. */
  parent?: string | number;
  kind?: string;
}

export interface TcContext {
  route(): NetlinkClient;
  readonly link: LinkApi;
}

const TCMSG_LEN = 20;
const TCAMSG_LEN = 4;
const FLAGS = {
  add: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
  replace: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
  change: NLM_F_REQUEST | NLM_F_ACK,
  del: NLM_F_REQUEST | NLM_F_ACK,
};
type Mode = keyof typeof FLAGS;

function objectArg<T>(spec: T, argument: string): T {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw invalidType(argument, 'an object', spec);
  return spec;
}

function kindArg(kind: unknown, table: Record<string, unknown>, argument: string, what: string): string {
  if (typeof kind !== 'string' || kind === '') throw invalidType(argument, 'a non-empty string', kind);
  if (!Object.prototype.hasOwnProperty.call(table, kind)) {
    throw invalidValue(argument, kind, `is not a ${what} kind the library knows (${Object.keys(table).join(', ')})`);
  }
  return kind;
}

function u32Arg(v: unknown, argument: string, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer', v);
  if (v < 0 || v > max) throw outOfRange(argument, `>= 0 and <= ${max}`, v);
  return v;
}

function header(w: Writer, ifindex: number, handle: number, parent: number, info: number): void {
  w.u8(0);
  w.u8(0);
  w.u16(0);
  w.s32(ifindex);
  w.u32(handle);
  w.u32(parent);
  w.u32(info);
}

function common(
  w: Writer,
  spec: { ingressBlock?: unknown; egressBlock?: unknown; chain?: unknown },
  argument: string,
): void {
  if (spec.ingressBlock !== undefined)
    w.attrU32(TCA_INGRESS_BLOCK, u32Arg(spec.ingressBlock, `${argument}.ingressBlock`));
  if (spec.egressBlock !== undefined) w.attrU32(TCA_EGRESS_BLOCK, u32Arg(spec.egressBlock, `${argument}.egressBlock`));
}

// ---- request builders (pure: resolved ifindex in, bytes out) ---------------------------

/** Builds RTM_NEWQDISC (add/replace/change) for a qdisc on `ifindex`. */
export function buildQdiscMessage(mode: Exclude<Mode, 'del'>, ifindex: number, spec: Omit<QdiscSpec, 'dev'>): Buffer {
  objectArg(spec, 'spec');
  const kind = kindArg(spec.kind, QDISC_KINDS, 'spec.kind', 'qdisc');
  const hook = kind === 'ingress' || kind === 'clsact';
  const parent =
    spec.parent === undefined
      ? hook
        ? TC_H_INGRESS
        : TC_H_ROOT
      : parseHandle(spec.parent, 'spec.parent', 'qdisc-parent');
  let handle = spec.handle === undefined ? 0 : parseHandle(spec.handle, 'spec.handle', 'qdisc-handle');
  if (hook && spec.handle === undefined) handle = 0xffff0000;
  const w = new Writer(256);
  const start = beginMessage(w, RTM_NEWQDISC, FLAGS[mode]);
  header(w, ifindex, handle, parent, 0);
  w.attrString(TCA_KIND, kind);
  encodeKindOptions(w, QDISC_KINDS[kind], kind, spec.options, { argument: 'spec.options', handle }, TCA_OPTIONS);
  common(w, spec, 'spec');
  finishMessage(w, start);
  return w.view();
}

/** Builds RTM_DELQDISC. */
export function buildQdiscDelMessage(ifindex: number, ref: Omit<QdiscRef, 'dev'>): Buffer {
  objectArg(ref, 'ref');
  const hook = ref.kind === 'ingress' || ref.kind === 'clsact';
  if (ref.kind !== undefined && typeof ref.kind !== 'string') throw invalidType('ref.kind', 'a string', ref.kind);
  const parent =
    ref.parent === undefined
      ? hook
        ? TC_H_INGRESS
        : TC_H_ROOT
      : parseHandle(ref.parent, 'ref.parent', 'qdisc-parent');
  const handle =
    ref.handle === undefined
      ? parent === TC_H_INGRESS
        ? 0xffff0000
        : 0
      : parseHandle(ref.handle, 'ref.handle', 'qdisc-handle');
  const w = new Writer(64);
  const start = beginMessage(w, RTM_DELQDISC, FLAGS.del);
  header(w, ifindex, handle, parent, 0);
  if (ref.kind !== undefined) w.attrString(TCA_KIND, ref.kind);
  finishMessage(w, start);
  return w.view();
}

/** Builds RTM_NEWTCLASS (add/replace/change). */
export function buildClassMessage(mode: Exclude<Mode, 'del'>, ifindex: number, spec: Omit<ClassSpec, 'dev'>): Buffer {
  objectArg(spec, 'spec');
  const kind = kindArg(spec.kind, CLASS_KINDS, 'spec.kind', 'class');
  if (spec.classid === undefined) throw invalidType('spec.classid', "a class id like '1:10'", spec.classid);
  const classid = parseHandle(spec.classid, 'spec.classid', 'classid');
  const parent = spec.parent === undefined ? 0 : parseHandle(spec.parent, 'spec.parent', 'class-parent');
  const w = new Writer(4096);
  const start = beginMessage(w, RTM_NEWTCLASS, FLAGS[mode]);
  header(w, ifindex, classid, parent, 0);
  w.attrString(TCA_KIND, kind);
  encodeKindOptions(
    w,
    CLASS_KINDS[kind],
    kind,
    spec.options,
    { argument: 'spec.options', handle: classid },
    TCA_OPTIONS,
  );
  finishMessage(w, start);
  return w.view();
}

/** Builds RTM_DELTCLASS. */
export function buildClassDelMessage(ifindex: number, ref: Omit<ClassRef, 'dev'>): Buffer {
  objectArg(ref, 'ref');
  const classid = parseHandle(ref.classid, 'ref.classid', 'classid');
  const parent = ref.parent === undefined ? 0 : parseHandle(ref.parent, 'ref.parent', 'class-parent');
  const w = new Writer(64);
  const start = beginMessage(w, RTM_DELTCLASS, FLAGS.del);
  header(w, ifindex, classid, parent, 0);
  finishMessage(w, start);
  return w.view();
}

function filterHandle(kind: string | undefined, v: unknown, argument: string): number {
  if (v === undefined) return 0;
  if (kind === 'u32') return parseU32Handle(v, argument);
  return u32Arg(v, argument);
}

function filterInfo(priority: unknown, protocol: unknown, argument: string): { info: number; proto: number } {
  const prio = priority === undefined ? 0 : u32Arg(priority, `${argument}.priority`, 0xffff);
  const proto = protocol === undefined ? ETH_P_ALL : parseProtocol(protocol, `${argument}.protocol`);
  return { info: ((prio << 16) | swap16(proto)) >>> 0, proto };
}

/**
 * Builds RTM_NEWTFILTER (add/replace/change). mirred actions must carry
 * `ifindex` (the API resolves `dev` first).
 */
export function buildFilterMessage(mode: Exclude<Mode, 'del'>, ifindex: number, spec: Omit<FilterSpec, 'dev'>): Buffer {
  objectArg(spec, 'spec');
  const kind = kindArg(spec.kind, FILTER_KINDS, 'spec.kind', 'filter');
  const parent = spec.parent === undefined ? TC_H_ROOT : parseHandle(spec.parent, 'spec.parent', 'filter-parent');
  const { info, proto } = filterInfo(spec.priority, spec.protocol, 'spec');
  const handle = filterHandle(kind, spec.handle, 'spec.handle');
  const codec = FILTER_KINDS[kind];
  const o = (spec.options ?? {}) as Options;
  objectArg(o, 'spec.options');
  for (const k of Object.keys(o))
    if (!codec.keys.includes(k)) throw invalidValue(`spec.options.${k}`, o[k], `is not an option of ${kind}`);
  const w = new Writer(512);
  const start = beginMessage(w, RTM_NEWTFILTER, FLAGS[mode]);
  header(w, ifindex, handle, parent, info);
  w.attrString(TCA_KIND, kind);
  if (spec.chain !== undefined) w.attrU32(TCA_CHAIN, u32Arg(spec.chain, 'spec.chain'));
  const at = w.begin(TCA_OPTIONS);
  codec.encode(w, o, { argument: 'spec.options', protocol: proto });
  w.end(at);
  finishMessage(w, start);
  return w.view();
}

/** Builds RTM_DELTFILTER: by priority (and protocol), or one filter by handle (kind needed). */
export function buildFilterDelMessage(ifindex: number, ref: Omit<FilterRef, 'dev'>): Buffer {
  objectArg(ref, 'ref');
  const parent = ref.parent === undefined ? TC_H_ROOT : parseHandle(ref.parent, 'ref.parent', 'filter-parent');
  const protocol = ref.protocol === undefined && ref.priority === undefined ? undefined : ref.protocol;
  const { info } = filterInfo(ref.priority, protocol, 'ref');
  const infoOut = ref.protocol === undefined && ref.priority === undefined ? 0 : info;
  if (ref.handle !== undefined && ref.kind === undefined)
    throw invalidType('ref.kind', 'the filter kind (needed with handle)', ref.kind);
  if (ref.kind !== undefined) kindArg(ref.kind, FILTER_KINDS, 'ref.kind', 'filter');
  const handle = filterHandle(ref.kind, ref.handle, 'ref.handle');
  const w = new Writer(64);
  const start = beginMessage(w, RTM_DELTFILTER, FLAGS.del);
  header(w, ifindex, handle, parent, infoOut);
  if (ref.kind !== undefined) w.attrString(TCA_KIND, ref.kind);
  if (ref.chain !== undefined) w.attrU32(TCA_CHAIN, u32Arg(ref.chain, 'ref.chain'));
  finishMessage(w, start);
  return w.view();
}

/** Builds RTM_NEWACTION for one standalone action (mirred needs `ifindex`). */
export function buildActionMessage(mode: 'add' | 'replace', action: TcAction): Buffer {
  checkAction(action, 'action');
  const w = new Writer(2048);
  const start = beginMessage(w, RTM_NEWACTION, FLAGS[mode]);
  w.u32(0); // tcamsg: family and padding
  const tab = w.begin(TCA_ROOT_TAB);
  encodeAction(w, action, 1, 'action');
  w.end(tab);
  finishMessage(w, start);
  return w.view();
}

/** Builds RTM_DELACTION / RTM_GETACTION for one action by kind and index, or a dump of a kind. */
export function buildActionRefMessage(type: number, flags: number, kind: unknown, index?: unknown): Buffer {
  if (typeof kind !== 'string' || !ACTION_KINDS.includes(kind)) {
    throw invalidValue('kind', kind, `must be one of ${ACTION_KINDS.join(', ')}`);
  }
  const w = new Writer(64);
  const start = beginMessage(w, type, flags);
  w.u32(0);
  const tab = w.begin(TCA_ROOT_TAB);
  const one = w.begin(1);
  w.attrString(TCA_ACT_KIND, kind);
  if (index !== undefined) w.attrU32(TCA_ACT_INDEX, u32Arg(index, 'index'));
  w.end(one);
  w.end(tab);
  finishMessage(w, start);
  return w.view();
}

function dumpMessage(type: number, ifindex: number, parent = 0): Buffer {
  const w = new Writer(40);
  const start = beginMessage(w, type, NLM_F_REQUEST | NLM_F_DUMP);
  header(w, ifindex, 0, parent, 0);
  finishMessage(w, start);
  return w.view();
}

// ---- decoders --------------------------------------------------------------------------

interface TcCommon {
  ifindex: number;
  handle: number;
  parent: number;
  info: number;
  kind: string;
  options: Record<string, unknown>;
  stats?: TcStats;
  xstats?: Record<string, unknown>;
  chain?: number;
  ingressBlock?: number;
  egressBlock?: number;
  offloaded?: boolean;
}

type OptionDecoder = (buf: Buffer, start: number, end: number, handle: number) => Record<string, unknown>;

function decodeCommon(
  buf: Buffer,
  offset: number,
  length: number,
  options: (kind: string) => OptionDecoder | undefined,
): TcCommon {
  checkMessage(buf, offset, length, TCMSG_LEN, 'tc');
  const body = offset + NLMSG_HDRLEN;
  const out: TcCommon = {
    ifindex: buf.readInt32LE(body + 4),
    handle: buf.readUInt32LE(body + 8),
    parent: buf.readUInt32LE(body + 12),
    info: buf.readUInt32LE(body + 16),
    kind: '',
    options: {},
  };
  let optionsAt: [number, number] | undefined;
  let xstatsAt: [number, number] | undefined;
  let legacy: [number, number] | undefined;
  forEachAttribute(buf, body + TCMSG_LEN, offset + length, (type, _f, off, len) => {
    switch (type) {
      case TCA_KIND:
        out.kind = buf.toString('utf8', off, off + len).replace(/\0.*$/s, '');
        break;
      case TCA_OPTIONS:
        optionsAt = [off, len];
        break;
      case TCA_STATS2:
        out.stats = decodeStats(buf, off, off + len);
        forEachAttribute(buf, off, off + len, (t, _g, o2, l2) => {
          if (t === TCA_STATS_APP) xstatsAt = [o2, l2];
        });
        break;
      case TCA_STATS:
        legacy = [off, len];
        break;
      case TCA_XSTATS:
        xstatsAt ??= [off, len];
        break;
      case TCA_CHAIN:
        out.chain = attrU32(buf, off, len);
        break;
      case TCA_INGRESS_BLOCK:
        out.ingressBlock = attrU32(buf, off, len);
        break;
      case TCA_EGRESS_BLOCK:
        out.egressBlock = attrU32(buf, off, len);
        break;
      case TCA_HW_OFFLOAD:
        out.offloaded = attrU8(buf, off, len) !== 0;
        break;
    }
  });
  if (!out.stats && legacy) out.stats = decodeLegacyStats(buf, legacy[0], legacy[1]);
  if (optionsAt) {
    const decoder = options(out.kind);
    const [off, len] = optionsAt;
    out.options = decoder ? decoder(buf, off, off + len, out.handle) : { raw: buf.toString('hex', off, off + len) };
  }
  if (xstatsAt) {
    const x = decodeXstats(out.kind, buf, xstatsAt[0], xstatsAt[1]);
    if (x) out.xstats = x;
  }
  return out;
}

/** Kind-specific statistics the library knows; others stay hex. */
function decodeXstats(kind: string, buf: Buffer, off: number, len: number): Record<string, unknown> | undefined {
  if (len === 0) return undefined;
  if (kind === 'htb' && len >= 20) {
    return {
      lends: buf.readUInt32LE(off),
      borrows: buf.readUInt32LE(off + 4),
      giants: buf.readUInt32LE(off + 8),
      tokens: buf.readInt32LE(off + 12),
      ctokens: buf.readInt32LE(off + 16),
    };
  }
  return { raw: buf.toString('hex', off, off + len) };
}

const qdiscOptions = (kind: string): OptionDecoder | undefined => {
  const codec = QDISC_KINDS[kind];
  return codec ? (b, s, e, handle) => codec.decode(b, s, e, { handle }) : undefined;
};
const classOptions = (kind: string): OptionDecoder | undefined => {
  const codec = CLASS_KINDS[kind];
  return codec ? (b, s, e, handle) => codec.decode(b, s, e, { handle }) : undefined;
};
const filterOptions = (kind: string): OptionDecoder | undefined => {
  const codec = FILTER_KINDS[kind];
  return codec ? (b, s, e) => codec.decode(b, s, e) : undefined;
};

function withExtras<T extends object>(out: T, c: TcCommon): T {
  const o = out as Record<string, unknown>;
  if (c.stats) o.stats = c.stats;
  if (c.xstats) o.xstats = c.xstats;
  if (c.chain !== undefined) o.chain = c.chain;
  if (c.ingressBlock !== undefined) o.ingressBlock = c.ingressBlock;
  if (c.egressBlock !== undefined) o.egressBlock = c.egressBlock;
  if (c.offloaded !== undefined) o.offloaded = c.offloaded;
  return out;
}

/** Decodes one RTM_NEWQDISC/RTM_DELQDISC message. */
export function decodeQdisc(buf: Buffer, offset: number, length: number): Qdisc {
  const c = decodeCommon(buf, offset, length, qdiscOptions);
  const q: Qdisc = {
    ifindex: c.ifindex,
    kind: c.kind,
    handle: formatQdiscHandle(c.handle),
    parent: formatHandle(c.parent),
    options: c.options,
  };
  if (c.info) q.refcnt = c.info;
  return withExtras(q, c);
}

/** Decodes one RTM_NEWTCLASS/RTM_DELTCLASS message. */
export function decodeClass(buf: Buffer, offset: number, length: number): TcClass {
  const c = decodeCommon(buf, offset, length, classOptions);
  const out: TcClass = {
    ifindex: c.ifindex,
    kind: c.kind,
    classid: formatHandle(c.handle),
    parent: formatHandle(c.parent),
    options: c.options,
  };
  if (c.info) out.leaf = formatQdiscHandle(c.info);
  return withExtras(out, c);
}

/** Decodes one RTM_NEWTFILTER/RTM_DELTFILTER message. */
export function decodeFilter(buf: Buffer, offset: number, length: number): TcFilter {
  const c = decodeCommon(buf, offset, length, filterOptions);
  const f: TcFilter = {
    ifindex: c.ifindex,
    kind: c.kind,
    parent: formatHandle(c.parent),
    protocol: protocolName(swap16(c.info & 0xffff)),
    priority: c.info >>> 16,
    handle: c.kind === 'u32' ? formatU32Handle(c.handle) : c.handle,
    options: c.options,
  };
  return withExtras(f, c);
}

/** Decodes an RTM_NEWACTION/RTM_DELACTION message: the actions of its TCA_ROOT_TAB. */
export function decodeActions(buf: Buffer, offset: number, length: number): TcActionInfo[] {
  checkMessage(buf, offset, length, TCAMSG_LEN, 'tc action');
  const out: [number, TcActionInfo][] = [];
  forEachAttribute(buf, offset + NLMSG_HDRLEN + TCAMSG_LEN, offset + length, (type, _f, off, len) => {
    if (type !== TCA_ROOT_TAB) return;
    forEachAttribute(buf, off, off + len, (order, _g, o2, l2) =>
      out.push([order, decodeAction(buf, o2, o2 + l2) as TcActionInfo]),
    );
  });
  return out.sort((a, b) => a[0] - b[0]).map(([, a]) => a);
}

// ---- the API ----------------------------------------------------------------------------

async function linkNames(ctx: TcContext): Promise<Map<number, string>> {
  const links = await ctx.link.list();
  return new Map(links.map((l) => [l.index, l.name]));
}

function nameActions(options: Record<string, unknown>, names: Map<number, string>): void {
  const actions = options.actions;
  if (!Array.isArray(actions)) return;
  for (const a of actions as Record<string, unknown>[]) {
    if (a.kind === 'mirred' && typeof a.ifindex === 'number' && names.has(a.ifindex)) a.dev = names.get(a.ifindex);
  }
}

function named<T extends { ifindex: number; dev?: string; options: Record<string, unknown> }>(
  o: T,
  names: Map<number, string>,
): T {
  const name = names.get(o.ifindex);
  if (name !== undefined) o.dev = name;
  nameActions(o.options, names);
  return o;
}

/**
 * Qdiscs: `h.tc.qdisc`.
 *
 * @example
 * await h.tc.qdisc.add({ dev: 'eth0', parent: 'root', handle: '1:', kind: 'htb', options: { defaultClass: '1:10' } })
 * const qdiscs = await h.tc.qdisc.list({ dev: 'eth0' })
 */
export class TcQdiscApi {
  constructor(private readonly ctx: () => TcContext) {}

  private async send(mode: Exclude<Mode, 'del'>, spec: QdiscSpec, req: RequestOptions): Promise<void> {
    objectArg(spec, 'spec');
    buildQdiscMessage(mode, 0, spec); // validate everything before the link lookup
    const ifindex = await this.ctx().link.indexOf(spec.dev);
    await request(this.ctx().route(), buildQdiscMessage(mode, ifindex, spec), null, {
      ...req,
      operation: 'RTM_NEWQDISC',
    });
  }

  /**
   * Adds a qdisc. One already there: 'EEXIST'.
   *
   * @example
   * await nl.tc.qdisc.add({ dev: 'eth0', kind: 'tbf', options: { rate: '10mbit', burst: '32kb', latency: '50ms' } })
   */
  add(spec: QdiscSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('add', spec, req);
  }

  /**
   * Adds the qdisc or replaces the one at `parent` (`tc qdisc replace`).
   *
   * @example
   * await nl.tc.qdisc.replace({ dev: 'eth0', kind: 'pfifo', options: { limit: 100 } })
   */
  replace(spec: QdiscSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('replace', spec, req);
  }

  /**
   * Changes the options of an existing qdisc (`tc qdisc change`).
   *
   * @example
   * await nl.tc.qdisc.change({ dev: 'eth0', handle: '1:', kind: 'htb', options: { defaultClass: '1:20' } })
   */
  change(spec: QdiscSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('change', spec, req);
  }

  /**
   * Deletes a qdisc (the root one by default; `{ kind: 'clsact' }` for clsact).
   *
   * @example
   * await nl.tc.qdisc.del({ dev: 'eth0', parent: 'root' })
   */
  async del(ref: QdiscRef, req: RequestOptions = {}): Promise<void> {
    objectArg(ref, 'ref');
    buildQdiscDelMessage(0, ref);
    const ifindex = await this.ctx().link.indexOf(ref.dev);
    await request(this.ctx().route(), buildQdiscDelMessage(ifindex, ref), null, { ...req, operation: 'RTM_DELQDISC' });
  }

  /**
   * Qdiscs of every device or of one, optionally of one kind.
   *
   * @example
   * for (const q of await nl.tc.qdisc.list({ dev: 'eth0' })) console.log(q.kind, q.handle, q.stats?.bytes)
   */
  async list(filter: QdiscFilter = {}, req: RequestOptions = {}): Promise<Qdisc[]> {
    const out: Qdisc[] = [];
    for await (const q of this.stream(filter, req)) out.push(q);
    return out;
  }

  /**
   * list() as an async iterable.
   *
   * @example
   * for await (const q of h.tc.qdisc.stream()) console.log(q.dev, q.kind)
   */
  async *stream(filter: QdiscFilter = {}, req: RequestOptions = {}): AsyncIterable<Qdisc> {
    objectArg(filter, 'filter');
    if (filter.kind !== undefined && typeof filter.kind !== 'string')
      throw invalidType('filter.kind', 'a string', filter.kind);
    const ifindex = filter.dev === undefined ? 0 : await this.ctx().link.indexOf(filter.dev);
    const names = await linkNames(this.ctx());
    const keep = (q: Qdisc) =>
      (ifindex === 0 || q.ifindex === ifindex) && (filter.kind === undefined || q.kind === filter.kind);
    yield* stream(
      this.ctx().route(),
      dumpMessage(RTM_GETQDISC, ifindex),
      (b, o, l) => {
        const q = decodeQdisc(b, o, l);
        return keep(q) ? named(q, names) : undefined;
      },
      { ...req, operation: 'RTM_GETQDISC' },
    );
  }
}

/**
 * Classes: `h.tc.class`.
 *
 * @example
 * await h.tc.class.add({ dev: 'eth0', parent: '1:', classid: '1:10', kind: 'htb', options: { rate: '10mbit', ceil: '20mbit' } })
 */
export class TcClassApi {
  constructor(private readonly ctx: () => TcContext) {}

  private async send(mode: Exclude<Mode, 'del'>, spec: ClassSpec, req: RequestOptions): Promise<void> {
    objectArg(spec, 'spec');
    buildClassMessage(mode, 0, spec);
    const ifindex = await this.ctx().link.indexOf(spec.dev);
    await request(this.ctx().route(), buildClassMessage(mode, ifindex, spec), null, {
      ...req,
      operation: 'RTM_NEWTCLASS',
    });
  }

  /**
   * Adds a class.
   *
   * @example
   * await nl.tc.class.add({ dev: 'eth0', parent: '1:', classid: '1:10', kind: 'htb', options: { rate: '10mbit' } })
   */
  add(spec: ClassSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('add', spec, req);
  }

  /**
   * Adds or replaces a class.
   *
   * @example
   * await nl.tc.class.replace({ dev: 'eth0', parent: '1:', classid: '1:10', kind: 'htb', options: { rate: '5mbit' } })
   */
  replace(spec: ClassSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('replace', spec, req);
  }

  /**
   * Changes an existing class.
   *
   * @example
   * await nl.tc.class.change({ dev: 'eth0', parent: '1:', classid: '1:10', kind: 'htb', options: { rate: '5mbit' } })
   */
  change(spec: ClassSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('change', spec, req);
  }

  /**
   * Deletes a class.
   *
   * @example
   * await nl.tc.class.del({ dev: 'eth0', classid: '1:10' })
   */
  async del(ref: ClassRef, req: RequestOptions = {}): Promise<void> {
    objectArg(ref, 'ref');
    buildClassDelMessage(0, ref);
    const ifindex = await this.ctx().link.indexOf(ref.dev);
    await request(this.ctx().route(), buildClassDelMessage(ifindex, ref), null, { ...req, operation: 'RTM_DELTCLASS' });
  }

  /**
   * Classes of one device (or of every device), optionally below one parent.
   *
   * @example
   * const classes = await nl.tc.class.list({ dev: 'eth0' })
   */
  async list(filter: ClassFilter = {}, req: RequestOptions = {}): Promise<TcClass[]> {
    const out: TcClass[] = [];
    for await (const c of this.stream(filter, req)) out.push(c);
    return out;
  }

  /**
   * list() as an async iterable.
   *
   * @example
   * for await (const c of h.tc.class.stream({ dev: 'eth0' })) console.log(c.classid, c.options.rate)
   */
  async *stream(filter: ClassFilter = {}, req: RequestOptions = {}): AsyncIterable<TcClass> {
    objectArg(filter, 'filter');
    const parent =
      filter.parent === undefined ? undefined : parseHandle(filter.parent, 'filter.parent', 'class-parent');
    const names = await linkNames(this.ctx());
    const devices = filter.dev === undefined ? [...names.keys()] : [await this.ctx().link.indexOf(filter.dev)];
    for (const ifindex of devices) {
      // The kernel dumps classes one device at a time.
      yield* stream(
        this.ctx().route(),
        dumpMessage(RTM_GETTCLASS, ifindex),
        (b, o, l) => {
          const c = decodeClass(b, o, l);
          if (c.ifindex !== ifindex || (parent !== undefined && c.parent !== formatHandle(parent))) return undefined;
          return named(c, names);
        },
        { ...req, operation: 'RTM_GETTCLASS' },
      );
    }
  }
}

/**
 * Filters: `h.tc.filter`.
 *
 * @example
 * await h.tc.filter.add({ dev: 'eth0', parent: '1:', protocol: 'ip', priority: 1, kind: 'u32',
 *                         options: { match: [{ ip: { dst: '10.0.0.0/24' } }], classid: '1:10' } })
 */
/** An fd for a bpffs pin (`tc ... bpf object-pinned PATH`); ENOENT when nothing is pinned there. */
function openPinned(path: string): number {
  try {
    return native.bpfObjGet(path);
  } catch (error) {
    throw annotateSystemError(error, `bpf program pinned at ${path}`, path);
  }
}

/** The filter options with the pin replaced by its fd, named by the pin's file name as tc names it. */
function pinnedOptions(options: Record<string, unknown>, fd: number, path: string): Record<string, unknown> {
  const { pinned: _pinned, ...rest } = options;
  void _pinned;
  return { ...rest, fd, name: (rest.name as string | undefined) ?? path.split('/').pop() };
}

export class TcFilterApi {
  constructor(private readonly ctx: () => TcContext) {}

  private async send(mode: Exclude<Mode, 'del'>, spec: FilterSpec, req: RequestOptions): Promise<void> {
    objectArg(spec, 'spec');
    const options = spec.options === undefined ? undefined : objectArg(spec.options, 'spec.options');
    // Validate with a placeholder index for mirred targets, then resolve them.
    const placeholder = options?.actions
      ? { ...options, actions: await resolveActionLinks(options.actions, 'spec.options.actions', async () => 1) }
      : options;
    buildFilterMessage(mode, 0, { ...spec, options: placeholder });
    const link = this.ctx().link;
    const resolved = options?.actions
      ? {
          ...options,
          actions: await resolveActionLinks(options.actions, 'spec.options.actions', (r) => link.indexOf(r)),
        }
      : options;
    const ifindex = await link.indexOf(spec.dev);
    // A pinned eBPF program: an fd for it, held until the kernel has answered.
    const pinned = spec.kind === 'bpf' ? (resolved?.pinned as string | undefined) : undefined;
    const fd = pinned === undefined ? undefined : openPinned(pinned);
    try {
      const options = fd === undefined ? resolved : pinnedOptions(resolved!, fd, pinned!);
      const message = buildFilterMessage(mode, ifindex, { ...spec, options });
      await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_NEWTFILTER' });
    } finally {
      if (fd !== undefined) native.closeFd(fd);
    }
  }

  /**
   * Adds a filter.
   *
   * @example
   * await nl.tc.filter.add({ dev: 'eth0', parent: 'ingress', kind: 'matchall', options: { actions: [{ kind: 'gact', action: 'drop' }] } })
   */
  add(spec: FilterSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('add', spec, req);
  }

  /**
   * Adds or replaces a filter (needs priority and handle to replace one).
   *
   * @example
   * await nl.tc.filter.replace({ dev: 'eth0', parent: '1:', priority: 1, handle: '800::800', kind: 'u32', options: { ... } })
   */
  replace(spec: FilterSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('replace', spec, req);
  }

  /**
   * Changes an existing filter.
   *
   * @example
   * await nl.tc.filter.change({ dev: 'eth0', parent: '1:', priority: 1, handle: '800::800', kind: 'u32', options: { ... } })
   */
  change(spec: FilterSpec, req: RequestOptions = {}): Promise<void> {
    return this.send('change', spec, req);
  }

  /**
   * Deletes filters: all of a priority, or one by handle and kind.
   *
   * @example
   * await nl.tc.filter.del({ dev: 'eth0', parent: '1:', protocol: 'ip', priority: 1 })
   */
  async del(ref: FilterRef, req: RequestOptions = {}): Promise<void> {
    objectArg(ref, 'ref');
    buildFilterDelMessage(0, ref);
    const ifindex = await this.ctx().link.indexOf(ref.dev);
    await request(this.ctx().route(), buildFilterDelMessage(ifindex, ref), null, {
      ...req,
      operation: 'RTM_DELTFILTER',
    });
  }

  /**
   * Filters of one attachment point, or of every qdisc, class and clsact
   * hook of the device(s). Includes the entries the kernel reports for
   * each priority and u32 hash table, as `tc filter show` does.
   *
   * @example
   * const filters = await nl.tc.filter.list({ dev: 'eth0', parent: 'ingress' })
   */
  async list(filter: FilterFilter = {}, req: RequestOptions = {}): Promise<TcFilter[]> {
    const out: TcFilter[] = [];
    for await (const f of this.stream(filter, req)) out.push(f);
    return out;
  }

  /**
   * list() as an async iterable.
   *
   * @example
   * for await (const f of h.tc.filter.stream({ dev: 'eth0', parent: '1:' })) console.log(f.kind, f.priority)
   */
  async *stream(filter: FilterFilter = {}, req: RequestOptions = {}): AsyncIterable<TcFilter> {
    objectArg(filter, 'filter');
    const parent =
      filter.parent === undefined ? undefined : parseHandle(filter.parent, 'filter.parent', 'filter-parent');
    if (filter.kind !== undefined && typeof filter.kind !== 'string')
      throw invalidType('filter.kind', 'a string', filter.kind);
    const ctx = this.ctx();
    const names = await linkNames(ctx);
    const devices = filter.dev === undefined ? [...names.keys()] : [await ctx.link.indexOf(filter.dev)];
    for (const ifindex of devices) {
      const parents = parent !== undefined ? [parent] : await this.attachmentPoints(ifindex, req);
      for (const p of parents) {
        yield* stream(
          ctx.route(),
          dumpMessage(RTM_GETTFILTER, ifindex, p),
          (b, o, l) => {
            const f = decodeFilter(b, o, l);
            if (f.ifindex !== ifindex || (filter.kind !== undefined && f.kind !== filter.kind)) return undefined;
            return named(f, names);
          },
          { ...req, operation: 'RTM_GETTFILTER' },
        );
      }
    }
  }

  /** Every qdisc and class of a device a filter can hang on, and the clsact/ingress hooks. */
  private async attachmentPoints(ifindex: number, req: RequestOptions): Promise<number[]> {
    const route = this.ctx().route();
    const points: number[] = [];
    const qdiscs = await dump(route, dumpMessage(RTM_GETQDISC, ifindex), decodeQdisc, {
      ...req,
      operation: 'RTM_GETQDISC',
    });
    for (const q of qdiscs) {
      if (q.ifindex !== ifindex) continue;
      if (q.kind === 'clsact') points.push(0xfffffff2, 0xfffffff3);
      else if (q.kind === 'ingress') points.push(0xfffffff2);
      else if (q.handle !== '0:') points.push(parseHandle(q.handle, 'handle', 'qdisc-handle'));
    }
    const classes = await dump(route, dumpMessage(RTM_GETTCLASS, ifindex), decodeClass, {
      ...req,
      operation: 'RTM_GETTCLASS',
    });
    for (const c of classes) {
      if (c.ifindex === ifindex && c.classid !== 'root' && c.classid !== 'none')
        points.push(parseHandle(c.classid, 'classid', 'classid'));
    }
    return [...new Set(points)];
  }
}

export interface ActionRef {
  kind: string;
  index: number;
}

/**
 * Standalone actions (`tc action`): shared by filters that name their index.
 *
 * @example
 * await h.tc.action.add({ kind: 'gact', action: 'drop', index: 7 })
 * const drops = await h.tc.action.list('gact')
 */
export class TcActionApi {
  constructor(private readonly ctx: () => TcContext) {}

  private async send(mode: 'add' | 'replace', action: TcAction, req: RequestOptions): Promise<void> {
    checkAction(action, 'action');
    const [probe] = (await resolveActionLinks([action], 'action', async () => 1))!;
    buildActionMessage(mode, probe);
    const link = this.ctx().link;
    const [resolved] = (await resolveActionLinks([action], 'action', (r) => link.indexOf(r)))!;
    await request(this.ctx().route(), buildActionMessage(mode, resolved), null, { ...req, operation: 'RTM_NEWACTION' });
  }

  /**
   * Adds an action; give `index` to refer to it from filters.
   *
   * @example
   * await nl.tc.action.add({ kind: 'mirred', direction: 'egress', action: 'redirect', dev: 'veth1', index: 8 })
   */
  add(action: TcAction, req: RequestOptions = {}): Promise<void> {
    return this.send('add', action, req);
  }

  /**
   * Adds or replaces an action (by kind and index).
   *
   * @example
   * await nl.tc.action.replace({ kind: 'gact', action: 'pass', index: 7 })
   */
  replace(action: TcAction, req: RequestOptions = {}): Promise<void> {
    return this.send('replace', action, req);
  }

  /**
   * Deletes an action by kind and index. Missing: 'ENOENT'.
   *
   * @example
   * await nl.tc.action.del({ kind: 'gact', index: 7 })
   */
  async del(ref: ActionRef, req: RequestOptions = {}): Promise<void> {
    objectArg(ref, 'ref');
    const message = buildActionRefMessage(RTM_DELACTION, FLAGS.del, ref.kind, ref.index);
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_DELACTION' });
  }

  /**
   * One action by kind and index.
   *
   * @example
   * const a = await nl.tc.action.get({ kind: 'mirred', index: 8 })
   */
  async get(ref: ActionRef, req: RequestOptions = {}): Promise<TcActionInfo> {
    objectArg(ref, 'ref');
    const message = buildActionRefMessage(RTM_GETACTION, NLM_F_REQUEST | NLM_F_ACK, ref.kind, ref.index);
    const replies = await request(this.ctx().route(), message, decodeActions, { ...req, operation: 'RTM_GETACTION' });
    const names = await linkNames(this.ctx());
    const found = replies.flat()[0];
    if (!found) throw invalidValue('ref', ref, 'matched no action');
    nameActions({ actions: [found] }, names);
    return found;
  }

  /**
   * Every action of one kind.
   *
   * @example
   * for (const a of await nl.tc.action.list('gact')) console.log(a.index, a.action)
   */
  async list(kind: string, req: RequestOptions = {}): Promise<TcActionInfo[]> {
    const message = buildActionRefMessage(RTM_GETACTION, NLM_F_REQUEST | NLM_F_DUMP, kind);
    const replies = await dump(this.ctx().route(), message, decodeActions, { ...req, operation: 'RTM_GETACTION' });
    const actions = replies.flat();
    const names = await linkNames(this.ctx());
    nameActions({ actions }, names);
    return actions;
  }
}

/**
 * The `tc` group: qdisc, class, filter and action.
 *
 * @example
 * await h.tc.qdisc.add({ dev: 'eth0', kind: 'clsact' })
 * await h.tc.filter.add({ dev: 'eth0', parent: 'ingress', kind: 'u32', protocol: 'ip',
 *   options: { match: [{ ip: { dst: '10.0.0.0/8' } }], actions: [{ kind: 'mirred', direction: 'egress', action: 'redirect', dev: 'eth1' }] } })
 */
export class TcApi {
  readonly qdisc: TcQdiscApi;
  readonly class: TcClassApi;
  readonly filter: TcFilterApi;
  readonly action: TcActionApi;

  constructor(ctx: () => TcContext) {
    this.qdisc = new TcQdiscApi(ctx);
    this.class = new TcClassApi(ctx);
    this.filter = new TcFilterApi(ctx);
    this.action = new TcActionApi(ctx);
  }
}

registerDecoder(NETLINK_ROUTE, RTM_NEWQDISC, { object: 'qdisc', event: 'new', decode: decodeQdisc });
registerDecoder(NETLINK_ROUTE, RTM_DELQDISC, { object: 'qdisc', event: 'del', decode: decodeQdisc });
registerDecoder(NETLINK_ROUTE, RTM_NEWTCLASS, { object: 'class', event: 'new', decode: decodeClass });
registerDecoder(NETLINK_ROUTE, RTM_DELTCLASS, { object: 'class', event: 'del', decode: decodeClass });
registerDecoder(NETLINK_ROUTE, RTM_NEWTFILTER, { object: 'filter', event: 'new', decode: decodeFilter });
registerDecoder(NETLINK_ROUTE, RTM_DELTFILTER, { object: 'filter', event: 'del', decode: decodeFilter });
registerDecoder(NETLINK_ROUTE, RTM_NEWACTION, { object: 'action', event: 'new', decode: decodeActions });
registerDecoder(NETLINK_ROUTE, RTM_DELACTION, { object: 'action', event: 'del', decode: decodeActions });
