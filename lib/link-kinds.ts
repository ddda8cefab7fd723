/**
 * Kind tables the kernel's rt-link YNL spec does not carry (vxlan,
 * macvlan/macvtap, ipvlan/ipvtap, xfrm, ip6gretap), in the same shape as
 * the generated ones, so one schema encodes and decodes every kind.
 * Attribute numbers are the uapi constants (linux/if_link.h); types are
 * those of the kernel's netlink policies for each kind.
 *
 * vxlan attributes carry the friendlier names API.md gives them: `vni`
 * (IFLA_VXLAN_ID), `dev` (IFLA_VXLAN_LINK); the unicast/multicast split of
 * IFLA_VXLAN_GROUP[6] into `remote`/`group` and of LOCAL[6] into `local` is
 * done by vxlanToKernel/vxlanFromKernel.
 */
import { invalidType, invalidValue, outOfRange } from './errors';
import { parseIP } from './netlink/address';
import * as c from './netlink/constants';
import type { AttributeSetDef, EnumDef, FamilySpecDef, StructDef, SubMessageFormatDef } from './netlink/spec-types';

const enums: Record<string, EnumDef> = {
  'macvlan-mode': {
    name: 'macvlan-mode',
    type: 'enum',
    entries: [
      { name: 'private', value: c.MACVLAN_MODE_PRIVATE },
      { name: 'vepa', value: c.MACVLAN_MODE_VEPA },
      { name: 'bridge', value: c.MACVLAN_MODE_BRIDGE },
      { name: 'passthru', value: c.MACVLAN_MODE_PASSTHRU },
      { name: 'source', value: c.MACVLAN_MODE_SOURCE },
    ],
  },
  'macvlan-flags': {
    name: 'macvlan-flags',
    type: 'flags',
    entries: [
      { name: 'nopromisc', value: c.MACVLAN_FLAG_NOPROMISC },
      { name: 'nodst', value: c.MACVLAN_FLAG_NODST },
    ],
  },
  'macvlan-macaddr-mode': {
    name: 'macvlan-macaddr-mode',
    type: 'enum',
    entries: [
      { name: 'add', value: c.MACVLAN_MACADDR_ADD },
      { name: 'del', value: c.MACVLAN_MACADDR_DEL },
      { name: 'flush', value: c.MACVLAN_MACADDR_FLUSH },
      { name: 'set', value: c.MACVLAN_MACADDR_SET },
    ],
  },
  'ipvlan-mode': {
    name: 'ipvlan-mode',
    type: 'enum',
    entries: [
      { name: 'l2', value: c.IPVLAN_MODE_L2 },
      { name: 'l3', value: c.IPVLAN_MODE_L3 },
      { name: 'l3s', value: c.IPVLAN_MODE_L3S },
    ],
  },
  'ipvlan-flags': {
    name: 'ipvlan-flags',
    type: 'flags',
    entries: [
      { name: 'private', value: c.IPVLAN_F_PRIVATE },
      { name: 'vepa', value: c.IPVLAN_F_VEPA },
    ],
  },
};

const structs: Record<string, StructDef> = {
  'ifla-vxlan-port-range': {
    name: 'ifla-vxlan-port-range',
    members: [
      { name: 'low', type: 'u16', byteOrder: 'big-endian' },
      { name: 'high', type: 'u16', byteOrder: 'big-endian' },
    ],
  },
};

