/**
 * Kernel notifications as typed events (`ip monitor`, done right): a
 * dedicated socket subscribed to rtnetlink multicast groups, decoded by the
 * same codec as dumps. Optionally starts with a snapshot of the current
 * state (dumped on the same socket after subscribing, so nothing falls in
 * between), resynchronises after the kernel drops notifications, and
 * listens to every namespace that has an id.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { NetlinkClient } from './engine/client';
import { dump } from './engine/requests';
import { abortError, invalidType, invalidValue, outOfRange } from './errors';
import { Writer } from './netlink/attributes';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_ROUTE,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETNEIGH,
  RTM_GETNETCONF,
  RTM_GETNEXTHOP,
  RTM_GETNSID,
  RTM_GETQDISC,
  RTM_GETROUTE,
  RTM_GETRULE,
  RTM_NAMES,
  RTM_NEWNSID,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_NETCONF,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV4_RULE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_NETCONF,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_IPV6_RULE,
  RTNLGRP_LINK,
  RTNLGRP_NEIGH,
  RTNLGRP_NEXTHOP,
  RTNLGRP_NSID,
  RTNLGRP_TC,
  SOL_NETLINK,
} from './netlink/constants';
import { beginMessage, finishMessage } from './netlink/message';
import { NETNS_RUN_DIR, type NetnsRef } from './netns';
import { buildNsidMessage, decodeNsidReply } from './nsid';
import { findDecoder } from './registry';
import './netconf'; // registers the netconf decoders

/** Group names: the object kinds, and per-family variants. */
export type MonitorGroup =
  | 'link'
  | 'addr'
  | 'addr4'
  | 'addr6'
  | 'route'
  | 'route4'
  | 'route6'
  | 'neigh'
  | 'rule'
  | 'rule4'
  | 'rule6'
  | 'nexthop'
  | 'nsid'
  | 'netconf'
  | 'netconf4'
  | 'netconf6'
  | 'tc';

/** A change the kernel announced (or, in a snapshot, an object that exists). */
export interface ObjectEvent {
  type: 'new' | 'del';
  /** 'link', 'addr', 'route', 'neigh', 'rule', 'nexthop', 'nsid', 'netconf', 'qdisc', ... */
  object: string;
  /** The decoded object: a Link, Address, Route, ... (a hex string where the library has no decoder). */
  data: unknown;
  /** With allNamespaces: the id (in the monitor's namespace) of the namespace it happened in; absent for its own. */
  nsid?: number;
  /** With allNamespaces: the name of that namespace, where a named one has this id. */
  netns?: string;
}

/** Brackets the objects of a snapshot: what is not in it does not exist. */
export interface SnapshotEvent {
  type: 'snapshot';
  state: 'begin' | 'end';
}

/** The kernel dropped notifications (ENOBUFS), or the consumer fell too far behind. */
export interface OverrunEvent {
  type: 'overrun';
  reason: 'kernel' | 'queue';
}

export type MonitorEvent = ObjectEvent | SnapshotEvent | OverrunEvent;

export interface MonitorOptions {
  /** What to watch; default link, addr, route, neigh, rule, nexthop. */
  groups?: MonitorGroup[];
  /** Start with a snapshot of the current state of those objects (default false). */
  listExisting?: boolean;
  /** After an overrun, dump everything again as a fresh snapshot (default: listExisting). */
  resync?: boolean;
  /** Receive buffer of the monitor's socket, in bytes (default 8 MiB). */
  receiveBufferSize?: number;
  /** Events waiting for a slow iterator before it counts as an overrun (default 100000). */
  maxQueue?: number;
  /**
   * Also events of every other namespace that has an id in this one
   * (NETLINK_LISTEN_ALL_NSID). Snapshots cover this namespace only.
   */
  allNamespaces?: boolean;
  /**
   * With allNamespaces: give every named namespace (/run/netns) that has no
   * id here one, since the kernel only reports namespaces with ids
   * (default true).
   */
  assignIds?: boolean;
  signal?: AbortSignal;
  /** Watch this namespace instead of the handle's. */
  netns?: NetnsRef;
}

interface DumpSpec {
  type: number;
  family: number;
  /** Length of the family header after nlmsghdr. */
  headerLength: number;
}

interface GroupSpec {
  groups: number[];
  dumps: DumpSpec[];
}

const IFINFOMSG = 16;
const IFADDRMSG = 8;
const RTMSG = 12;
const NDMSG = 12;
const FIB_RULE_HDR = 12;
const NHMSG = 8;
const RTGENMSG = 4;
const NETCONFMSG = 4;
const TCMSG = 20;

const d = (type: number, family: number, headerLength: number): DumpSpec => ({ type, family, headerLength });

