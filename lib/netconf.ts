/**
 * Per-device IP configuration notifications (RTM_NEWNETCONF /
 * RTM_DELNETCONF: forwarding, rp_filter, proxy_neigh, ...), decoded for the
 * monitor's 'netconf' group, like `ip monitor netconf`.
 */
import { forEachAttribute } from './netlink/attributes';
import {
  AF_INET6,
  NETCONFA_BC_FORWARDING,
  NETCONFA_FORWARDING,
  NETCONFA_IFINDEX,
  NETCONFA_IFINDEX_ALL,
  NETCONFA_IFINDEX_DEFAULT,
  NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN,
  NETCONFA_INPUT,
  NETCONFA_MC_FORWARDING,
  NETCONFA_PROXY_NEIGH,
  NETCONFA_RP_FILTER,
  NETLINK_ROUTE,
  RTM_DELNETCONF,
  RTM_NEWNETCONF,
} from './netlink/constants';
import { checkMessage, NLMSG_HDRLEN } from './netlink/message';
import { registerDecoder } from './registry';

/** One device's (or 'all'/'default') IP settings, as the kernel announces them. */
export interface Netconf {
  family: 4 | 6;
  /** Interface index, or 'all' / 'default' for the conf/all and conf/default sets. */
  index: number | 'all' | 'default';
  forwarding?: number;
  rpFilter?: number;
  mcForwarding?: number;
  proxyNeigh?: number;
  ignoreRoutesWithLinkdown?: number;
  input?: number;
  bcForwarding?: number;
}

const FIELDS: Record<number, keyof Netconf> = {
  [NETCONFA_FORWARDING]: 'forwarding',
  [NETCONFA_RP_FILTER]: 'rpFilter',
  [NETCONFA_MC_FORWARDING]: 'mcForwarding',
  [NETCONFA_PROXY_NEIGH]: 'proxyNeigh',
  [NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN]: 'ignoreRoutesWithLinkdown',
  [NETCONFA_INPUT]: 'input',
  [NETCONFA_BC_FORWARDING]: 'bcForwarding',
};
/** struct netconfmsg: one family byte, padded to 4. */
const NETCONFMSG_LEN = 4;

export function decodeNetconf(buf: Buffer, offset: number, length: number): Netconf {
  checkMessage(buf, offset, length, 1, 'netconf'); // struct netconfmsg is one byte
  const body = offset + NLMSG_HDRLEN;
  const out: Netconf = { family: buf[body] === AF_INET6 ? 6 : 4, index: 0 };
  forEachAttribute(buf, body + NETCONFMSG_LEN, offset + length, (type, _f, at, len) => {
    if (len < 4) return;
    const v = buf.readInt32LE(at);
    if (type === NETCONFA_IFINDEX)
      out.index = v === NETCONFA_IFINDEX_ALL ? 'all' : v === NETCONFA_IFINDEX_DEFAULT ? 'default' : v;
    else if (FIELDS[type]) (out as unknown as Record<string, number>)[FIELDS[type]] = v;
  });
  return out;
}

registerDecoder(NETLINK_ROUTE, RTM_NEWNETCONF, { object: 'netconf', event: 'new', decode: decodeNetconf });
registerDecoder(NETLINK_ROUTE, RTM_DELNETCONF, { object: 'netconf', event: 'del', decode: decodeNetconf });
