/**
 * Neighbours: the ARP (IPv4) and NDP (IPv6) caches with their proxy
 * entries, and the bridge forwarding database (family 'bridge': bridge
 * ports, vxlan remotes). Types, request builders, the decoder, and the
 * `neigh` API group. Attributes come from the rt-neigh schema tables.
 */
import type { NetlinkClient } from './engine/client';
import { dump, request, stream, type RequestOptions } from './engine/requests';
import { invalidType, invalidValue, outOfRange } from './errors';
import { parseMac } from './netlink/address';
import { Writer } from './netlink/attributes';
import {
  AF_BRIDGE,
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NTF_EXT_LEARNED,
  NTF_EXT_MANAGED,
  NTF_MASTER,
  NTF_OFFLOADED,
  NTF_PROXY,
  NTF_ROUTER,
  NTF_SELF,
  NTF_STICKY,
  NTF_USE,
  NUD_DELAY,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_NOARP,
  NUD_NONE,
  NUD_PERMANENT,
  NUD_PROBE,
  NUD_REACHABLE,
  NUD_STALE,
  RTM_DELNEIGH,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { FamilySchemas } from './netlink/schema';
import { registerDecoder } from './registry';
import { protocols } from './rt-names';
import { ipArgument } from './inputs';
import { rtNeigh } from './specs';
import type { LinkApi, LinkRef } from './link';

/**
 * A neighbour entry (ARP/NDP) or a bridge FDB entry (family 'bridge'),
 * shaped after `ip -j neigh show` and `bridge -j fdb show`.
 */
export interface Neighbour {
  /** The interface (ndm_ifindex): the bridge port or vxlan device for FDB entries. */
  index: number;
  family: 4 | 6 | 'bridge';
  /** The IP address, for ARP/NDP entries (NDA_DST). */
  address?: string;
  /** The remote VTEP's IP of a vxlan FDB entry (NDA_DST of family 'bridge'). */
  dst?: string;
  /** Link-layer address, 'aa:bb:cc:dd:ee:ff' (NDA_LLADDR). */
  mac?: string;
  /**
   * NUD states as `ip -j neigh` prints them: 'INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE',
   * 'FAILED', 'NOARP', 'PERMANENT'; [] for none (proxy entries). FDB entries use the same names:
   * 'PERMANENT' (bridge's "permanent"), 'NOARP' ("static"), 'REACHABLE' (dynamic), 'STALE'.
   */
  state: string[];
  /**
   * ndm_flags and NDA_FLAGS_EXT as iproute2 names them: 'self', 'master', 'router', 'proxy',
   * 'extern_learn', 'offload', 'sticky', 'use', 'managed', 'locked', 'extern_valid'.
   */
  flags: string[];
  /** FDB: the VLAN id (NDA_VLAN). */
  vlan?: number;
  /** vxlan FDB: UDP destination port (NDA_PORT). */
  port?: number;
  /** vxlan FDB: VNI of the remote (NDA_VNI). */
  vni?: number;
  /** vxlan FDB: source VNI, on collect-metadata devices (NDA_SRC_VNI). */
  srcVni?: number;
  /** vxlan FDB: index of the device that reaches the remote (NDA_IFINDEX; bridge prints it as "via"). */
  via?: number;
  /** FDB: index of the bridge holding the entry (NDA_MASTER). */
  master?: number;
  linkNetnsid?: number;
  /** Who installed it (NDA_PROTOCOL), named like route protocols. */
  protocol?: string | number;
  /** Nexthop (group) id of the entry (NDA_NH_ID). */
  nhId?: number;
  /** Probes sent so far (NDA_PROBES). */
  probes?: number;
  /** Ages in clock ticks (USER_HZ, 100 per second) since last confirmed, used, updated; and the refcount. */
  cacheinfo?: { confirmed: number; used: number; updated: number; refcnt: number };
}

/**
 * What neigh.add/replace/del take. A Neighbour from list() is accepted
 * (fields only the kernel sets, like cacheinfo and probes, are ignored).
 */
export interface NeighbourSpec {
  /** The interface, by name or index. */
  dev: LinkRef;
  /** The family; inferred: from `address`, else 'bridge' for an entry with only a `mac`. */
  family?: 4 | 6 | 'bridge';
  /** IP address of an ARP/NDP entry. */
  address?: string;
  /** Link-layer address; required for FDB entries. */
  mac?: string;
  /**
   * NUD state names (any case), one or several. The default is what `ip neigh add` and `bridge fdb add`
   * send: ['PERMANENT'] (none for managed entries), ['NOARP', 'PERMANENT'] for FDB entries.
   * For FDB entries 'static' and 'dynamic' mean 'NOARP' and 'REACHABLE'.
   */
  state?: string | string[];
  /**
   * 'router', 'proxy' (a proxy ARP/NDP entry), 'extern_learn', 'use', 'managed'; for FDB 'self'
   * (the device's own table, the default) or 'master' (the bridge's), 'sticky', 'locked'.
   */
  flags?: string[];
  /** FDB: VLAN id 1-4094. */
  vlan?: number;
  /** vxlan FDB: the remote's IP (NDA_DST). */
  dst?: string;
  port?: number;
  vni?: number;
  srcVni?: number;
  /** vxlan FDB: the device that reaches the remote. */
  via?: LinkRef;
  /** FDB: the entry is the bridge's (NTF_MASTER) when flags name neither 'self' nor 'master'. Not sent. */
  master?: LinkRef;
  protocol?: string | number;
  nhId?: number;
  /** Accepted from list() output and ignored. */
  index?: number;
  probes?: number;
  cacheinfo?: unknown;
  linkNetnsid?: number;
}

export interface NeighbourFilter {
  /** 4 or 6 (ARP or NDP only), or 'bridge' for the FDB; by default both ARP and NDP. */
  family?: 4 | 6 | 'bridge';
  /** Entries of this interface. */
  dev?: LinkRef;
  /** Entries of ports of this bridge (or of this VRF). */
  master?: LinkRef;
  /** true: the proxy entries (`ip neigh show proxy`), which a plain dump leaves out. */
  proxy?: boolean;
  /** Entries in any of these states. */
  state?: string | string[];
  vlan?: number;
}

export const rtNeighSchemas = new FamilySchemas(rtNeigh);
const neighAttrs = () => rtNeighSchemas.attributeSet('neighbour-attrs');
const NDMSG_LEN = 12;

// Bit order is the order `ip` prints them in.
const STATE_NAMES: [number, string][] = [
  [NUD_INCOMPLETE, 'INCOMPLETE'],
  [NUD_REACHABLE, 'REACHABLE'],
  [NUD_STALE, 'STALE'],
  [NUD_DELAY, 'DELAY'],
  [NUD_PROBE, 'PROBE'],
  [NUD_FAILED, 'FAILED'],
  [NUD_NOARP, 'NOARP'],
  [NUD_PERMANENT, 'PERMANENT'],
];
const STATE_BITS = new Map<string, number>([
  ...STATE_NAMES.map(([bit, name]) => [name, bit] as [string, number]),
  ['NONE', NUD_NONE],
]);
const FDB_STATE_ALIASES = new Map([
  ['STATIC', NUD_NOARP],
  ['DYNAMIC', NUD_REACHABLE],
]);

const FLAG_NAMES: [number, string][] = [
  [NTF_USE, 'use'],
  [NTF_SELF, 'self'],
  [NTF_MASTER, 'master'],
  [NTF_PROXY, 'proxy'],
  [NTF_EXT_LEARNED, 'extern_learn'],
  [NTF_OFFLOADED, 'offload'],
  [NTF_STICKY, 'sticky'],
  [NTF_ROUTER, 'router'],
];
const SETTABLE_FLAGS = new Set(['use', 'self', 'master', 'proxy', 'extern_learn', 'sticky', 'router']);

// NDA_FLAGS_EXT bits: values from the spec (the uapi headers here predate most of them).
const extFlagBit = (specName: string) => rtNeighSchemas.enumCodec('ntf-ext-flags').value('flags', specName);
const EXT_FLAG_NAMES: [() => number, string][] = [
  [() => NTF_EXT_MANAGED, 'managed'],
  [() => extFlagBit('locked'), 'locked'],
  [() => extFlagBit('ext-validated'), 'extern_valid'],
];
const SETTABLE_EXT_FLAGS = new Set(['managed', 'locked', 'extern_valid']);

function stateNames(state: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of STATE_NAMES) {
    if (state & bit) {
      out.push(name);
      state &= ~bit;
    }
  }
  if (state !== 0) out.push(`0x${state.toString(16)}`);
  return out;
}

