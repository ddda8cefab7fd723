/**
 * Addresses (IPv4 and IPv6): types, request builders, the decoder, and the
 * `addr` API group. Attributes come from the rt-addr schema tables.
 */
import type { NetlinkClient } from './engine/client';
import { dump, request, stream, type RequestOptions } from './engine/requests';
import { invalidType, invalidValue, outOfRange } from './errors';
import { FamilySchemas } from './netlink/schema';
import { Writer } from './netlink/attributes';
import { formatIP } from './netlink/address';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFA_F_DADFAILED,
  IFA_F_DEPRECATED,
  IFA_F_HOMEADDRESS,
  IFA_F_MANAGETEMPADDR,
  IFA_F_MCAUTOJOIN,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_F_OPTIMISTIC,
  IFA_F_PERMANENT,
  IFA_F_SECONDARY,
  IFA_F_STABLE_PRIVACY,
  IFA_F_TENTATIVE,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
  RT_SCOPE_UNIVERSE,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { registerDecoder } from './registry';
import { addrProtocols, scopes } from './rt-names';
import { cidrArgument, ipArgument } from './inputs';
import { rtAddr } from './specs';
import type { LinkApi, LinkRef } from './link';
import type { MonitorGroup } from './monitor';
import type { NeedsNames } from './batch';
import { waitUntil, type WaitContext, type WaitOptions } from './wait';

/** An address on a link, shaped like one `addr_info` entry of `ip -j addr`. */
export interface Address {
  index: number;
  family: 4 | 6;
  /** The address itself (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6). */
  address: string;
  prefixLength: number;
  /** IFA_LOCAL, where the kernel sent it. */
  local?: string;
  /** The other end of a point-to-point address. */
  peer?: string;
  broadcast?: string;
  label?: string;
  /** 'global', 'site', 'link', 'host', 'nowhere' or a number. */
  scope: string | number;
  /** As `ip` names them: 'secondary', 'nodad', 'permanent', 'noprefixroute', ... */
  flags: string[];
  /** Seconds; 4294967295 is forever (as `ip -j` prints). */
  validLifetime?: number;
  preferredLifetime?: number;
  /** Metric of the prefix route (IFA_RT_PRIORITY). */
  metric?: number;
  /** Who made it (IFA_PROTO): 'kernel_lo', 'kernel_ra', 'kernel_ll', or a number a program chose. */
  protocol?: string | number;
}

export interface AddressOptions {
  /** Point-to-point peer address. */
  peer?: string;
  broadcast?: string;
  label?: string;
  scope?: string | number;
  /** 'nodad', 'noprefixroute', 'mngtmpaddr', 'home', 'autojoin', 'optimistic'. */
  flags?: string[];
  /** Seconds; default forever. */
  validLifetime?: number;
  preferredLifetime?: number;
  /** Metric of the prefix route (IFA_RT_PRIORITY). */
  metric?: number;
  /** Who made it (IFA_PROTO), a name or 0-255; daemons mark their own addresses with it. */
  protocol?: string | number;
}

export interface AddressFilter {
  link?: LinkRef;
  family?: 4 | 6;
  scope?: string | number;
}

export const rtAddrSchemas = new FamilySchemas(rtAddr);
const addrAttrs = () => rtAddrSchemas.attributeSet('addr-attrs');
const IFADDRMSG_LEN = 8;
const FOREVER = 0xffffffff;

// iproute2's names for IFA_F_* bits, in its order.
const FLAG_NAMES: [number, string][] = [
  [IFA_F_SECONDARY, 'secondary'],
  [IFA_F_NODAD, 'nodad'],
  [IFA_F_OPTIMISTIC, 'optimistic'],
  [IFA_F_DADFAILED, 'dadfailed'],
  [IFA_F_HOMEADDRESS, 'home'],
  [IFA_F_DEPRECATED, 'deprecated'],
  [IFA_F_TENTATIVE, 'tentative'],
  [IFA_F_PERMANENT, 'permanent'],
  [IFA_F_MANAGETEMPADDR, 'mngtmpaddr'],
  [IFA_F_NOPREFIXROUTE, 'noprefixroute'],
  [IFA_F_MCAUTOJOIN, 'autojoin'],
  [IFA_F_STABLE_PRIVACY, 'stable-privacy'],
];
const SETTABLE_FLAGS = new Map(
  FLAG_NAMES.filter(([, n]) =>
    ['nodad', 'optimistic', 'home', 'mngtmpaddr', 'noprefixroute', 'autojoin'].includes(n),
  ).map(([bit, n]) => [n, bit]),
);

