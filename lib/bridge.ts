/**
 * Bridge VLAN filtering entries (`bridge vlan`): RTM_SETLINK / RTM_DELLINK
 * with family AF_BRIDGE and IFLA_AF_SPEC holding struct bridge_vlan_info,
 * and an AF_BRIDGE link dump with RTEXT_FILTER_BRVLAN_COMPRESSED to list
 * them. Needs a kernel with CONFIG_BRIDGE_VLAN_FILTERING and a bridge with
 * vlanFiltering: 1 for the entries to take effect.
 */
import { dump, request, type RequestOptions } from './engine/requests';
import { invalidType, invalidValue, outOfRange } from './errors';
import type { LinkApi, LinkContext, LinkRef } from './link';
import { forEachAttribute, Writer } from './netlink/attributes';
import {
  AF_BRIDGE,
  BRIDGE_FLAGS_MASTER,
  BRIDGE_FLAGS_SELF,
  BRIDGE_VLAN_INFO_PVID,
  BRIDGE_VLAN_INFO_RANGE_BEGIN,
  BRIDGE_VLAN_INFO_RANGE_END,
  BRIDGE_VLAN_INFO_UNTAGGED,
  IFLA_AF_SPEC,
  IFLA_BRIDGE_FLAGS,
  IFLA_BRIDGE_VLAN_INFO,
  IFLA_EXT_MASK,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  RTEXT_FILTER_BRVLAN_COMPRESSED,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';

const IFINFOMSG_LEN = 16;
const VID_MAX = 4094;

/** One VLAN entry (or range) of a bridge port or of the bridge itself, as `bridge -j vlan show` lists it. */
export interface BridgeVlan {
  /** Interface index of the port (or bridge). */
  dev: number;
  vid: number;
  /** Last vid of a range. */
  vidEnd?: number;
  /** Untagged frames arriving on the port get this vid. */
  pvid: boolean;
  /** Frames leave the port untagged. */
  untagged: boolean;
}

export interface BridgeVlanSpec {
  dev: LinkRef;
  vid: number;
  vidEnd?: number;
  pvid?: boolean;
  untagged?: boolean;
  /** On the bridge device itself (`self`), rather than through the master (default). */
  self?: boolean;
  /** Through the master as well (with `self`, both). */
  master?: boolean;
}

function checkVid(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidType(argument, 'an integer vid', v);
  if (v < 1 || v > VID_MAX) throw outOfRange(argument, `1-${VID_MAX}`, v);
  return v;
}

function checkSpec(spec: unknown): asserts spec is BridgeVlanSpec {
  if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
  const s = spec as BridgeVlanSpec;
  checkVid(s.vid, 'spec.vid');
  if (s.vidEnd !== undefined && checkVid(s.vidEnd, 'spec.vidEnd') <= s.vid)
    throw invalidValue('spec.vidEnd', s.vidEnd, `must be above spec.vid (${s.vid})`);
  if (s.vidEnd !== undefined && s.pvid) throw invalidValue('spec.pvid', s.pvid, 'cannot apply to a range');
  for (const key of ['pvid', 'untagged', 'self', 'master'] as const)
    if (s[key] !== undefined && typeof s[key] !== 'boolean') throw invalidType(`spec.${key}`, 'a boolean', s[key]);
}

/** RTM_SETLINK (add) or RTM_DELLINK (del) of AF_BRIDGE for port `index`, as `bridge vlan add/del` sends it. */
export function buildBridgeVlanMessage(type: number, index: number, spec: Omit<BridgeVlanSpec, 'dev'>): Buffer {
  const w = new Writer(64);
  const start = beginMessage(w, type, NLM_F_REQUEST | NLM_F_ACK);
  w.u8(AF_BRIDGE);
  w.zeros(3);
  w.s32(index);
  w.u32(0); // flags
  w.u32(0); // change
  const spec_ = w.begin(IFLA_AF_SPEC);
  if (spec.self) w.attrU16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF | (spec.master ? BRIDGE_FLAGS_MASTER : 0));
  let flags = 0;
  if (spec.pvid) flags |= BRIDGE_VLAN_INFO_PVID;
  if (spec.untagged) flags |= BRIDGE_VLAN_INFO_UNTAGGED;
  const info = (f: number, vid: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt16LE(f, 0);
    b.writeUInt16LE(vid, 2);
    w.attr(IFLA_BRIDGE_VLAN_INFO, b);
  };
  if (spec.vidEnd === undefined) info(flags, spec.vid);
  else {
    info(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN, spec.vid);
    info(flags | BRIDGE_VLAN_INFO_RANGE_END, spec.vidEnd);
  }
  w.end(spec_);
  finishMessage(w, start);
  return w.view();
}

