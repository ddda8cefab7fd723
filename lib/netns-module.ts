/**
 * The module's `netns` namespace object: everything of netns.ts, plus the
 * namespace-id calls, which need a netlink socket and so use the default
 * handle (ids as seen from the namespace the process started in).
 */
import { getDefaultHandle } from './handle';
import type { NetnsRef } from './netns';
import type { NsidOptions } from './nsid';
import type { RequestOptions } from './engine/requests';

export * from './netns';

/**
 * The id the process's home namespace has for `ns` (RTM_GETNSID), or
 * undefined when none is assigned. For another observer use `h.nsid.get`.
 *
 * @example
 * await netns.setId('blue', 5); await netns.getId('blue')   // 5
 */
export function getId(ns: NetnsRef, options?: NsidOptions): Promise<number | undefined> {
  return getDefaultHandle().nsid.get(ns, options);
}

/**
 * Assigns an id to `ns` in the home namespace (RTM_NEWNSID), like
 * `ip netns set NAME ID`. Already assigned: code 'EEXIST'.
 *
 * @example
 * await netns.setId('blue', 5)
 */
export function setId(ns: NetnsRef, id: number, options?: RequestOptions): Promise<void> {
  return getDefaultHandle().nsid.set(ns, id, options);
}