const attributeSets: Record<string, AttributeSetDef> = {
  'linkinfo-vxlan-attrs': {
    name: 'linkinfo-vxlan-attrs',
    attributes: [
      { name: 'vni', value: c.IFLA_VXLAN_ID, type: 'u32' },
      { name: 'group', value: c.IFLA_VXLAN_GROUP, type: 'binary', displayHint: 'ipv4', exactLen: 4 },
      { name: 'dev', value: c.IFLA_VXLAN_LINK, type: 'u32' },
      { name: 'local', value: c.IFLA_VXLAN_LOCAL, type: 'binary', displayHint: 'ipv4', exactLen: 4 },
      { name: 'ttl', value: c.IFLA_VXLAN_TTL, type: 'u8' },
      { name: 'tos', value: c.IFLA_VXLAN_TOS, type: 'u8' },
      { name: 'learning', value: c.IFLA_VXLAN_LEARNING, type: 'u8' },
      { name: 'ageing', value: c.IFLA_VXLAN_AGEING, type: 'u32' },
      { name: 'limit', value: c.IFLA_VXLAN_LIMIT, type: 'u32' },
      { name: 'portRange', value: c.IFLA_VXLAN_PORT_RANGE, type: 'binary', struct: 'ifla-vxlan-port-range' },
      { name: 'proxy', value: c.IFLA_VXLAN_PROXY, type: 'u8' },
      { name: 'rsc', value: c.IFLA_VXLAN_RSC, type: 'u8' },
      { name: 'l2miss', value: c.IFLA_VXLAN_L2MISS, type: 'u8' },
      { name: 'l3miss', value: c.IFLA_VXLAN_L3MISS, type: 'u8' },
      { name: 'port', value: c.IFLA_VXLAN_PORT, type: 'u16', byteOrder: 'big-endian' },
      { name: 'group6', value: c.IFLA_VXLAN_GROUP6, type: 'binary', displayHint: 'ipv6', exactLen: 16 },
      { name: 'local6', value: c.IFLA_VXLAN_LOCAL6, type: 'binary', displayHint: 'ipv6', exactLen: 16 },
      { name: 'udpCsum', value: c.IFLA_VXLAN_UDP_CSUM, type: 'u8' },
      { name: 'udpZeroCsum6Tx', value: c.IFLA_VXLAN_UDP_ZERO_CSUM6_TX, type: 'u8' },
      { name: 'udpZeroCsum6Rx', value: c.IFLA_VXLAN_UDP_ZERO_CSUM6_RX, type: 'u8' },
      { name: 'remcsumTx', value: c.IFLA_VXLAN_REMCSUM_TX, type: 'u8' },
      { name: 'remcsumRx', value: c.IFLA_VXLAN_REMCSUM_RX, type: 'u8' },
      { name: 'gbp', value: c.IFLA_VXLAN_GBP, type: 'flag' },
      { name: 'remcsumNopartial', value: c.IFLA_VXLAN_REMCSUM_NOPARTIAL, type: 'flag' },
      { name: 'collectMetadata', value: c.IFLA_VXLAN_COLLECT_METADATA, type: 'u8' },
      { name: 'label', value: c.IFLA_VXLAN_LABEL, type: 'u32', byteOrder: 'big-endian' },
      { name: 'gpe', value: c.IFLA_VXLAN_GPE, type: 'flag' },
      { name: 'ttlInherit', value: c.IFLA_VXLAN_TTL_INHERIT, type: 'flag' },
      { name: 'df', value: c.IFLA_VXLAN_DF, type: 'u8' },
      { name: 'vnifilter', value: c.IFLA_VXLAN_VNIFILTER, type: 'u8' },
    ],
  },
  'linkinfo-macvlan-attrs': {
    name: 'linkinfo-macvlan-attrs',
    attributes: [
      { name: 'mode', value: c.IFLA_MACVLAN_MODE, type: 'u32', enum: 'macvlan-mode' },
      { name: 'flags', value: c.IFLA_MACVLAN_FLAGS, type: 'u16', enum: 'macvlan-flags', enumAsFlags: true },
      { name: 'macaddrMode', value: c.IFLA_MACVLAN_MACADDR_MODE, type: 'u32', enum: 'macvlan-macaddr-mode' },
      { name: 'macaddr', value: c.IFLA_MACVLAN_MACADDR, type: 'binary', displayHint: 'mac', exactLen: 6 },
      {
        name: 'macaddrData',
        value: c.IFLA_MACVLAN_MACADDR_DATA,
        type: 'nest',
        nestedAttributes: 'macvlan-macaddr-list',
      },
      { name: 'macaddrCount', value: c.IFLA_MACVLAN_MACADDR_COUNT, type: 'u32' },
      { name: 'bcQueueLen', value: c.IFLA_MACVLAN_BC_QUEUE_LEN, type: 'u32' },
      { name: 'bcQueueLenUsed', value: c.IFLA_MACVLAN_BC_QUEUE_LEN_USED, type: 'u32' },
    ],
  },
  'macvlan-macaddr-list': {
    name: 'macvlan-macaddr-list',
    attributes: [
      {
        name: 'macaddr',
        value: c.IFLA_MACVLAN_MACADDR,
        type: 'binary',
        displayHint: 'mac',
        exactLen: 6,
        multiAttr: true,
      },
    ],
  },
  'linkinfo-ipvlan-attrs': {
    name: 'linkinfo-ipvlan-attrs',
    attributes: [
      { name: 'mode', value: c.IFLA_IPVLAN_MODE, type: 'u16', enum: 'ipvlan-mode' },
      { name: 'flags', value: c.IFLA_IPVLAN_FLAGS, type: 'u16', enum: 'ipvlan-flags', enumAsFlags: true },
    ],
  },
  'linkinfo-xfrm-attrs': {
    name: 'linkinfo-xfrm-attrs',
    attributes: [
      { name: 'dev', value: c.IFLA_XFRM_LINK, type: 'u32' },
      { name: 'ifId', value: c.IFLA_XFRM_IF_ID, type: 'u32' },
      { name: 'collectMetadata', value: c.IFLA_XFRM_COLLECT_METADATA, type: 'flag' },
    ],
  },
};

/** Kinds the YNL spec lacks, and which attribute set their IFLA_INFO_DATA uses. */
const formats: SubMessageFormatDef[] = [
  { value: 'vxlan', attributeSet: 'linkinfo-vxlan-attrs' },
  { value: 'macvlan', attributeSet: 'linkinfo-macvlan-attrs' },
  { value: 'macvtap', attributeSet: 'linkinfo-macvlan-attrs' },
  { value: 'ipvlan', attributeSet: 'linkinfo-ipvlan-attrs' },
  { value: 'ipvtap', attributeSet: 'linkinfo-ipvlan-attrs' },
  { value: 'xfrm', attributeSet: 'linkinfo-xfrm-attrs' },
  // ip6gretap shares ip6gre's attributes, as gretap shares gre's.
  { value: 'ip6gretap', attributeSet: 'linkinfo-gre6-attrs' },
];