function addressText(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  const b = v as Buffer;
  return formatIP(b, 0, b.length);
}

/** Decodes one RTM_NEWADDR/RTM_DELADDR message into an Address. */
export function decodeAddress(buf: Buffer, offset: number, length: number): Address {
  checkMessage(buf, offset, length, IFADDRMSG_LEN, 'address');
  const body = offset + NLMSG_HDRLEN;
  const familyNumber = buf[body];
  const a = addrAttrs().decode(buf, body + IFADDRMSG_LEN, offset + length);
  const local = addressText(a.local);
  const ifaAddress = addressText(a.address);
  const flags = (a.flags as unknown) !== undefined ? flagMask(a.flags) : buf[body + 2];
  const out: Address = {
    index: buf.readUInt32LE(body + 4),
    family: familyNumber === AF_INET6 ? 6 : 4,
    address: local ?? ifaAddress ?? '',
    prefixLength: buf[body + 1],
    scope: scopes.name(buf[body + 3]),
    flags: FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n),
  };
  if (local !== undefined) out.local = local;
  if (local !== undefined && ifaAddress !== undefined && ifaAddress !== local) out.peer = ifaAddress;
  const broadcast = addressText(a.broadcast);
  if (broadcast !== undefined) out.broadcast = broadcast;
  if (a.label !== undefined) out.label = a.label as string;
  const cache = a.cacheinfo as { ifaValid?: number; ifaPrefered?: number } | undefined;
  if (cache?.ifaValid !== undefined) out.validLifetime = cache.ifaValid;
  if (cache?.ifaPrefered !== undefined) out.preferredLifetime = cache.ifaPrefered;
  if (a.rtPriority !== undefined) out.metric = a.rtPriority as number;
  if (a.proto !== undefined) out.protocol = addrProtocols.name(a.proto as number);
  return out;
}

/** IFA_FLAGS decodes to names (the spec's); back to the mask. */
function flagMask(v: unknown): number {
  if (typeof v === 'number') return v;
  return rtAddrSchemas.enumCodec('ifa-flags').mask('flags', v);
}

/** '10.0.0.1/24', or { address, prefixLength } (an Address from list() too: its peer then names it exactly). */
export type AddressCidr = string | { address: string; prefixLength: number; peer?: string };

/** Builds RTM_NEWADDR / RTM_DELADDR for one address. */
export function buildAddressMessage(
  type: number,
  flags: number,
  index: number,
  cidr: AddressCidr,
  options: AddressOptions = {},
): Buffer {
  const w = new Writer(128);
  writeAddressMessage(w, type, flags, index, cidr, options);
  return w.view();
}

