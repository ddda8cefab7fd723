/**
 * Handles: everything the library does happens through one, bound to one
 * network namespace. The module-level groups use a default handle.
 */
import * as fs from 'node:fs';
import { NetlinkClient } from './engine/client';
import { request as sendRequest, dump as sendDump } from './engine/requests';
import { closedError, invalidType, invalidValue } from './errors';
import { AddrApi } from './addr';
import { LinkApi, type LinkContext } from './link';
import { NsidApi } from './nsid';
import { runBatch, type Batched, type BatchOptions, type BatchResult } from './batch';
import { Monitor, type MonitorOptions } from './monitor';
import { SysctlApi, type SysctlContext } from './sysctl';
import { NexthopApi } from './nexthop';
import { RouteApi } from './route';
import { BridgeApi } from './bridge';
import { NeighApi } from './neigh';
import { RuleApi } from './rule';
import { TcApi } from './tc';
import { NftApi } from './nft';
import {
  NETLINK_GENERIC,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_ATOMIC,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_MATCH,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLM_F_ROOT,
  RTM_NAMES,
} from './netlink/constants';
import * as constants from './netlink/constants';
import { buildMessage, NLMSG_HDRLEN } from './netlink/message';
import { acquireNetnsFd, checkNetnsRef, insideRunSync, type NetnsRef } from './netns';
import { probeKernel, type ProbeResult } from './probe';
import { findDecoder } from './registry';

export interface OpenOptions {
  /** The namespace to work in; the caller's current one by default. */
  netns?: NetnsRef;
  /** Receive buffer of the handle's sockets, in bytes (default 32 MiB, forced when privileged). */
  receiveBufferSize?: number;
  /** Kernel-side dump filtering (NETLINK_GET_STRICT_CHK); default true. */
  strictCheck?: boolean;
}

/** A message for the escape hatch, h.request(). */
export interface RawRequest {
  /** Message type: a number or an RTM_* name ('RTM_GETLINK'). */
  type: number | string;
  /** NLM_F_* bits, or names: 'dump', 'create', 'excl', 'replace', 'append', 'echo', 'root', 'match', 'atomic'. */
  flags?: number | string[];
  /** Everything after the nlmsghdr: fixed header and attributes (see `codec`). */
  payload?: Uint8Array;
  /** Netlink protocol; default 'route'. */
  protocol?: 'route' | 'netfilter' | 'generic';
  signal?: AbortSignal;
}

/** One reply message: its header, its payload, and the typed object where the library knows the type. */
export interface RawReply {
  type: number;
  flags: number;
  payload: Buffer;
  /** e.g. a Link for RTM_NEWLINK. */
  object?: unknown;
}

const FLAG_BITS: Record<string, number> = {
  dump: NLM_F_DUMP,
  create: NLM_F_CREATE,
  excl: NLM_F_EXCL,
  replace: NLM_F_REPLACE,
  append: NLM_F_APPEND,
  echo: NLM_F_ECHO,
  root: NLM_F_ROOT,
  match: NLM_F_MATCH,
  atomic: NLM_F_ATOMIC,
  ack: NLM_F_ACK,
  request: NLM_F_REQUEST,
};

const PROTOCOLS = { route: NETLINK_ROUTE, netfilter: NETLINK_NETFILTER, generic: NETLINK_GENERIC } as const;

function routeOperation(type: number): string {
  return RTM_NAMES[type] ?? `message type ${type}`;
}

/**
 * A connection to the kernel in one network namespace, with every API
 * group bound to it. Sockets are opened lazily and never keep the process
 * alive while idle. Close it when done (or `await using`).
 *
 * @example
 * await using h = await nl.open({ netns: 'red' })
 * console.log(await h.link.list())
 */
/**
 * @internal What the API groups reach through: the handle's engines, its
 * namespace and sibling groups. A separate object, because `route` on the
 * handle itself is the route group.
 */
export interface HandleContext extends LinkContext, SysctlContext {
  client(protocol: number): NetlinkClient;
  namespaceFd(): number;
  monitor(options: MonitorOptions): Monitor;
  readonly link: LinkApi;
}

/** The groups a batch can call. */
export type BatchGroups = Pick<
  Handle,
  'link' | 'addr' | 'route' | 'rule' | 'neigh' | 'nexthop' | 'tc' | 'bridge' | 'nsid' | 'sysctl'
>;