/** Decodes one RTM_NEWNEIGH/RTM_DELNEIGH message into a Neighbour. */
export function decodeNeighbour(buf: Buffer, offset: number, length: number): Neighbour {
  checkMessage(buf, offset, length, NDMSG_LEN, 'neighbour');
  const body = offset + NLMSG_HDRLEN;
  const af = buf[body];
  const family = af === AF_BRIDGE ? 'bridge' : af === AF_INET6 ? 6 : 4;
  const ndmFlags = buf[body + 10];
  const a = neighAttrs().decode(buf, body + NDMSG_LEN, offset + length);
  const extFlags = a.flagsExt === undefined ? 0 : rtNeighSchemas.enumCodec('ntf-ext-flags').mask('flags', a.flagsExt);
  const flags = FLAG_NAMES.filter(([bit]) => ndmFlags & bit).map(([, n]) => n);
  for (const [bit, name] of EXT_FLAG_NAMES) if (extFlags & bit()) flags.push(name);
  const out: Neighbour = {
    index: buf.readInt32LE(body + 4),
    family,
    state: stateNames(buf.readUInt16LE(body + 8)),
    flags,
  };
  if (a.dst !== undefined) out[family === 'bridge' ? 'dst' : 'address'] = addressText(a.dst);
  if (a.lladdr !== undefined) out.mac = a.lladdr as string;
  if (a.vlan !== undefined) out.vlan = a.vlan as number;
  if (a.port !== undefined) out.port = a.port as number;
  if (a.vni !== undefined) out.vni = a.vni as number;
  if (a.srcVni !== undefined) out.srcVni = a.srcVni as number;
  if (a.ifindex !== undefined) out.via = a.ifindex as number;
  if (a.master !== undefined) out.master = a.master as number;
  if (a.linkNetnsid !== undefined) out.linkNetnsid = a.linkNetnsid as number;
  if (a.protocol !== undefined) out.protocol = protocols.name(a.protocol as number);
  if (a.nhId !== undefined) out.nhId = a.nhId as number;
  if (a.probes !== undefined) out.probes = a.probes as number;
  if (a.cacheinfo !== undefined) {
    const ci = a.cacheinfo as Record<string, number>;
    out.cacheinfo = { confirmed: ci.confirmed, used: ci.used, updated: ci.updated, refcnt: ci.refcnt };
  }
  return out;
}