/** Appends an RTM_NEWADDR/RTM_DELADDR message to `w` (a batch's chunk, or a message of its own). */
export function writeAddressMessage(
  w: Writer,
  type: number,
  flags: number,
  index: number,
  cidr: AddressCidr,
  options: AddressOptions = {},
): void {
  const p = cidrArgument(cidr, 'address');
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  let ifaFlags = 0;
  for (const f of options.flags ?? []) {
    const bit = SETTABLE_FLAGS.get(f);
    if (bit === undefined)
      throw invalidValue('options.flags', f, `must be one of ${[...SETTABLE_FLAGS.keys()].join(', ')}`);
    ifaFlags |= bit;
  }
  const attrs: Record<string, unknown> = {};
  if (p.family === 4) {
    attrs.local = p.bytes;
    attrs.address = options.peer !== undefined ? ipArgument(options.peer, 4, 'options.peer').bytes : p.bytes;
  } else {
    attrs.address = p.bytes;
    if (options.peer !== undefined) {
      attrs.local = p.bytes;
      attrs.address = ipArgument(options.peer, 6, 'options.peer').bytes;
    }
  }
  if (options.broadcast !== undefined)
    attrs.broadcast = ipArgument(options.broadcast, p.family, 'options.broadcast').bytes;
  if (options.label !== undefined) {
    if (typeof options.label !== 'string') throw invalidType('options.label', 'a string', options.label);
    attrs.label = options.label;
  }
  if (options.validLifetime !== undefined || options.preferredLifetime !== undefined) {
    const valid = lifetime(options.validLifetime, 'options.validLifetime');
    const preferred = lifetime(options.preferredLifetime ?? valid, 'options.preferredLifetime');
    if (preferred > valid) throw outOfRange('options.preferredLifetime', `<= validLifetime (${valid})`, preferred);
    attrs.cacheinfo = { ifaValid: valid, ifaPrefered: preferred };
  }
  if (ifaFlags > 0xff) attrs.flags = ifaFlags;
  if (options.metric !== undefined) attrs.rtPriority = lifetime(options.metric, 'options.metric');
  if (options.protocol !== undefined) attrs.proto = addrProtocols.value(options.protocol, 'options.protocol');
  const scope = options.scope === undefined ? RT_SCOPE_UNIVERSE : scopes.value(options.scope, 'options.scope');
  const start = beginMessage(w, type, flags);
  w.u8(p.family === 4 ? AF_INET : AF_INET6);
  w.u8(p.prefixLength);
  w.u8(ifaFlags & 0xff);
  w.u8(scope);
  w.u32(index);
  addrAttrs().encode(w, attrs);
  finishMessage(w, start);
}

function lifetime(v: unknown, argument: string): number {
  if (v === undefined) return FOREVER;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer number of seconds', v);
  if (v < 0 || v > FOREVER) throw outOfRange(argument, '>= 0 and <= 4294967295', v);
  return v;
}

export interface AddrContext extends WaitContext {
  route(): NetlinkClient;
  readonly link: LinkApi;
}

/** The state addr.waitFor() waits for. */
export interface AddressWaitState {
  /** The address exists (default true); false waits for it to be gone. */
  present?: boolean;
  /** false (the default) waits until IPv6 duplicate address detection is over; true for while it runs. */
  tentative?: boolean;
}

/**
 * The `addr` group.
 *
 * @example
 * await h.addr.add('veth0', '10.0.0.1/24')
 * const mine = await h.addr.list({ link: 'veth0', family: 4 })
 */
export class AddrApi {
  constructor(private readonly ctx: () => AddrContext) {}

  /**
   * Adds an address. Existing: code 'EEXIST'.
   *
   * @example
   * await nl.addr.add('eth0', '2001:db8::1/64', { flags: ['nodad'] })
   */
  /**
   * @internal For batch(): the socket a call's request goes to when the
   * batch may build it itself (add/replace/del of a link by name or valid
   * index, without a signal of their own), else undefined.
   */
  canPrepare(method: string, args: unknown[]): NetlinkClient | undefined {
    const [ref] = args as [LinkRef];
    if (method !== 'add' && method !== 'replace' && method !== 'del') return undefined;
    if (
      typeof ref !== 'string' &&
      (typeof ref !== 'number' || !Number.isInteger(ref) || ref <= 0 || ref > 0x7fffffff)
    ) {
      return undefined; // the call path refuses it properly
    }
    if ((args[method === 'del' ? 2 : 3] as RequestOptions | undefined)?.signal) return undefined;
    return this.ctx().route();
  }