export class Handle {
  readonly link: LinkApi;
  readonly addr: AddrApi;
  readonly route: RouteApi;
  /** Bridge VLAN filtering entries. */
  readonly bridge: BridgeApi;
  readonly nexthop: NexthopApi;
  /** Ids of other namespaces as seen from this one. */
  readonly nsid: NsidApi;
  /** Network sysctls of this handle's namespace. */
  readonly sysctl: SysctlApi;
  readonly rule: RuleApi;
  readonly neigh: NeighApi;
  /** Traffic control: qdisc, class, filter, action. */
  readonly tc: TcApi;
  /** nftables: tables, chains, rules, sets, in atomic transactions. */
  readonly nft: NftApi;
  private readonly clients = new Map<number, NetlinkClient>();
  private netnsFd: { fd: number; release(): void } | null;
  private closed = false;
  private readonly options: OpenOptions;
  /** @internal handed to the API groups (module-level ones use the default handle's). */
  readonly context: HandleContext;

  /** @internal use open(). */
  constructor(options: OpenOptions = {}, netnsFd: { fd: number; release(): void } | null = null) {
    this.options = options;
    this.netnsFd = netnsFd;
    this.context = {
      route: () => this.client(NETLINK_ROUTE),
      client: (protocol: number) => this.client(protocol),
      namespaceFd: () => this.namespaceFd(),
      monitor: (options: MonitorOptions) => this.monitor(options),
      link: new LinkApi(() => this.context),
    };
    this.link = this.context.link;
    this.addr = new AddrApi(() => this.context);
    this.route = new RouteApi(() => this.context);
    this.bridge = new BridgeApi(() => this.context);
    this.nexthop = new NexthopApi(() => this.context);
    this.nsid = new NsidApi(() => this.context);
    this.sysctl = new SysctlApi(() => this.context);
    this.rule = new RuleApi(() => this.context);
    this.neigh = new NeighApi(() => this.context);
    this.tc = new TcApi(() => this.context);
    this.nft = new NftApi(() => this.context);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal the fd of this handle's namespace for native calls; -1 for the calling thread's. */
  namespaceFd(): number {
    if (this.closed) throw closedError();
    // No namespace of its own means the module's home namespace; be
    // explicit about it while runSync has the thread elsewhere.
    return this.netnsFd?.fd ?? (insideRunSync() ? homeNetnsFd : -1);
  }

  /** @internal the engine for a netlink protocol, made on first use. */
  client(protocol: number): NetlinkClient {
    if (this.closed) throw closedError();
    let client = this.clients.get(protocol);
    if (!client) {
      client = new NetlinkClient({
        protocol,
        netnsFd: this.namespaceFd(),
        receiveBufferSize: this.options.receiveBufferSize,
        strictCheck: protocol === NETLINK_ROUTE && this.options.strictCheck !== false,
        operationName: protocol === NETLINK_ROUTE ? routeOperation : undefined,
      });
      this.clients.set(protocol, client);
    }
    return client;
  }

  /**
   * The escape hatch: sends any message and resolves every reply, decoded
   * where the library knows the type. Kernel refusals reject with
   * NetlinkError like any other call.
   *
   * @example
   * const w = new nl.codec.Writer()
   * // ... write an ifinfomsg and attributes into w ...
   * const replies = await h.request({ type: 'RTM_GETLINK', flags: ['dump'], payload: w.view() })
   */
  async request(message: RawRequest): Promise<RawReply[]> {
    if (typeof message !== 'object' || message === null) throw invalidType('message', 'an object', message);
    const type = typeof message.type === 'string' ? (constants as Record<string, unknown>)[message.type] : message.type;
    if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 0xffff) {
      throw invalidValue('message.type', message.type, 'must be a message type number or a known RTM_* name');
    }
    let flags = NLM_F_REQUEST;
    if (typeof message.flags === 'number') flags |= message.flags;
    else if (Array.isArray(message.flags)) {
      for (const f of message.flags) {
        const bit = FLAG_BITS[f];
        if (bit === undefined)
          throw invalidValue('message.flags', f, `must be one of ${Object.keys(FLAG_BITS).join(', ')}`);
        flags |= bit;
      }
    } else if (message.flags !== undefined)
      throw invalidType('message.flags', 'a number or an array of names', message.flags);
    const protocol = PROTOCOLS[message.protocol ?? 'route'];
    if (protocol === undefined)
      throw invalidValue('message.protocol', message.protocol, "must be 'route', 'netfilter' or 'generic'");
    if (message.payload !== undefined && !(message.payload instanceof Uint8Array)) {
      throw invalidType('message.payload', 'a Buffer or Uint8Array', message.payload);
    }
    const isDump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    if (!isDump) flags |= NLM_F_ACK;
    const bytes = buildMessage(type, flags, message.payload ?? new Uint8Array(0));
    const decode = (buf: Buffer, off: number, len: number, t: number, f: number): RawReply => {
      const reply: RawReply = { type: t, flags: f, payload: Buffer.from(buf.subarray(off + NLMSG_HDRLEN, off + len)) };
      const decoder = findDecoder(protocol, t);
      if (decoder) reply.object = decoder.decode(buf, off, len);
      return reply;
    };
    const client = this.client(protocol);
    const options = { signal: message.signal };
    return isDump ? sendDump(client, bytes, decode, options) : sendRequest(client, bytes, decode, options);
  }

