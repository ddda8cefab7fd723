/**
 * The names iproute2 prints for rtnetlink's small enums (scopes, route
 * protocols, tables, route types), both ways. Shared by addr, route,
 * rule and nexthop, so each prints exactly what `ip -j` prints and
 * accepts the same words back. Values iproute2 has no name for stay numbers.
 */
import { invalidType, invalidValue } from './errors';
import * as c from './netlink/constants';

/** A two-way map between small kernel numbers and their iproute2 names. */
export class NameTable {
  private readonly byValue: Map<number, string>;
  private readonly byName: Map<string, number>;

  constructor(
    readonly what: string,
    entries: [number, string][],
    private readonly max: number,
  ) {
    this.byValue = new Map(entries);
    this.byName = new Map(entries.map(([v, n]) => [n, v]));
  }

  /** The name of `value`, or the number itself when it has none. */
  name(value: number): string | number {
    return this.byValue.get(value) ?? value;
  }

  /** A name or an in-range integer to its number; anything else is a TypeError/RangeError naming `argument`. */
  value(input: unknown, argument: string): number {
    if (typeof input === 'number') {
      if (Number.isInteger(input) && input >= 0 && input <= this.max) return input;
      throw invalidValue(argument, input, `must be a ${this.what} name or an integer 0-${this.max}`);
    }
    if (typeof input !== 'string') throw invalidType(argument, `a ${this.what} name or number`, input);
    const v = this.byName.get(input);
    if (v !== undefined) return v;
    if (/^\d+$/.test(input)) return this.value(Number(input), argument);
    throw invalidValue(argument, input, `must be one of ${[...this.byName.keys()].join(', ')} or 0-${this.max}`);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** rtm_scope / ifa_scope (rtnetlink.h RT_SCOPE_*; iproute2 rt_scopes). */
export const scopes = new NameTable(
  'scope',
  [
    [c.RT_SCOPE_UNIVERSE, 'global'],
    [c.RT_SCOPE_SITE, 'site'],
    [c.RT_SCOPE_LINK, 'link'],
    [c.RT_SCOPE_HOST, 'host'],
    [c.RT_SCOPE_NOWHERE, 'nowhere'],
  ],
  255,
);

/** rtm_protocol (RTPROT_*; iproute2 rt_protos, which names 17 nothing). */
export const protocols = new NameTable(
  'protocol',
  [
    [c.RTPROT_UNSPEC, 'unspec'],
    [c.RTPROT_REDIRECT, 'redirect'],
    [c.RTPROT_KERNEL, 'kernel'],
    [c.RTPROT_BOOT, 'boot'],
    [c.RTPROT_STATIC, 'static'],
    [c.RTPROT_GATED, 'gated'],
    [c.RTPROT_RA, 'ra'],
    [c.RTPROT_MRT, 'mrt'],
    [c.RTPROT_ZEBRA, 'zebra'],
    [c.RTPROT_BIRD, 'bird'],
    [c.RTPROT_DNROUTED, 'dnrouted'],
    [c.RTPROT_XORP, 'xorp'],
    [c.RTPROT_NTK, 'ntk'],
    [c.RTPROT_DHCP, 'dhcp'],
    [c.RTPROT_KEEPALIVED, 'keepalived'],
    [c.RTPROT_BABEL, 'babel'],
    [c.RTPROT_OPENR, 'openr'],
    [c.RTPROT_BGP, 'bgp'],
    [c.RTPROT_ISIS, 'isis'],
    [c.RTPROT_OSPF, 'ospf'],
    [c.RTPROT_RIP, 'rip'],
    [c.RTPROT_EIGRP, 'eigrp'],
  ],
  255,
);

/** Routing table ids (RT_TABLE_*; iproute2 rt_tables). Full u32: rtm_table holds only 8 bits, RTA_TABLE all 32. */
export const tables = new NameTable(
  'table',
  [
    [c.RT_TABLE_UNSPEC, 'unspec'],
    [c.RT_TABLE_DEFAULT, 'default'],
    [c.RT_TABLE_MAIN, 'main'],
    [c.RT_TABLE_LOCAL, 'local'],
  ],
  0xffffffff,
);

/** rtm_type (RTN_*). */
export const routeTypes = new NameTable(
  'route type',
  [
    [c.RTN_UNSPEC, 'none'],
    [c.RTN_UNICAST, 'unicast'],
    [c.RTN_LOCAL, 'local'],
    [c.RTN_BROADCAST, 'broadcast'],
    [c.RTN_ANYCAST, 'anycast'],
    [c.RTN_MULTICAST, 'multicast'],
    [c.RTN_BLACKHOLE, 'blackhole'],
    [c.RTN_UNREACHABLE, 'unreachable'],
    [c.RTN_PROHIBIT, 'prohibit'],
    [c.RTN_THROW, 'throw'],
    [c.RTN_NAT, 'nat'],
    [c.RTN_XRESOLVE, 'xresolve'],
  ],
  255,
);

/** ifa_proto (IFA_PROTO; IFAPROT_*; iproute2 rt_addrprotos): who made an address. */
export const addrProtocols = new NameTable(
  'address protocol',
  [
    [c.IFAPROT_UNSPEC, 'unspec'],
    [c.IFAPROT_KERNEL_LO, 'kernel_lo'],
    [c.IFAPROT_KERNEL_RA, 'kernel_ra'],
    [c.IFAPROT_KERNEL_LL, 'kernel_ll'],
  ],
  255,
);