// NDA_DST of another length (a DECnet or MPLS neighbour) stays raw: shown as hex.
function addressText(v: unknown): string {
  return typeof v === 'string' ? v : (v as Buffer).toString('hex');
}

function integer(v: unknown, argument: string, min: number, max: number): number {
  if (typeof v !== 'number') throw invalidType(argument, 'of type number', v);
  if (!Number.isInteger(v) || v < min || v > max) throw outOfRange(argument, `an integer >= ${min} and <= ${max}`, v);
  return v;
}

function stateMask(v: unknown, argument: string, fdb: boolean): number {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw invalidType(argument, 'a state name or an array of them', v);
  let mask = 0;
  for (const item of list) {
    if (typeof item !== 'string') throw invalidType(argument, 'a state name or an array of them', item);
    const upper = item.toUpperCase();
    const bit = STATE_BITS.get(upper) ?? (fdb ? FDB_STATE_ALIASES.get(upper) : undefined);
    if (bit === undefined)
      throw invalidValue(
        argument,
        item,
        `must be one of ${[...STATE_BITS.keys()].join(', ')}${fdb ? ', static, dynamic' : ''}`,
      );
    mask |= bit;
  }
  return mask;
}

function nudMask(names: string[]): number {
  let mask = 0;
  for (const name of names) mask |= STATE_BITS.get(name) ?? 0;
  return mask;
}