  /** @internal For batch(): appends the call's request to `out` (see lib/batch.ts Preparer). */
  prepareBatch(
    method: string,
    args: unknown[],
    out: Writer,
    names: ReadonlyMap<string, number>,
  ): NeedsNames | undefined {
    const [ref, cidr] = args as [LinkRef, AddressCidr];
    let link: number;
    if (typeof ref === 'string') {
      const index = names.get(ref);
      if (index === undefined) return { needs: [ref] };
      link = index;
    } else link = ref;
    if (method === 'del') {
      const peer = typeof cidr === 'object' && cidr !== null ? cidr.peer : undefined;
      writeAddressMessage(out, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, link, cidr, peer ? { peer } : {});
    } else {
      const options = (args[2] as AddressOptions | undefined) ?? {};
      const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | (method === 'add' ? NLM_F_EXCL : NLM_F_REPLACE);
      writeAddressMessage(out, RTM_NEWADDR, flags, link, cidr, options);
    }
    return undefined;
  }

  async add(link: LinkRef, cidr: AddressCidr, options: AddressOptions = {}, req: RequestOptions = {}): Promise<void> {
    const index = await this.ctx().link.indexOf(link);
    const message = buildAddressMessage(
      RTM_NEWADDR,
      NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      index,
      cidr,
      options,
    );
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_NEWADDR' });
  }

  /**
   * Adds the address, or updates it (lifetimes, flags) if it exists.
   *
   * @example
   * await nl.addr.replace('eth0', '10.0.0.1/24', { validLifetime: 600 })
   */
  async replace(
    link: LinkRef,
    cidr: AddressCidr,
    options: AddressOptions = {},
    req: RequestOptions = {},
  ): Promise<void> {
    const index = await this.ctx().link.indexOf(link);
    const message = buildAddressMessage(
      RTM_NEWADDR,
      NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
      index,
      cidr,
      options,
    );
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_NEWADDR' });
  }

  /**
   * Removes an address. A point-to-point address is named with its peer
   * (the kernel matches IPv4 addresses by peer): pass the Address from
   * list(), or { address, prefixLength, peer }. Missing: code 'EADDRNOTAVAIL'.
   *
   * @example
   * await nl.addr.del('eth0', '10.0.0.1/24')
   * for (const a of await h.addr.list({ link: 'ppp0' })) await h.addr.del('ppp0', a)
   */
  async del(link: LinkRef, cidr: AddressCidr, req: RequestOptions = {}): Promise<void> {
    const peer = typeof cidr === 'object' && cidr !== null ? cidr.peer : undefined;
    const index = await this.ctx().link.indexOf(link);
    const message = buildAddressMessage(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, index, cidr, peer ? { peer } : {});
    await request(this.ctx().route(), message, null, { ...req, operation: 'RTM_DELADDR' });
  }

  /**
   * Resolves when the address is on the link in the given state, at once
   * if it already is: by default present and past IPv6 duplicate address
   * detection, so it can be bound. An address whose DAD failed rejects
   * with code 'EADDRNOTAVAIL'; a timeout with 'ERR_RTNL_TIMEOUT'.
   *
   * @example
   * await h.addr.add('eth0', '2001:db8::1/64')
   * await h.addr.waitFor('eth0', '2001:db8::1', {}, { timeout: 5000 })   // now bind() works
   */
  async waitFor(
    link: LinkRef,
    address: string,
    state: AddressWaitState = {},
    options: WaitOptions = {},
  ): Promise<Address | undefined> {
    const ip = ipArgument(typeof address === 'string' ? address.split('/')[0] : address, undefined, 'address');
    if (typeof state !== 'object' || state === null) throw invalidType('state', 'an object', state);
    const present = state.present ?? true;
    const tentative = state.tentative ?? false;
    const index = await this.ctx().link.indexOf(link);
    const text = formatIP(ip.bytes, 0, ip.bytes.length);
    const look = async (): Promise<{ a: Address | undefined } | undefined> => {
      const found = (await this.list({ link: index, family: ip.family })).find((a) => a.address === text);
      if (!present) return found === undefined ? { a: undefined } : undefined;
      if (!found) return undefined;
      if (found.flags.includes('dadfailed') && !tentative) {
        const error = new Error(`duplicate address detection failed for ${text}`) as Error & { code: string };
        error.code = 'EADDRNOTAVAIL';
        throw error;
      }
      return found.flags.includes('tentative') === tentative ? { a: found } : undefined;
    };
    const groups: MonitorGroup[] = [ip.family === 6 ? 'addr6' : 'addr4'];
    return (await waitUntil(this.ctx(), groups, `address ${text} on ${link}`, look, options)).a;
  }

