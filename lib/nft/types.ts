/**
 * The nftables object model: what `nft.list()` returns and what
 * `nft.apply()` takes. Names follow `nft` (families, hooks, types,
 * verdicts); rules are typed objects, not expression lists.
 */
import type { NftFamily } from './names';

export type { NftFamily };

/** A table, as in `nft list tables`. */
export interface NftTable {
  family: NftFamily;
  name: string;
  handle: number;
  /** 'dormant', 'owner', 'persist'. */
  flags: string[];
  /** How many chains, sets and objects it holds (NFTA_TABLE_USE). */
  use?: number;
}

export type NftVerdictName = 'accept' | 'drop' | 'continue' | 'return' | 'jump' | 'goto' | 'reject';

/** A base chain has type, hook and priority; a regular chain has none of them. */
export interface NftChain {
  family: NftFamily;
  table: string;
  name: string;
  handle: number;
  type?: 'filter' | 'nat' | 'route';
  hook?: string;
  priority?: number;
  policy?: 'accept' | 'drop';
  /** The device of a netdev (or inet ingress) chain. */
  device?: string;
  devices?: string[];
  /** Rules and references (NFTA_CHAIN_USE). */
  use?: number;
}

/**
 * Ports: a number, `{ range: [lo, hi] }`, a list (an anonymous set whose
 * items may be numbers or `[lo, hi]` ranges), or `'@name'` for a named set.
 */
export type NftPortMatch = number | { range: [number, number] } | (number | [number, number])[] | `@${string}`;

/**
 * Addresses: one address or a CIDR prefix ('10.0.0.0/8'), a list (an
 * anonymous set of addresses, prefixes or `[first, last]` ranges), or
 * `'@name'` for a named set.
 */
export type NftAddressMatch = string | (string | [string, string])[];

/** What a rule matches; every given field must hold (they are ANDed). */
export interface NftMatch {
  /** Layer-3 protocol in an inet/bridge/netdev table ('ipv4' | 'ipv6'); implied by saddr/daddr. */
  nfproto?: 'ipv4' | 'ipv6';
  /** `meta l4proto`: 'tcp', 'udp', 'icmp', ... or a number. Needed by sport/dport. */
  l4proto?: string | number;
  saddr?: NftAddressMatch;
  daddr?: NftAddressMatch;
  sport?: NftPortMatch;
  dport?: NftPortMatch;
  /** Input interface by name (resolved to its index when the rule is added) or index: `meta iif`. */
  iif?: string | number;
  oif?: string | number;
  /** Input interface name, compared as text (`meta iifname`); a trailing '*' matches a prefix. */
  iifname?: string;
  oifname?: string;
  /** `meta mark`. */
  mark?: number;
  /** `ct state`: any of 'invalid', 'established', 'related', 'new', 'untracked'. */
  ctState?: string[];
}

/** `limit rate [over] N/unit [burst B packets|bytes]`. */
export interface NftLimit {
  rate: number;
  per: 'second' | 'minute' | 'hour' | 'day' | 'week';
  burst?: number;
  /** Count bytes instead of packets. */
  unit?: 'packets' | 'bytes';
  /** Match when the rate is exceeded. */
  over?: boolean;
}

export interface NftLog {
  prefix?: string;
  /** 'emerg' ... 'debug', or 'audit'. */
  level?: string;
  /** nflog group (then the packet goes to userspace instead of the kernel log). */
  group?: number;
  snaplen?: number;
}

/** `reject with ...`: the kind of answer and its code name or number. */
export interface NftReject {
  /** 'tcp-reset' (needs match.l4proto 'tcp'), 'icmpx' (inet/bridge/netdev), 'icmp' (ip), 'icmpv6' (ip6). */
  type: 'tcp-reset' | 'icmpx' | 'icmp' | 'icmpv6';
  /** e.g. 'port-unreachable', 'admin-prohibited', 'host-unreachable', 'no-route', or a number. */
  code?: string | number;
}

/** Network address translation: snat/dnat to an address (and port), masquerade, or redirect to a local port. */
export interface NftNat {
  type: 'snat' | 'dnat' | 'masquerade' | 'redirect';
  /** snat/dnat: the new address (its family picks ip or ip6 in an inet table). */
  address?: string;
  /** The new port, or a `[lo, hi]` range (snat/dnat/masquerade/redirect). */
  port?: number | [number, number];
  /** 'random', 'fully-random', 'persistent'. */
  flags?: string[];
}

/** What a rule does and matches: the typed form both `apply` and `list` use. */
export interface NftRuleBody {
  match?: NftMatch;
  /** An anonymous counter (`counter`), or the name of a named counter object. */
  counter?: boolean | string;
  /** The name of a named quota object. */
  quota?: string;
  limit?: NftLimit;
  log?: boolean | NftLog;
  /** `meta mark set N`. */
  setMark?: number;
  nat?: NftNat;
  verdict?: NftVerdictName;
  /** The chain of a 'jump' or 'goto' verdict. */
  target?: string;
  /** With verdict 'reject'; default: icmpx port-unreachable (inet), icmp/icmpv6 port-unreachable (ip/ip6). */
  reject?: NftReject;
  /** Stored in the rule's userdata, as `nft ... comment "..."` does. */
  comment?: string;
}

/** A rule as `list()` returns it. */
export interface NftRule extends NftRuleBody {
  family: NftFamily;
  table: string;
  chain: string;
  handle: number;
  /** Packets and bytes of the rule's anonymous counter. */
  stats?: { packets: number; bytes: number };
  /**
   * The kernel's expressions, decoded generically: present only when the
   * rule uses expressions the typed form does not cover (then the typed
   * fields are absent).
   */
  expressions?: NftExpression[];
}