/** What `ip neigh add` and `bridge fdb add` send when no state is given. */
function defaultState(fdb: boolean, extFlags: number): number {
  if (fdb) return NUD_PERMANENT | NUD_NOARP;
  return extFlags & NTF_EXT_MANAGED ? NUD_NONE : NUD_PERMANENT;
}

function familyArgument(v: unknown, argument: string): 4 | 6 | 'bridge' | undefined {
  if (v === undefined || v === 4 || v === 6 || v === 'bridge') return v;
  throw invalidValue(argument, v, "must be 4, 6 or 'bridge'");
}

/** A NeighbourSpec with its interfaces resolved to indexes. */
export type ResolvedNeighbourSpec = Omit<NeighbourSpec, 'dev' | 'via' | 'master'> & {
  dev: number;
  via?: number;
  master?: number | boolean;
};

/**
 * Builds RTM_NEWNEIGH / RTM_DELNEIGH. Addresses, families, states and
 * flags are checked here, so bad input never reaches the kernel.
 */
export function buildNeighbourMessage(type: number, flags: number, spec: ResolvedNeighbourSpec): Buffer {
  if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
  const isNew = type === RTM_NEWNEIGH;
  let family = familyArgument(spec.family, 'spec.family');
  const attrs: Record<string, unknown> = {};
  if (spec.address !== undefined) {
    const ip = ipArgument(spec.address, family === 'bridge' ? undefined : family, 'spec.address');
    if (family === 'bridge')
      throw invalidValue(
        'spec.address',
        spec.address,
        "does not apply to family 'bridge' (use dst for a vxlan remote)",
      );
    family = ip.family;
    attrs.dst = ip.bytes;
  } else if (family === undefined && spec.mac !== undefined) {
    family = 'bridge';
  }
  if (family === undefined || (family !== 'bridge' && spec.address === undefined))
    throw invalidValue('spec.address', spec.address, 'is required for an ARP/NDP entry (an IP address)');
  const fdb = family === 'bridge';
  if (spec.mac !== undefined) {
    if (typeof spec.mac !== 'string') throw invalidType('spec.mac', 'a MAC address string', spec.mac);
    const mac = parseMac(spec.mac);
    if (!mac) throw invalidValue('spec.mac', spec.mac, "must be a MAC address like 'aa:bb:cc:dd:ee:ff'");
    attrs.lladdr = mac;
  } else if (fdb) {
    throw invalidValue('spec.mac', spec.mac, 'is required for an FDB entry');
  }

  let ndmFlags = 0;
  let extFlags = 0;
  if (spec.flags !== undefined && !Array.isArray(spec.flags))
    throw invalidType('spec.flags', 'an array of flag names', spec.flags);
  for (const f of spec.flags ?? []) {
    const ext = EXT_FLAG_NAMES.find(([, n]) => n === f);
    if (ext && SETTABLE_EXT_FLAGS.has(f)) extFlags |= ext[0]();
    else if (SETTABLE_FLAGS.has(f)) ndmFlags |= FLAG_NAMES.find(([, n]) => n === f)![0];
    else if (FLAG_NAMES.some(([, n]) => n === f))
      continue; // set by the kernel only ('offload'): ignored, as from list()
    else throw invalidValue('spec.flags', f, `must be one of ${[...SETTABLE_FLAGS, ...SETTABLE_EXT_FLAGS].join(', ')}`);
  }
  const proxy = (ndmFlags & NTF_PROXY) !== 0;
  if (proxy && fdb) throw invalidValue('spec.flags', 'proxy', "does not apply to family 'bridge'");
  if (fdb && !(ndmFlags & (NTF_SELF | NTF_MASTER))) ndmFlags |= spec.master ? NTF_MASTER : NTF_SELF;
  if (!fdb) {
    for (const key of ['vlan', 'dst', 'port', 'vni', 'srcVni', 'via'] as const) {
      if (spec[key] !== undefined) throw invalidValue(`spec.${key}`, spec[key], "applies to family 'bridge' only");
    }
  }
  // A deletion finds entries by key alone; states and extra flags only matter on add.
  if (!isNew) ndmFlags &= fdb ? NTF_SELF | NTF_MASTER : NTF_PROXY;
  const state = !isNew
    ? 0
    : spec.state === undefined
      ? defaultState(fdb, extFlags)
      : stateMask(spec.state, 'spec.state', fdb);
  if (spec.vlan !== undefined) attrs.vlan = integer(spec.vlan, 'spec.vlan', 1, 4094);
  if (spec.dst !== undefined) attrs.dst = ipArgument(spec.dst, undefined, 'spec.dst').bytes;
  if (spec.port !== undefined) attrs.port = integer(spec.port, 'spec.port', 0, 0xffff);
  if (spec.vni !== undefined) attrs.vni = integer(spec.vni, 'spec.vni', 0, 0xffffff);
  if (spec.srcVni !== undefined) attrs.srcVni = integer(spec.srcVni, 'spec.srcVni', 0, 0xffffff);
  if (spec.via !== undefined) attrs.ifindex = spec.via;
  if (isNew && spec.protocol !== undefined) attrs.protocol = protocols.value(spec.protocol, 'spec.protocol');
  if (spec.nhId !== undefined) attrs.nhId = integer(spec.nhId, 'spec.nhId', 1, 0xffffffff);
  if (isNew && extFlags !== 0) attrs.flagsExt = extFlags;

  const w = new Writer(96);
  const start = beginMessage(w, type, flags);
  w.u8(family === 'bridge' ? AF_BRIDGE : family === 4 ? AF_INET : AF_INET6);
  w.zeros(3);
  w.s32(spec.dev);
  w.u16(state);
  w.u8(ndmFlags);
  w.u8(0);
  neighAttrs().encode(w, attrs);
  finishMessage(w, start);
  return w.view();
}