/** The AF_BRIDGE link dump that carries VLAN entries (ranges compressed, as `bridge vlan show`). */
export function buildBridgeVlanDump(): Buffer {
  const w = new Writer(48);
  const start = beginMessage(w, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  w.u8(AF_BRIDGE);
  w.zeros(IFINFOMSG_LEN - 1);
  w.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN_COMPRESSED);
  finishMessage(w, start);
  return w.view();
}

/** The VLAN entries of one AF_BRIDGE RTM_NEWLINK. */
export function decodeBridgeVlans(buf: Buffer, offset: number, length: number): BridgeVlan[] {
  checkMessage(buf, offset, length, IFINFOMSG_LEN, 'bridge vlan');
  const body = offset + NLMSG_HDRLEN;
  const dev = buf.readInt32LE(body + 4);
  const out: BridgeVlan[] = [];
  let begin: BridgeVlan | undefined;
  forEachAttribute(buf, body + IFINFOMSG_LEN, offset + length, (type, _f, at, len) => {
    if (type !== IFLA_AF_SPEC) return;
    forEachAttribute(buf, at, at + len, (t, _f2, o, l) => {
      if (t !== IFLA_BRIDGE_VLAN_INFO || l < 4) return;
      const flags = buf.readUInt16LE(o);
      const vid = buf.readUInt16LE(o + 2);
      const entry: BridgeVlan = {
        dev,
        vid,
        pvid: (flags & BRIDGE_VLAN_INFO_PVID) !== 0,
        untagged: (flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0,
      };
      if (flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) begin = entry;
      else if (flags & BRIDGE_VLAN_INFO_RANGE_END && begin) {
        out.push({ ...begin, vidEnd: vid });
        begin = undefined;
      } else out.push(entry);
    });
  });
  return out;
}

/**
 * `bridge.vlan`: VLAN filtering entries of bridge ports.
 *
 * @example
 * await h.link.add({ kind: 'bridge', name: 'br0', vlanFiltering: 1 })
 * await h.bridge.vlan.add({ dev: 'veth0', vid: 10, pvid: true, untagged: true })
 * await h.bridge.vlan.list({ dev: 'veth0' })
 */
export class BridgeVlanApi {
  constructor(private readonly ctx: () => LinkContext & { readonly link: LinkApi }) {}

  /**
   * Every VLAN entry, or a port's.
   *
   * @example
   * const entries = await h.bridge.vlan.list({ dev: 'veth0' })
   */
  async list(filter: { dev?: LinkRef } = {}, options: RequestOptions = {}): Promise<BridgeVlan[]> {
    if (typeof filter !== 'object' || filter === null) throw invalidType('filter', 'an object', filter);
    const dev = filter.dev === undefined ? undefined : await this.ctx().link.indexOf(filter.dev);
    const lists = await dump(
      this.ctx().route(),
      buildBridgeVlanDump(),
      (buf, off, len, type) => (type === RTM_NEWLINK ? decodeBridgeVlans(buf, off, len) : undefined),
      { ...options, operation: 'RTM_GETLINK' },
    );
    return lists.flat().filter((v) => dev === undefined || v.dev === dev);
  }

  /**
   * Adds a VLAN (or range) to a port, like `bridge vlan add dev X vid N [pvid] [untagged]`.
   *
   * @example
   * await h.bridge.vlan.add({ dev: 'veth0', vid: 100, vidEnd: 199 })
   */
  async add(spec: BridgeVlanSpec, options: RequestOptions = {}): Promise<void> {
    await this.send(RTM_SETLINK, spec, options);
  }

  /**
   * Removes a VLAN (or range) from a port.
   *
   * @example
   * await h.bridge.vlan.del({ dev: 'veth0', vid: 100 })
   */
  async del(spec: BridgeVlanSpec, options: RequestOptions = {}): Promise<void> {
    await this.send(RTM_DELLINK, spec, options);
  }

  private async send(type: number, spec: BridgeVlanSpec, options: RequestOptions): Promise<void> {
    checkSpec(spec);
    const index = await this.ctx().link.indexOf(spec.dev);
    await request(this.ctx().route(), buildBridgeVlanMessage(type, index, spec), null, {
      ...options,
      operation: type === RTM_SETLINK ? 'RTM_SETLINK' : 'RTM_DELLINK',
    });
  }
}

/** The `bridge` group: for now its VLAN table. */
export class BridgeApi {
  readonly vlan: BridgeVlanApi;
  constructor(ctx: () => LinkContext & { readonly link: LinkApi }) {
    this.vlan = new BridgeVlanApi(ctx);
  }
}