/**
 * A kind's own lower-device attribute (IFLA_GRE_LINK, IFLA_IPTUN_LINK, ...)
 * is `dev`, as vxlan's: `link` is always the generic parent (IFLA_LINK).
 * Bond's address lists are numbered from 0, as the kernel numbers them.
 * IFLA_PROP_LIST goes with NLA_F_NESTED.
 */
function adjustGenerated(
  sets: Record<string, AttributeSetDef>,
  kindSets: Set<string>,
): Record<string, AttributeSetDef> {
  const out: Record<string, AttributeSetDef> = {};
  for (const [name, set] of Object.entries(sets)) {
    let attributes = set.attributes;
    if (kindSets.has(name)) attributes = attributes.map((a) => (a.name === 'link' ? { ...a, name: 'dev' } : a));
    // IFLA_PROP_LIST is past ifla_policy's strict_start_type: the kernel wants NLA_F_NESTED (as iproute2 sends it).
    if (name === 'link-attrs')
      attributes = attributes.map((a) => (a.name === 'propList' ? { ...a, nestedFlag: true } : a));
    if (name === 'linkinfo-bond-attrs')
      attributes = attributes.map((a) => (a.type === 'indexed-array' ? { ...a, indexStart: 0 } : a));
    out[name] = attributes === set.attributes ? set : { ...set, attributes };
  }
  return out;
}

/** rt-link with the tables above merged in (the generated spec wins where both define a name). */
export function withKindTables(spec: FamilySpecDef): FamilySpecDef {
  const dataMsg = spec.subMessages['linkinfo-data-msg'];
  const known = new Set(dataMsg.formats.map((f) => f.value));
  const kindSets = new Set(dataMsg.formats.map((f) => f.attributeSet).filter((s): s is string => s !== undefined));
  return {
    ...spec,
    enums: { ...enums, ...spec.enums },
    structs: { ...structs, ...spec.structs },
    attributeSets: { ...attributeSets, ...adjustGenerated(spec.attributeSets, kindSets) },
    subMessages: {
      ...spec.subMessages,
      'linkinfo-data-msg': { ...dataMsg, formats: [...dataMsg.formats, ...formats.filter((f) => !known.has(f.value))] },
    },
  };
}

function isMulticast(bytes: Buffer): boolean {
  return bytes.length === 4 ? (bytes[0] & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

/**
 * vxlan options as users write them (`remote` or `group`, `local`, either
 * family) into the kernel's attributes (GROUP/GROUP6, LOCAL/LOCAL6).
 */
export function vxlanToKernel(options: Record<string, unknown>): Record<string, unknown> {
  const out = { ...options };
  delete out.remote;
  delete out.group;
  delete out.local;
  if (options.remote !== undefined && options.group !== undefined)
    throw invalidValue('spec.remote', options.remote, 'cannot be given with spec.group (one peer or one group)');
  for (const key of ['remote', 'group', 'local'] as const) {
    const text = options[key];
    if (text === undefined) continue;
    if (typeof text !== 'string') throw invalidType(`spec.${key}`, 'an IP address string', text);
    const ip = parseIP(text);
    if (!ip) throw invalidValue(`spec.${key}`, text, 'must be an IPv4 or IPv6 address');
    if (key === 'remote' && isMulticast(ip.bytes))
      throw invalidValue('spec.remote', text, 'is a multicast address: pass it as spec.group');
    if (key === 'group' && !isMulticast(ip.bytes))
      throw invalidValue('spec.group', text, 'is not a multicast address: pass a unicast peer as spec.remote');
    const name = key === 'local' ? 'local' : 'group';
    out[ip.family === 6 ? `${name}6` : name] = text;
  }
  if (options.vni !== undefined) {
    const vni = options.vni;
    if (typeof vni !== 'number' || !Number.isInteger(vni)) throw invalidType('spec.vni', 'an integer', vni);
    if (vni < 0 || vni > 0xffffff) throw outOfRange('spec.vni', '0-16777215 (24 bits)', vni);
  }
  return out;
}

/** The kernel's GROUP/GROUP6/LOCAL/LOCAL6 back to `remote` or `group`, and `local`. */
export function vxlanFromKernel(info: Record<string, unknown>): Record<string, unknown> {
  const out = { ...info };
  for (const key of ['group', 'group6'] as const) {
    const text = info[key];
    delete out[key];
    if (typeof text !== 'string') continue;
    const ip = parseIP(text);
    if (!ip || ip.bytes.every((b) => b === 0)) continue; // the kernel sends 0.0.0.0 / :: for "none"
    out[isMulticast(ip.bytes) ? 'group' : 'remote'] = text;
  }
  for (const key of ['local', 'local6'] as const) {
    const text = info[key];
    delete out[key];
    if (typeof text !== 'string') continue;
    const ip = parseIP(text);
    if (ip && !ip.bytes.every((b) => b === 0)) out.local = text;
  }
  return out;
}
