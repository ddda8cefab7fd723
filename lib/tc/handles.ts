/**
 * Handles and parents the way `tc` users write them ('root', 'ingress',
 * 'clsact', '1:', '1:10', ':10', 'ffff:fff1', hexadecimal like tc) or as
 * numbers, and the protocol names of filters.
 */
import { invalidType, invalidValue, outOfRange } from '../errors';
import {
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_ALL,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  TC_H_CLSACT,
  TC_H_INGRESS,
  TC_H_MIN_EGRESS,
  TC_H_MIN_INGRESS,
  TC_H_ROOT,
  TC_H_UNSPEC,
} from '../netlink/constants';

/** Where `parent` is read: a qdisc's parent, a class's parent, or a filter's attachment point. */
export type HandleRole = 'qdisc-parent' | 'class-parent' | 'filter-parent' | 'qdisc-handle' | 'classid';

const HEX = /^[0-9a-f]{1,4}$/i;
const clsactMajor = TC_H_CLSACT & 0xffff0000;

/**
 * A handle or class id as a u32. 'root' is TC_H_ROOT; as a qdisc parent
 * 'ingress' and 'clsact' are ffff:fff1; as a filter parent 'ingress' and
 * 'egress' are the clsact hooks ffff:fff2 / ffff:fff3 (as `tc filter add
 * dev X ingress` writes them). Numbers are taken as they are.
 */
export function parseHandle(value: unknown, argument: string, role: HandleRole): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalidValue(argument, value, 'must be an integer');
    if (value < 0 || value > 0xffffffff) throw outOfRange(argument, '>= 0 and <= 0xffffffff', value);
    return value;
  }
  if (typeof value !== 'string') throw invalidType(argument, "a tc handle string like '1:10' or a number", value);
  const text = value.trim().toLowerCase();
  if (role !== 'qdisc-handle' && role !== 'classid' && text === 'root') return TC_H_ROOT;
  if (role === 'qdisc-parent' && (text === 'ingress' || text === 'clsact')) return TC_H_INGRESS;
  if (role === 'filter-parent' && text === 'ingress') return (clsactMajor | TC_H_MIN_INGRESS) >>> 0;
  if (role === 'filter-parent' && text === 'egress') return (clsactMajor | TC_H_MIN_EGRESS) >>> 0;
  if (text === 'none' && role !== 'classid') return TC_H_UNSPEC;
  const m = /^([0-9a-f]*):([0-9a-f]*)$/.exec(text);
  const bad = () =>
    invalidValue(
      argument,
      value,
      role === 'qdisc-handle'
        ? "must be a qdisc handle like '1:' (hex major, no minor)"
        : "must be a tc handle like '1:', '1:10' or 'ffff:fff1' (hexadecimal), 'root' or a number",
    );
  if (!m) {
    // A bare hex major, as `tc qdisc add ... handle 1` accepts.
    if (role === 'qdisc-handle' && HEX.test(text)) return (parseInt(text, 16) << 16) >>> 0;
    throw bad();
  }
  const [, major, minor] = m;
  if ((major !== '' && !HEX.test(major)) || (minor !== '' && !HEX.test(minor)) || (major === '' && minor === '')) {
    throw bad();
  }
  if (role === 'qdisc-handle' && minor !== '' && parseInt(minor, 16) !== 0) throw bad();
  return ((parseInt(major || '0', 16) << 16) | parseInt(minor || '0', 16)) >>> 0;
}

/** A handle as tc prints it: 'root', 'none', '1:', ':10', '1:10'. */
export function formatHandle(h: number): string {
  if (h === TC_H_ROOT) return 'root';
  if (h === TC_H_UNSPEC) return 'none';
  const major = h >>> 16;
  const minor = h & 0xffff;
  if (major === 0) return `:${minor.toString(16)}`;
  if (minor === 0) return `${major.toString(16)}:`;
  return `${major.toString(16)}:${minor.toString(16)}`;
}

/** A qdisc's own handle, always 'major:' ('0:' for the kernel's default qdiscs). */
export function formatQdiscHandle(h: number): string {
  return `${(h >>> 16).toString(16)}:`;
}

/** Filter protocols by the names `tc` prints (ll_proto_n2a). */
const PROTOCOLS: [string, number][] = [
  ['all', ETH_P_ALL],
  ['ip', ETH_P_IP],
  ['ipv6', ETH_P_IPV6],
  ['arp', ETH_P_ARP],
  ['802.1Q', ETH_P_8021Q],
  ['802.1ad', ETH_P_8021AD],
];
const PROTOCOL_BY_NAME = new Map(PROTOCOLS.map(([n, v]) => [n.toLowerCase(), v]));
const PROTOCOL_BY_VALUE = new Map(PROTOCOLS.map(([n, v]) => [v, n]));

/** A filter protocol: a name ('ip', 'ipv6', 'all', 'arp', '802.1Q', '802.1ad') or an EtherType number. */
export function parseProtocol(value: unknown, argument: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff)
      throw outOfRange(argument, '>= 0 and <= 0xffff', value);
    return value;
  }
  if (typeof value !== 'string') throw invalidType(argument, "a protocol name like 'ip' or an EtherType number", value);
  const n = PROTOCOL_BY_NAME.get(value.toLowerCase());
  if (n === undefined) {
    throw invalidValue(
      argument,
      value,
      `must be one of ${PROTOCOLS.map(([p]) => p).join(', ')} or an EtherType number`,
    );
  }
  return n;
}

/** The name tc prints for a protocol, or its number. */
export function protocolName(value: number): string | number {
  return PROTOCOL_BY_VALUE.get(value) ?? value;
}

/** htons, for the protocol half of tcm_info and flower's eth_type. */
export function swap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}