/** One expression as the schema decodes it: `{ name: 'payload', data: { base, offset, len, dreg } }`. */
export interface NftExpression {
  name: string;
  data?: Record<string, unknown>;
}

/** A set key, or a map element's data. */
export type NftElementKey = string | number | [string | number, string | number];

/**
 * A set element: its key (an address, prefix, port, `[first, last]`
 * range...), or an object with the key and a map value, a timeout (seconds)
 * or a comment.
 */
export type NftElement =
  | NftElementKey
  | {
      key: NftElementKey;
      /** A map's data: a verdict name, `{ verdict: 'jump', target }`, or a value of the map's data type. */
      value?: string | number | { verdict: NftVerdictName; target?: string };
      timeout?: number;
      /** Seconds left, as listed. */
      expires?: number;
      counter?: { packets: number; bytes: number };
    };

export interface NftSet {
  family: NftFamily;
  table: string;
  name: string;
  handle: number;
  /** Key type: 'ipv4_addr', 'ipv6_addr', 'inet_service', 'ether_addr', 'inet_proto', 'mark', 'ifname', 'iface_index', or nft's type number. */
  type: string | number;
  /** A map's data type, or 'verdict'. */
  map?: string | number;
  /** 'constant', 'interval', 'timeout', 'dynamic' ... (nft's names). */
  flags: string[];
  /** Default element timeout in seconds. */
  timeout?: number;
  /** Per-element counters. */
  counter?: boolean;
  size?: number;
  elements: NftElement[];
}

/** A named stateful object: counter or quota. */
export type NftObject =
  | { family: NftFamily; table: string; name: string; handle: number; type: 'counter'; packets: number; bytes: number }
  | {
      family: NftFamily;
      table: string;
      name: string;
      handle: number;
      type: 'quota';
      bytes: number;
      used: number;
      /** `quota over`: matches once the quota is used up. */
      over: boolean;
    };

export interface NftRuleset {
  tables: NftTable[];
  chains: NftChain[];
  rules: NftRule[];
  /** Named sets and maps (anonymous ones show inline in their rules). */
  sets: NftSet[];
  /** Named counters and quotas. */
  objects: NftObject[];
  /** The ruleset generation these objects were read at. */
  generation: number;
}

// ---- operations -----------------------------------------------------------

interface InTable {
  family: NftFamily;
  table: string;
}

export type NftTableOp =
  | { add: 'table'; family: NftFamily; name: string; dormant?: boolean }
  | { create: 'table'; family: NftFamily; name: string; dormant?: boolean }
  | { delete: 'table'; family: NftFamily; name: string }
  | { destroy: 'table'; family: NftFamily; name: string }
  | { flush: 'table'; family: NftFamily; name: string };

export interface NftChainSpec extends InTable {
  name: string;
  type?: 'filter' | 'nat' | 'route';
  hook?: string;
  /** A number or `nft`'s names: 'raw', 'mangle', 'dstnat', 'filter', 'security', 'srcnat'. */
  priority?: number | string;
  policy?: 'accept' | 'drop';
  device?: string;
  devices?: string[];
}

export type NftChainOp =
  | ({ add: 'chain' } & NftChainSpec)
  | ({ create: 'chain' } & NftChainSpec)
  | ({ delete: 'chain'; name?: string; handle?: number } & InTable)
  | ({ destroy: 'chain'; name: string } & InTable)
  | ({ flush: 'chain'; name: string } & InTable);

export interface NftRuleSpec extends NftRuleBody, InTable {
  chain: string;
  /** Escape hatch: raw expressions, used instead of the typed fields. */
  expressions?: NftExpression[];
}

export type NftRuleOp =
  /** Appends, or with `position` (a rule handle) adds after that rule. */
  | ({ add: 'rule'; position?: number } & NftRuleSpec)
  /** Prepends, or with `position` inserts before that rule. */
  | ({ insert: 'rule'; position?: number } & NftRuleSpec)
  | ({ replace: 'rule'; handle: number } & NftRuleSpec)
  | ({ delete: 'rule'; chain: string; handle: number } & InTable)
  | ({ destroy: 'rule'; chain: string; handle: number } & InTable);

export interface NftSetSpec extends InTable {
  name: string;
  type: string;
  /** Makes it a map with this data type ('verdict', 'ipv4_addr', 'inet_service', 'mark', ...). */
  map?: string;
  /** 'constant', 'interval', 'timeout'. */
  flags?: string[];
  /** Default element timeout, seconds. */
  timeout?: number;
  /** Per-element counters. */
  counter?: boolean;
  size?: number;
  elements?: NftElement[];
}

export type NftSetOp =
  | ({ add: 'set' } & NftSetSpec)
  | ({ create: 'set' } & NftSetSpec)
  | ({ add: 'map' } & NftSetSpec & { map: string })
  | ({ delete: 'set' | 'map'; name: string } & InTable)
  | ({ destroy: 'set' | 'map'; name: string } & InTable)
  | ({ flush: 'set' | 'map'; name: string } & InTable)
  | ({ add: 'element'; set: string; elements: NftElement[] } & InTable)
  | ({ delete: 'element'; set: string; elements: NftElement[] } & InTable);

export type NftObjectOp =
  | ({ add: 'counter'; name: string; packets?: number; bytes?: number } & InTable)
  | ({ add: 'quota'; name: string; bytes: number; used?: number; over?: boolean } & InTable)
  | ({ delete: 'counter' | 'quota'; name: string } & InTable);

/** One step of a transaction. */
export type NftOperation = NftTableOp | NftChainOp | NftRuleOp | NftSetOp | NftObjectOp;

export interface NftApplyOptions {
  /** Fail with code 'ERESTART' unless the ruleset is still at this generation (optimistic locking). */
  generation?: number;
  signal?: AbortSignal;
}