const GROUPS: Record<MonitorGroup, GroupSpec> = {
  link: { groups: [RTNLGRP_LINK], dumps: [d(RTM_GETLINK, AF_UNSPEC, IFINFOMSG)] },
  addr4: { groups: [RTNLGRP_IPV4_IFADDR], dumps: [d(RTM_GETADDR, AF_INET, IFADDRMSG)] },
  addr6: { groups: [RTNLGRP_IPV6_IFADDR], dumps: [d(RTM_GETADDR, AF_INET6, IFADDRMSG)] },
  addr: {
    groups: [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR],
    dumps: [d(RTM_GETADDR, AF_INET, IFADDRMSG), d(RTM_GETADDR, AF_INET6, IFADDRMSG)],
  },
  route4: { groups: [RTNLGRP_IPV4_ROUTE], dumps: [d(RTM_GETROUTE, AF_INET, RTMSG)] },
  route6: { groups: [RTNLGRP_IPV6_ROUTE], dumps: [d(RTM_GETROUTE, AF_INET6, RTMSG)] },
  route: {
    groups: [RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE],
    dumps: [d(RTM_GETROUTE, AF_INET, RTMSG), d(RTM_GETROUTE, AF_INET6, RTMSG)],
  },
  neigh: { groups: [RTNLGRP_NEIGH], dumps: [d(RTM_GETNEIGH, AF_UNSPEC, NDMSG)] },
  rule4: { groups: [RTNLGRP_IPV4_RULE], dumps: [d(RTM_GETRULE, AF_INET, FIB_RULE_HDR)] },
  rule6: { groups: [RTNLGRP_IPV6_RULE], dumps: [d(RTM_GETRULE, AF_INET6, FIB_RULE_HDR)] },
  rule: {
    groups: [RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE],
    dumps: [d(RTM_GETRULE, AF_INET, FIB_RULE_HDR), d(RTM_GETRULE, AF_INET6, FIB_RULE_HDR)],
  },
  nexthop: { groups: [RTNLGRP_NEXTHOP], dumps: [d(RTM_GETNEXTHOP, AF_UNSPEC, NHMSG)] },
  nsid: { groups: [RTNLGRP_NSID], dumps: [d(RTM_GETNSID, AF_UNSPEC, RTGENMSG)] },
  netconf4: { groups: [RTNLGRP_IPV4_NETCONF], dumps: [d(RTM_GETNETCONF, AF_INET, NETCONFMSG)] },
  netconf6: { groups: [RTNLGRP_IPV6_NETCONF], dumps: [d(RTM_GETNETCONF, AF_INET6, NETCONFMSG)] },
  netconf: {
    groups: [RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF],
    dumps: [d(RTM_GETNETCONF, AF_INET, NETCONFMSG), d(RTM_GETNETCONF, AF_INET6, NETCONFMSG)],
  },
  tc: { groups: [RTNLGRP_TC], dumps: [d(RTM_GETQDISC, AF_UNSPEC, TCMSG)] },
};

const DEFAULT_GROUPS: MonitorGroup[] = ['link', 'addr', 'route', 'neigh', 'rule', 'nexthop'];
const DEFAULT_RCVBUF = 8 * 1024 * 1024;
const DEFAULT_MAX_QUEUE = 100_000;

function buildDumpRequest(spec: DumpSpec): Buffer {
  const w = new Writer(32);
  const start = beginMessage(w, spec.type, NLM_F_REQUEST | NLM_F_DUMP);
  w.u8(spec.family);
  w.zeros(spec.headerLength - 1);
  finishMessage(w, start);
  return w.view();
}

/** The event a message announces, decoded where the library knows the type. */
function decodeEvent(buf: Buffer, off: number, len: number, type: number): ObjectEvent | undefined {
  const decoder = findDecoder(NETLINK_ROUTE, type);
  if (!decoder) {
    const name = RTM_NAMES[type] ?? `type ${type}`;
    return {
      type: /^RTM_DEL/.test(name) ? 'del' : 'new',
      object: name.replace(/^RTM_(NEW|DEL)/, '').toLowerCase(),
      data: buf.toString('hex', off, off + len),
    };
  }
  const data = decoder.decode(buf, off, len);
  return data === undefined ? undefined : { type: decoder.event, object: decoder.object, data };
}

