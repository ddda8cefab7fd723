/**
 * rtnl: own a Linux network stack from Node.js over netlink.
 *
 * @example
 * import * as nl from 'rtnl'
 * for (const l of await nl.link.list()) console.log(l.index, l.name, l.operstate)
 * await nl.close()
 */
import { getDefaultHandle, type Handle } from './handle';
import { AddrApi } from './addr';
import { LinkApi } from './link';
import * as netns from './netns-module';
import { SysctlApi } from './sysctl';
import { NexthopApi } from './nexthop';
import { RouteApi } from './route';
import { BridgeApi } from './bridge';
import { NeighApi } from './neigh';
import { RuleApi } from './rule';
import { TcApi } from './tc';
import { NftApi } from './nft';
import * as codec from './codec';

export { open, close, Handle, type OpenOptions, type RawRequest, type RawReply } from './handle';
export { NetlinkError, DumpInterruptedError, DecodeError } from './errors';
export type { ExtackDetails } from './errors';
export type { Link, LinkStats, LinkSpec, LinkChanges, LinkFilter, LinkRef, VethPeerSpec } from './link';
export type { ProbeResult } from './probe';
export { TunQueue, type TunSpec, type TunOpenOptions } from './tun';
export type { Address, AddressOptions, AddressFilter, AddressCidr } from './addr';
export type {
  Nexthop,
  NexthopSpec,
  NexthopFilter,
  NexthopGroupMember,
  NexthopGroupMemberSpec,
  NexthopResilientParams,
  NexthopBucket,
  NexthopBucketFilter,
} from './nexthop';
export type {
  Route,
  RouteType,
  RouteSpec,
  RouteFilter,
  RouteGetOptions,
  RouteMetrics,
  RouteNexthop,
  RouteNexthopSpec,
  RouteEncap,
  MplsEncap,
  Seg6Encap,
  RawEncap,
} from './route';
export type { Rule, RuleSpec, RuleFilter, Range } from './rule';
export type { Neighbour, NeighbourSpec, NeighbourFilter } from './neigh';
export type {
  Qdisc,
  TcClass,
  TcFilter,
  QdiscSpec,
  QdiscRef,
  QdiscFilter,
  ClassSpec,
  ClassRef,
  ClassFilter,
  FilterSpec,
  FilterRef,
  FilterFilter,
  ActionRef,
  TcAction,
  TcActionInfo,
  TcStats,
  Verdict,
  U32Match,
  U32Key,
  ClassicBpfInstruction,
  ServiceCurve,
} from './tc';
export { NftTransactionError } from './nft';
export type {
  NftFamily,
  NftTable,
  NftChain,
  NftRule,
  NftRuleBody,
  NftMatch,
  NftSet,
  NftElement,
  NftObject,
  NftRuleset,
  NftOperation,
  NftApplyOptions,
  NftExpression,
  NftNat,
  NftLimit,
  NftLog,
  NftReject,
} from './nft';
export { NetNS, type NetnsRef, type ExecResult } from './netns';
export { withTemporaryNamespace } from './testing';
export type { SysctlValue } from './sysctl';
export { Monitor } from './monitor';
export type { BatchResult, BatchOptions, Batched } from './batch';
export type { BatchGroups } from './handle';
export type { MonitorEvent, MonitorGroup, MonitorOptions, ObjectEvent, SnapshotEvent, OverrunEvent } from './monitor';
export type { Netconf } from './netconf';
export type { NsidEvent } from './nsid';
export type { BridgeVlan, BridgeVlanSpec } from './bridge';
export type { NsidOptions } from './nsid';
export { netns, codec };

/** The link group on the default handle (the namespace the process started in). */
export const link: LinkApi = new LinkApi(() => getDefaultHandle().context);

/** The addr group on the default handle. */
export const addr: AddrApi = new AddrApi(() => getDefaultHandle().context);

/** The route group on the default handle. */
export const route: RouteApi = new RouteApi(() => getDefaultHandle().context);

/** The bridge group (VLAN entries) on the default handle. */
export const bridge: BridgeApi = new BridgeApi(() => getDefaultHandle().context);

/** The sysctl group on the default handle: network sysctls of the home namespace. */
export const sysctl: SysctlApi = new SysctlApi(() => getDefaultHandle().context);
/** The nexthop group on the default handle. */
export const nexthop: NexthopApi = new NexthopApi(() => getDefaultHandle().context);

/** The rule group (policy routing rules) on the default handle. */
export const rule: RuleApi = new RuleApi(() => getDefaultHandle().context);

/** The neigh group (ARP/NDP entries and the bridge FDB) on the default handle. */
export const neigh: NeighApi = new NeighApi(() => getDefaultHandle().context);

/** The tc group (qdisc, class, filter, action) on the default handle. */
export const tc: TcApi = new TcApi(() => getDefaultHandle().context);

/**
 * h.monitor() on the default handle: events of the namespace the process started in.
 *
 * @example
 * for await (const ev of nl.monitor({ groups: ['link'] })) console.log(ev)
 */
export function monitor(...args: Parameters<Handle['monitor']>): ReturnType<Handle['monitor']> {
  return getDefaultHandle().monitor(...args);
}

/**
 * h.batch() on the default handle: many requests pipelined, results in order.
 *
 * @example
 * const results = await nl.batch((b) => { for (const a of addrs) b.addr.add('eth0', a) })
 */
export function batch(...args: Parameters<Handle['batch']>): ReturnType<Handle['batch']> {
  return getDefaultHandle().batch(...args);
}
/** The nft group (nftables) on the default handle. */
export const nft: NftApi = new NftApi(() => getDefaultHandle().context);

/** h.request() on the default handle: the escape hatch. */
export function request(...args: Parameters<Handle['request']>): ReturnType<Handle['request']> {
  return getDefaultHandle().request(...args);
}

/** h.probe() on the default handle. */
export function probe(): ReturnType<Handle['probe']> {
  return getDefaultHandle().probe();
}