  /**
   * Addresses, all or filtered by link, family and scope.
   *
   * @example
   * for (const a of await nl.addr.list({ family: 6 })) console.log(a.address, a.scope)
   */
  async list(filter: AddressFilter = {}, req: RequestOptions = {}): Promise<Address[]> {
    const { message, accept } = await this.dumpRequest(filter);
    return dump(this.ctx().route(), message, (b, o, l) => keep(decodeAddress(b, o, l), accept), {
      ...req,
      operation: 'RTM_GETADDR',
    });
  }

  /**
   * list() as an async iterable, decoded as datagrams arrive.
   *
   * @example
   * for await (const a of h.addr.stream({ family: 4 })) console.log(a.address)
   */
  async *stream(filter: AddressFilter = {}, req: RequestOptions = {}): AsyncIterable<Address> {
    const { message, accept } = await this.dumpRequest(filter);
    yield* stream(this.ctx().route(), message, (b, o, l) => keep(decodeAddress(b, o, l), accept), {
      ...req,
      operation: 'RTM_GETADDR',
    });
  }

  /**
   * Removes every address of a link (or of every link), optionally of one family.
   * Returns how many went.
   */
  async flush(link?: LinkRef, filter: Omit<AddressFilter, 'link'> = {}): Promise<number> {
    const addresses = await this.list({ ...filter, ...(link === undefined ? {} : { link }) });
    // Secondary addresses go with their primary: delete secondaries first.
    addresses.sort((a, b) => Number(b.flags.includes('secondary')) - Number(a.flags.includes('secondary')));
    let n = 0;
    for (const a of addresses) {
      const message = buildAddressMessage(
        RTM_DELADDR,
        NLM_F_REQUEST | NLM_F_ACK,
        a.index,
        `${a.address}/${a.prefixLength}`,
        a.peer ? { peer: a.peer } : {},
      );
      await request(this.ctx().route(), message, null, { operation: 'RTM_DELADDR' }).then(
        () => n++,
        (error: { code?: string }) => {
          if (error.code !== 'EADDRNOTAVAIL') throw error;
        },
      );
    }
    return n;
  }

  private async dumpRequest(filter: AddressFilter): Promise<{ message: Buffer; accept: (a: Address) => boolean }> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    if (filter.family !== undefined && filter.family !== 4 && filter.family !== 6) {
      throw invalidValue('filter.family', filter.family, 'must be 4 or 6');
    }
    const scope = filter.scope === undefined ? undefined : scopes.value(filter.scope, 'filter.scope');
    const index = filter.link === undefined ? 0 : await this.ctx().link.indexOf(filter.link);
    const w = new Writer(32);
    const start = beginMessage(w, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP);
    w.u8(filter.family === 4 ? AF_INET : filter.family === 6 ? AF_INET6 : AF_UNSPEC);
    w.u8(0);
    w.u8(0);
    w.u8(0);
    w.u32(index); // with strict checking the kernel filters by link itself
    finishMessage(w, start);
    const accept = (a: Address) =>
      (index === 0 || a.index === index) &&
      (filter.family === undefined || a.family === filter.family) &&
      (scope === undefined || a.scope === scopes.name(scope));
    return { message: w.view(), accept };
  }
}

function keep(a: Address, accept: (a: Address) => boolean): Address | undefined {
  return accept(a) ? a : undefined;
}

registerDecoder(NETLINK_ROUTE, RTM_NEWADDR, { object: 'addr', event: 'new', decode: decodeAddress });
registerDecoder(NETLINK_ROUTE, RTM_DELADDR, { object: 'addr', event: 'del', decode: decodeAddress });