function checkOptions(options: MonitorOptions): { groups: MonitorGroup[]; maxQueue: number } {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const groups = options.groups ?? DEFAULT_GROUPS;
  if (!Array.isArray(groups) || groups.length === 0)
    throw invalidType('options.groups', 'a non-empty array of group names', groups);
  for (const g of groups)
    if (!Object.hasOwn(GROUPS, g))
      throw invalidValue('options.groups', g, `must name groups among ${Object.keys(GROUPS).join(', ')}`);
  for (const key of ['listExisting', 'resync', 'allNamespaces', 'assignIds'] as const)
    if (options[key] !== undefined && typeof options[key] !== 'boolean')
      throw invalidType(`options.${key}`, 'a boolean', options[key]);
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  if (!Number.isInteger(maxQueue) || maxQueue < 1) throw outOfRange('options.maxQueue', '>= 1', maxQueue);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw invalidType('options.signal', 'an AbortSignal', options.signal);
  return { groups, maxQueue };
}

/**
 * A running subscription: an AsyncIterable of events and an EventEmitter
 * ('event', 'overrun', 'error', 'close'). Events wait (bounded by
 * maxQueue) until the first consumer attaches. close(), aborting the
 * signal, or leaving a `for await` loop releases the socket.
 *
 * @example
 * for await (const ev of h.monitor({ groups: ['link'], listExisting: true })) {
 *   if (ev.type === 'snapshot') continue
 *   if (ev.type === 'new' && ev.object === 'link') console.log((ev.data as Link).name, (ev.data as Link).operstate)
 * }
 */
export class Monitor extends EventEmitter implements AsyncIterable<MonitorEvent> {
  private client: NetlinkClient | null;
  private readonly options: MonitorOptions;
  private readonly dumps: DumpSpec[];
  private readonly maxQueue: number;
  private readonly queue: MonitorEvent[] = [];
  private queueHead = 0;
  private waiter: (() => void) | null = null;
  private consumers = 0;
  private iterating = false;
  /** Live events held back while a snapshot is being delivered. */
  private held: ObjectEvent[] | null = null;
  private snapshotting = false;
  private resyncAgain = false;
  private failure: Error | null = null;
  private closed = false;
  private readonly names = new Map<number, string>();
  private refreshingNames = false;
  private readonly onAbort?: () => void;

  /** @internal use monitor() on a handle or the module. */
  constructor(options: MonitorOptions, netnsFd: number) {
    super();
    const { groups, maxQueue } = checkOptions(options);
    this.options = options;
    this.maxQueue = maxQueue;
    const unique = <T>(xs: T[]) => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];
    this.dumps = unique(groups.flatMap((g) => GROUPS[g].dumps));
    if (options.signal?.aborted) throw abortError(options.signal);
    this.client = new NetlinkClient({
      protocol: NETLINK_ROUTE,
      netnsFd,
      receiveBufferSize: options.receiveBufferSize ?? DEFAULT_RCVBUF,
      operationName: (t) => RTM_NAMES[t] ?? `message type ${t}`,
      onNotification: (buf, off, len, type, _flags, nsid) => this.onNotification(buf, off, len, type, nsid),
      onSocketError: (error) => this.onSocketError(error),
    });
    try {
      for (const group of new Set(groups.flatMap((g) => GROUPS[g].groups)))
        this.client.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
      if (options.allNamespaces) this.client.setOption(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1);
    } catch (error) {
      this.client.close();
      throw error;
    }
    this.client.hold(); // a monitor keeps the process alive until closed
    if (options.signal) {
      this.onAbort = () => this.close();
      options.signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.on('newListener', (name: string) => {
      if (name === 'event') this.attach();
    });
    void this.start();
  }

