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
import { NeighApi } from './neigh';
import { RuleApi } from './rule';
import * as netns from './netns';
import * as codec from './codec';

export { open, close, Handle, type OpenOptions, type RawRequest, type RawReply } from './handle';
export { NetlinkError, DumpInterruptedError, DecodeError } from './errors';
export type { ExtackDetails } from './errors';
export type { Link, LinkStats, LinkSpec, LinkChanges, LinkFilter, LinkRef, VethPeerSpec } from './link';
export type { ProbeResult } from './probe';
export type { Address, AddressOptions, AddressFilter, AddressCidr } from './addr';
export type { Rule, RuleSpec, RuleFilter, Range } from './rule';
export type { Neighbour, NeighbourSpec, NeighbourFilter } from './neigh';
export { NetNS, type NetnsRef, type ExecResult } from './netns';
export { withTemporaryNamespace } from './testing';
export { netns, codec };

/** The link group on the default handle (the namespace the process started in). */
export const link: LinkApi = new LinkApi(() => getDefaultHandle());

/** The addr group on the default handle. */
export const addr: AddrApi = new AddrApi(() => getDefaultHandle());

/** The rule group (policy routing rules) on the default handle. */
export const rule: RuleApi = new RuleApi(() => getDefaultHandle());

/** The neigh group (ARP/NDP entries and the bridge FDB) on the default handle. */
export const neigh: NeighApi = new NeighApi(() => getDefaultHandle());

/** h.request() on the default handle: the escape hatch. */
export function request(...args: Parameters<Handle['request']>): ReturnType<Handle['request']> {
  return getDefaultHandle().request(...args);
}

/** h.probe() on the default handle. */
export function probe(): ReturnType<Handle['probe']> {
  return getDefaultHandle().probe();
}