  /**
   * What the running kernel supports: link kinds, qdiscs, nftables, ...
   * It tries them in a throwaway namespace of its own; nothing here changes.
   *
   * @example
   * const { linkKinds } = await nl.probe(); if (!linkKinds.dummy) ...
   */
  async probe(): Promise<ProbeResult> {
    if (this.closed) throw closedError();
    return probeKernel();
  }

  /**
   * Many requests, pipelined: every call made on `b` (the handle's groups)
   * is made with thousands in flight, packed into few sendmsg calls, and
   * each outcome lands in the result array in call order. Not atomic
   * (rtnetlink has no transactions). Order: link.add (without names to
   * look up or namespaces), addr.add/replace/del and route
   * add/replace/append/change/del are written into the same datagrams in
   * call order, and the kernel makes them in that order; other calls are
   * made up to `inFlight` at a time, concurrently with their neighbours,
   * after everything before them is answered, and before anything after
   * them is sent. So a call may depend on an earlier one (an address on a
   * link the batch adds, a route via that address), but two neighbouring
   * calls of the second kind must not depend on each other. Failures do
   * not stop the rest unless `stopOnError`.
   *
   * @example
   * const results = await h.batch((b) => {
   *   for (const dst of prefixes) b.route.add({ dst, gateway: '10.0.0.2' })
   * })
   * const failed = results.filter((r) => !r.ok)
   */
  batch(build: (b: Batched<BatchGroups>) => void | Promise<void>, options: BatchOptions = {}): Promise<BatchResult[]> {
    if (this.closed) return Promise.reject(closedError());
    const groups: BatchGroups = {
      link: this.link,
      addr: this.addr,
      route: this.route,
      rule: this.rule,
      neigh: this.neigh,
      nexthop: this.nexthop,
      tc: this.tc,
      bridge: this.bridge,
      nsid: this.nsid,
      sysctl: this.sysctl,
    };
    return runBatch(groups, build, options);
  }

  /**
   * Kernel notifications as typed events, on a socket of their own in this
   * handle's namespace (or `options.netns`). See Monitor.
   *
   * @example
   * const m = h.monitor({ groups: ['link', 'addr'], listExisting: true })
   * m.on('event', (ev) => console.log(ev.type, ev.object))
   * ...
   * m.close()
   */
  monitor(options: MonitorOptions = {}): Monitor {
    if (this.closed) throw closedError();
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
    if (options.netns === undefined) return new Monitor(options, this.namespaceFd());
    checkNetnsRef(options.netns, 'options.netns');
    const ns = acquireNetnsFd(options.netns);
    try {
      return new Monitor(options, ns.fd); // the socket keeps its namespace; the fd is not needed after
    } finally {
      ns.release();
    }
  }

  /** Closes the handle's sockets; pending calls reject with ERR_RTNL_CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    this.netnsFd?.release();
    this.netnsFd = null;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Opens a handle, in the caller's namespace or the one given.
 * A missing namespace rejects with code 'ENOENT'.
 *
 * @example
 * const h = await nl.open({ netns: 'red' })
 * await h.link.set('lo', { up: true })
 * await h.close()
 */
export async function open(options: OpenOptions = {}): Promise<Handle> {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  if (options.netns === undefined && !insideRunSync()) return new Handle(options);
  if (options.netns !== undefined) checkNetnsRef(options.netns, 'options.netns');
  const ns = acquireNetnsFd(options.netns ?? '/proc/thread-self/ns/net');
  // Keep our own fd: the caller may close a NetNS it passed in.
  const own = fs.openSync(`/proc/self/fd/${ns.fd}`, 'r');
  ns.release();
  return new Handle(options, { fd: own, release: () => fs.closeSync(own) });
}

// The namespace the process was in when the module loaded: the default
// handle lives there even if first used inside netns.runSync().
const homeNetnsFd = fs.openSync('/proc/thread-self/ns/net', 'r');
let defaultHandle: Handle | null = null;

/** @internal the shared handle behind the module-level functions. */
export function getDefaultHandle(): Handle {
  if (!defaultHandle || defaultHandle.isClosed) {
    defaultHandle = new Handle({});
  }
  return defaultHandle;
}

/**
 * Closes the default handle. The next module-level call opens a new one.
 *
 * @example
 * await nl.link.list(); await nl.close()
 */
export async function close(): Promise<void> {
  const h = defaultHandle;
  defaultHandle = null;
  await h?.close();
}