  private async start(): Promise<void> {
    try {
      if (this.options.allNamespaces && this.options.assignIds !== false) await this.assignIds();
      if (this.options.allNamespaces) await this.refreshNames();
      if (this.options.listExisting) await this.snapshot();
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** Dumps the subscribed objects between snapshot markers; live events wait until it ends. */
  private async snapshot(): Promise<void> {
    if (this.snapshotting) {
      this.resyncAgain = true;
      return;
    }
    this.snapshotting = true;
    try {
      do {
        this.resyncAgain = false;
        this.held ??= [];
        const objects: ObjectEvent[] = [];
        for (const spec of this.dumps) {
          const client = this.client;
          if (!client) return;
          const events = await dump(client, buildDumpRequest(spec), (buf, off, len, type) =>
            decodeEvent(buf, off, len, type),
          );
          objects.push(...events);
        }
        if (this.closed) return;
        this.deliver({ type: 'snapshot', state: 'begin' });
        for (const ev of objects) this.deliver(ev);
        this.deliver({ type: 'snapshot', state: 'end' });
        const held = this.held ?? [];
        this.held = null;
        for (const ev of held) this.deliver(ev);
      } while (this.resyncAgain && !this.closed);
    } finally {
      this.snapshotting = false;
      this.held = null;
    }
  }

  private onNotification(buf: Buffer, off: number, len: number, type: number, nsid: number): void {
    let ev: ObjectEvent | undefined;
    try {
      ev = decodeEvent(buf, off, len, type);
    } catch (error) {
      this.emitError(error as Error);
      return;
    }
    if (!ev) return;
    if (nsid >= 0) {
      ev.nsid = nsid;
      const name = this.names.get(nsid);
      if (name !== undefined) ev.netns = name;
      else void this.refreshNames();
    }
    if (this.held) this.held.push(ev);
    else this.deliver(ev);
  }

  private onSocketError(error: NodeJS.ErrnoException): void {
    if (error.code === 'ENOBUFS') this.overrun('kernel');
    else this.emitError(error);
  }

  private overrun(reason: 'kernel' | 'queue'): void {
    this.deliver({ type: 'overrun', reason });
    if (this.options.resync ?? this.options.listExisting ?? false) {
      this.snapshot().catch((error: Error) => this.fail(error));
    }
  }

  private deliver(ev: MonitorEvent): void {
    if (this.closed) return;
    if (ev.type === 'overrun') this.emit('overrun', ev);
    this.emit('event', ev);
    if (!this.iterating && this.consumers > 0) return; // emitter-only consumers: nothing to queue
    if (this.queue.length - this.queueHead >= this.maxQueue && ev.type !== 'overrun') {
      // The consumer is too far behind: drop what waits, say so, and resync if asked.
      this.queue.length = 0;
      this.queueHead = 0;
      this.overrun('queue');
      return;
    }
    this.queue.push(ev);
    this.wake();
  }

  private attach(): void {
    if (this.consumers++ > 0 || this.iterating) return;
    // Events that came before the first listener: hand them over on the next tick.
    const early = this.queue.splice(this.queueHead);
    this.queueHead = 0;
    this.queue.length = 0;
    if (early.length > 0) process.nextTick(() => early.forEach((ev) => this.emit('event', ev)));
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else if (!this.iterating)
      this.emit('error', error); // unhandled, as EventEmitter does
    else this.fail(error);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.failure = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.close();
  }

  /** Ids of named namespaces as seen from the monitor's namespace (nsid -> name). */
  private async refreshNames(): Promise<void> {
    if (this.refreshingNames || !this.client) return;
    this.refreshingNames = true;
    try {
      for (const name of await namedNamespaces()) {
        const id = await this.idOf(name, false);
        if (id !== undefined) this.names.set(id, name);
      }
    } catch (error) {
      this.emitError(error as Error);
    } finally {
      this.refreshingNames = false;
    }
  }

  /** Gives every named namespace without an id here one (the kernel only reports those with ids). */
  private async assignIds(): Promise<void> {
    for (const name of await namedNamespaces()) {
      if ((await this.idOf(name, false)) === undefined) await this.idOf(name, true);
    }
  }

  private async idOf(name: string, assign: boolean): Promise<number | undefined> {
    const client = this.client;
    if (!client) return undefined;
    let fd: number;
    try {
      fd = fs.openSync(`${NETNS_RUN_DIR}/${name}`, 'r');
    } catch {
      return undefined; // deleted meanwhile, or not ours to open
    }
    try {
      if (assign) {
        // EEXIST: another monitor (or ip netns set) was quicker, which is as good.
        await client
          .send(withAutoNsid(fd), { operation: 'RTM_NEWNSID' })
          .catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
        return undefined;
      }
      let nsid: number | undefined;
      await client.send(buildNsidMessage(RTM_GETNSID, fd), {
        operation: 'RTM_GETNSID',
        onReply: (buf, off, len) => {
          nsid = decodeNsidReply(buf, off, len);
        },
      });
      return nsid;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Stops listening and releases the socket; pending iterations end. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.client?.release();
    this.client?.close();
    this.client = null;
    this.wake();
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<MonitorEvent> {
    if (this.iterating) throw new Error('a Monitor can be iterated once; add listeners for more consumers');
    this.iterating = true;
    try {
      for (;;) {
        if (this.queueHead < this.queue.length) {
          const ev = this.queue[this.queueHead++];
          if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
            this.queue.splice(0, this.queueHead);
            this.queueHead = 0;
          }
          yield ev;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.closed) {
          if (this.options.signal?.aborted) throw abortError(this.options.signal);
          return;
        }
        await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.close();
    }
  }
}

/** RTM_NEWNSID asking the kernel to pick the id (NETNSA_NSID -1). */
function withAutoNsid(fd: number): Buffer {
  const msg = buildNsidMessage(RTM_NEWNSID, fd, 0);
  msg.writeInt32LE(-1, msg.length - 4); // the NETNSA_NSID payload is last
  return msg;
}

async function namedNamespaces(): Promise<string[]> {
  try {
    return await fs.promises.readdir(NETNS_RUN_DIR);
  } catch {
    return [];
  }
}
