/**
 * The shape of the data tables under lib/specs/, generated from the kernel's
 * YNL netlink specifications by scripts/gen-specs.mjs. The codec
 * (lib/netlink/schema.ts) turns them into attribute schemas; nothing here
 * is hand-written per attribute.
 *
 * Names are camelCase of the YNL names ('num-tx-queues' -> 'numTxQueues'),
 * which is also how the public API names kind and link options.
 */

/** Integer types a scalar attribute or struct member can have. */
export type ScalarType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'uint' | 'sint';

/** What an attribute's payload is. Mirrors YNL's attribute types. */
export type AttributeType =
  | ScalarType
  | 'flag'
  | 'string'
  | 'binary'
  | 'nest'
  | 'indexed-array'
  | 'nest-type-value'
  | 'sub-message'
  | 'bitfield32'
  | 'pad'
  | 'unused';

/** How a binary or scalar value is shown: YNL's display-hint. */
export type DisplayHint = 'mac' | 'ipv4' | 'ipv6' | 'ipv4-or-v6' | 'hex' | 'uuid';

export interface AttributeDef {
  /** camelCase name. */
  name: string;
  /** The attribute's type number (nla_type). */
  value: number;
  type: AttributeType;
  /** Scalars in network byte order. */
  byteOrder?: 'big-endian';
  displayHint?: DisplayHint;
  /** Attribute set of a 'nest', 'nest-type-value' or nested 'indexed-array'. */
  nestedAttributes?: string;
  /** Element type of an 'indexed-array' ('nest' or a scalar type). */
  subType?: AttributeType;
  /** Send a 'nest' with NLA_F_NESTED, for attributes whose kernel policy validates strictly. */
  nestedFlag?: boolean;
  /** Number of an 'indexed-array''s first element (default 1, as tc actions need; some kernel code uses 0). */
  indexStart?: number;
  /** Struct layout of a 'binary' payload. */
  struct?: string;
  /** Enum (or flags) that names a scalar's values. */
  enum?: string;
  /** The scalar is a bit mask of the enum's entries. */
  enumAsFlags?: boolean;
  /** The attribute may appear several times: decoded into an array. */
  multiAttr?: boolean;
  /** For 'sub-message': the sub-message table, and the camelCase name of
   * the sibling attribute whose (string or enum) value selects the format. */
  subMessage?: string;
  selector?: string;
  /** Exact or maximum length from the spec's checks, where given. */
  exactLen?: number;
  maxLen?: number;
}

export interface AttributeSetDef {
  name: string;
  attributes: AttributeDef[];
}

export interface StructMemberDef {
  /** camelCase name. */
  name: string;
  /** 'pad' members are skipped when decoding and zero-filled when encoding. */
  type: ScalarType | 'pad' | 'binary';
  /** Byte length of 'pad' and 'binary' members. */
  len?: number;
  byteOrder?: 'big-endian';
  displayHint?: DisplayHint;
  enum?: string;
  enumAsFlags?: boolean;
  /** For 'binary' members holding a nested struct. */
  struct?: string;
}

/** A C struct, members in order, packed as listed (YNL lists pads). */
export interface StructDef {
  name: string;
  members: StructMemberDef[];
}

export interface EnumEntryDef {
  /** The YNL entry name as written (not camelCased), e.g. 'bridge', '8021q'. */
  name: string;
  /** For 'enum': the value. For 'flags': the mask (1 << bit). */
  value: number;
}

export interface EnumDef {
  name: string;
  type: 'enum' | 'flags';
  entries: EnumEntryDef[];
}

export interface SubMessageFormatDef {
  /** The selector value that chooses this format (e.g. 'vxlan'). */
  value: string;
  /** Attribute set of the payload, if it is attributes. */
  attributeSet?: string;
  /** Struct that precedes the attributes (or is the whole payload). */
  fixedHeader?: string;
}

export interface SubMessageDef {
  name: string;
  formats: SubMessageFormatDef[];
}

export interface OperationDef {
  /** camelCase operation name, e.g. 'getlink'. */
  name: string;
  /** Message type numbers of the request and reply, where the spec gives them. */
  requestValue?: number;
  replyValue?: number;
  /** Attribute set and fixed header the operation's messages use. */
  attributeSet?: string;
  fixedHeader?: string;
}

export interface FamilySpecDef {
  /** The spec's name, e.g. 'rt-link'. */
  name: string;
  /** YNL protocol: 'netlink-raw', 'genetlink', 'genetlink-legacy'. */
  protocol: string;
  /** Netlink protocol number for netlink-raw families (0 = NETLINK_ROUTE). */
  protonum?: number;
  /** Fixed header every message of the family starts with, if one is set family-wide. */
  fixedHeader?: string;
  enums: Record<string, EnumDef>;
  structs: Record<string, StructDef>;
  attributeSets: Record<string, AttributeSetDef>;
  subMessages: Record<string, SubMessageDef>;
  operations: OperationDef[];
}
