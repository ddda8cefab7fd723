/**
 * Alternative interface names (RTM_NEWLINKPROP / RTM_DELLINKPROP with
 * IFLA_PROP_LIST): up to 127 bytes, usable wherever a link name is, like
 * `ip link property add dev X altname NAME`.
 */
import { request, type RequestOptions } from './engine/requests';
import { invalidType } from './errors';
import { buildLinkMessage, validateLinkName, type LinkApi, type LinkContext, type LinkRef } from './link';
import {
  ALTIFNAMSIZ,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_DELLINKPROP,
  RTM_NEWLINKPROP,
} from './netlink/constants';

function checkNames(names: unknown): string[] {
  const list = typeof names === 'string' ? [names] : names;
  if (!Array.isArray(list) || list.length === 0)
    throw invalidType('names', 'a name or a non-empty array of names', names);
  list.forEach((n, i) => validateLinkName(n, `names[${i}]`, ALTIFNAMSIZ));
  return list as string[];
}

/** Builds RTM_NEWLINKPROP / RTM_DELLINKPROP for the link with `index`. */
export function buildAltNameMessage(type: number, index: number, names: string[]): Buffer {
  const flags = NLM_F_REQUEST | NLM_F_ACK | (type === RTM_NEWLINKPROP ? NLM_F_CREATE | NLM_F_EXCL | NLM_F_APPEND : 0);
  return buildLinkMessage(type, flags, { index }, { propList: { altIfname: names } });
}

/**
 * `link.altNames`: add, delete and list alternative names.
 *
 * @example
 * await h.link.altNames.add('eth0', 'uplink-to-the-datacenter-core')
 * await h.link.get('uplink-to-the-datacenter-core')   // the same link
 */
export class AltNameApi {
  constructor(
    private readonly ctx: () => LinkContext,
    private readonly links: LinkApi,
  ) {}

  /**
   * Adds one or more alternative names. A name in use rejects with code 'EEXIST'.
   *
   * @example
   * await h.link.altNames.add('veth0', ['to-red', 'red-uplink'])
   */
  async add(ref: LinkRef, names: string | string[], options: RequestOptions = {}): Promise<void> {
    await this.send(RTM_NEWLINKPROP, ref, checkNames(names), options);
  }

  /**
   * Deletes alternative names. A name the link does not have rejects with code 'ENOENT'.
   *
   * @example
   * await h.link.altNames.del('veth0', 'to-red')
   */
  async del(ref: LinkRef, names: string | string[], options: RequestOptions = {}): Promise<void> {
    await this.send(RTM_DELLINKPROP, ref, checkNames(names), options);
  }

  /**
   * The link's alternative names, in the order the kernel keeps them.
   *
   * @example
   * const names = await h.link.altNames.list('veth0')
   */
  async list(ref: LinkRef, options: RequestOptions = {}): Promise<string[]> {
    return (await this.links.get(ref, options)).altNames ?? [];
  }

  private async send(type: number, ref: LinkRef, names: string[], options: RequestOptions): Promise<void> {
    const index = await this.links.indexOf(ref);
    await request(this.ctx().route(), buildAltNameMessage(type, index, names), null, {
      ...options,
      operation: type === RTM_NEWLINKPROP ? 'RTM_NEWLINKPROP' : 'RTM_DELLINKPROP',
    });
  }
}