export interface NeighContext {
  route(): NetlinkClient;
  readonly link: LinkApi;
}

/**
 * The `neigh` group: ARP/NDP entries and the bridge FDB, like `ip neigh`
 * and `bridge fdb`.
 *
 * @example
 * await h.neigh.add({ dev: 'veth0', address: '10.0.0.2', mac: '02:00:00:00:00:02' })
 * await h.neigh.add({ dev: 'vx0', mac: '00:00:00:00:00:00', dst: '192.0.2.7' })   // vxlan FDB
 * const arp = await h.neigh.list({ dev: 'veth0', family: 4 })
 */
export class NeighApi {
  constructor(private readonly ctx: () => NeighContext) {}

  /**
   * Adds an entry. Existing: code 'EEXIST'.
   *
   * @example
   * await nl.neigh.add({ dev: 'eth0', address: '2001:db8::2', mac: '02:00:00:00:00:02', flags: ['router'] })
   * await nl.neigh.add({ dev: 'eth0', address: '10.0.0.9', flags: ['proxy'] })          // proxy ARP
   * await nl.neigh.add({ dev: 'veth1', mac: '02:00:00:00:01:01', flags: ['master'], state: 'static' })  // bridge FDB
   */
  async add(spec: NeighbourSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, spec, req);
  }

  /**
   * Adds the entry, or changes it (state, MAC, flags) if it exists.
   *
   * @example
   * await nl.neigh.replace({ dev: 'eth0', address: '10.0.0.2', mac: '02:00:00:00:00:03', state: 'reachable' })
   */
  async replace(spec: NeighbourSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, spec, req);
  }

  /**
   * Adds one more remote to an FDB entry (`bridge fdb append`): a vxlan
   * device floods to every remote of the all-zero MAC.
   *
   * @example
   * await nl.neigh.append({ dev: 'vx0', mac: '00:00:00:00:00:00', dst: '192.0.2.8' })
   */
  async append(spec: NeighbourSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_APPEND, spec, req);
  }

  /**
   * Removes an entry: by dev and address (ARP/NDP; 'proxy' in flags for a
   * proxy entry) or by dev, mac and vlan (FDB; with dst for one vxlan
   * remote). Missing: code 'ENOENT'.
   *
   * @example
   * await nl.neigh.del({ dev: 'eth0', address: '10.0.0.2' })
   */
  async del(spec: NeighbourSpec, req: RequestOptions = {}): Promise<void> {
    await this.send(RTM_DELNEIGH, 0, spec, req);
  }

  /**
   * Entries, ARP and NDP by default (as `ip neigh show nud all`), the FDB
   * with `{ family: 'bridge' }` (as `bridge fdb show`), proxies with
   * `{ proxy: true }`.
   *
   * @example
   * const fdb = await nl.neigh.list({ family: 'bridge', master: 'br0' })
   */
  async list(filter: NeighbourFilter = {}, req: RequestOptions = {}): Promise<Neighbour[]> {
    const { message, accept } = await this.dumpRequest(filter);
    return dump(this.ctx().route(), message, (b, o, l) => keep(b, o, l, accept), {
      ...req,
      operation: 'RTM_GETNEIGH',
    });
  }

  /**
   * list() as an async iterable, decoded as datagrams arrive.
   *
   * @example
   * for await (const n of h.neigh.stream({ family: 6 })) console.log(n.address, n.state)
   */
  async *stream(filter: NeighbourFilter = {}, req: RequestOptions = {}): AsyncIterable<Neighbour> {
    const { message, accept } = await this.dumpRequest(filter);
    yield* stream(this.ctx().route(), message, (b, o, l) => keep(b, o, l, accept), {
      ...req,
      operation: 'RTM_GETNEIGH',
    });
  }

  /**
   * Removes the entries list(filter) returns; like `ip neigh flush`,
   * PERMANENT and NOARP entries stay unless `filter.state` names them.
   * Returns how many went.
   *
   * @example
   * await nl.neigh.flush({ dev: 'eth0' })
   * await nl.neigh.flush({ dev: 'eth0', state: ['PERMANENT', 'NOARP', 'REACHABLE', 'STALE'] })
   */
  async flush(filter: NeighbourFilter = {}): Promise<number> {
    let entries = await this.list(filter);
    if (filter.state === undefined && !filter.proxy)
      entries = entries.filter((n) => !n.state.includes('PERMANENT') && !n.state.includes('NOARP'));
    let n = 0;
    for (const entry of entries) {
      const spec = { ...entry, dev: entry.index, master: entry.master !== undefined };
      const message = buildNeighbourMessage(RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, spec);
      await request(this.ctx().route(), message, null, { operation: 'RTM_DELNEIGH' }).then(
        () => n++,
        (error: { code?: string }) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
    }
    return n;
  }

  private async send(type: number, flags: number, spec: NeighbourSpec, req: RequestOptions): Promise<void> {
    if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
    if (spec.dev === undefined) throw invalidType('spec.dev', 'an interface name or index', spec.dev);
    // Check everything that needs no lookup before the lookups.
    buildNeighbourMessage(type, flags, {
      ...spec,
      dev: 0,
      via: spec.via === undefined ? undefined : 0,
      master: spec.master !== undefined,
    });
    const link = this.ctx().link;
    const resolved: ResolvedNeighbourSpec = {
      ...spec,
      dev: await link.indexOf(spec.dev),
      via: spec.via === undefined ? undefined : await link.indexOf(spec.via),
      master: spec.master === undefined ? undefined : true,
    };
    const message = buildNeighbourMessage(type, NLM_F_REQUEST | NLM_F_ACK | flags, resolved);
    await request(this.ctx().route(), message, null, {
      ...req,
      operation: type === RTM_NEWNEIGH ? 'RTM_NEWNEIGH' : 'RTM_DELNEIGH',
    });
  }

  private async dumpRequest(filter: NeighbourFilter): Promise<{ message: Buffer; accept: (n: Neighbour) => boolean }> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    const family = familyArgument(filter.family, 'filter.family');
    const fdb = family === 'bridge';
    const states = filter.state === undefined ? undefined : stateMask(filter.state, 'filter.state', fdb);
    const vlan = filter.vlan === undefined ? undefined : integer(filter.vlan, 'filter.vlan', 1, 4094);
    if (filter.proxy !== undefined && typeof filter.proxy !== 'boolean')
      throw invalidType('filter.proxy', 'a boolean', filter.proxy);
    if (filter.proxy && fdb) throw invalidValue('filter.proxy', filter.proxy, "does not apply to family 'bridge'");
    const link = this.ctx().link;
    const dev = filter.dev === undefined ? 0 : await link.indexOf(filter.dev);
    const master = filter.master === undefined ? 0 : await link.indexOf(filter.master);
    // The kernel filters by master only on strict sockets: know the ports to filter here too.
    const ports = master === 0 ? undefined : new Set((await link.list({ master })).map((l) => l.index));
    const w = new Writer(40);
    const start = beginMessage(w, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
    w.u8(fdb ? AF_BRIDGE : family === 4 ? AF_INET : family === 6 ? AF_INET6 : AF_UNSPEC);
    w.zeros(3);
    // The kernel filters by port itself: the FDB dump reads ndm_ifindex, the ARP/NDP dump NDA_IFINDEX.
    w.s32(fdb ? dev : 0);
    w.u16(0);
    w.u8(filter.proxy ? NTF_PROXY : 0);
    w.u8(0);
    const attrs: Record<string, unknown> = {};
    if (!fdb && dev) attrs.ifindex = dev;
    if (master) attrs.master = master;
    neighAttrs().encode(w, attrs);
    finishMessage(w, start);
    const accept = (n: Neighbour) =>
      (family === undefined ? n.family !== 'bridge' : n.family === family) &&
      (dev === 0 || n.index === dev) &&
      (ports === undefined || ports.has(n.index) || (fdb && n.index === master)) &&
      (states === undefined || (states === NUD_NONE ? n.state.length === 0 : (nudMask(n.state) & states) !== 0)) &&
      (vlan === undefined || n.vlan === vlan) &&
      (filter.proxy === undefined || n.flags.includes('proxy') === filter.proxy);
    return { message: w.view(), accept };
  }
}

function keep(buf: Buffer, offset: number, length: number, accept: (n: Neighbour) => boolean): Neighbour | undefined {
  const n = decodeNeighbour(buf, offset, length);
  return accept(n) ? n : undefined;
}

registerDecoder(NETLINK_ROUTE, RTM_NEWNEIGH, { object: 'neigh', event: 'new', decode: decodeNeighbour });
registerDecoder(NETLINK_ROUTE, RTM_DELNEIGH, { object: 'neigh', event: 'del', decode: decodeNeighbour });
