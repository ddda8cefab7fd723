/**
 * Parsers for the natural input forms every object group accepts
 * (addresses, CIDR prefixes), throwing TypeError/RangeError that name the
 * caller's argument before anything is sent.
 */
import { invalidType, invalidValue } from './errors';
import { parseIP, parsePrefix, type ParsedPrefix } from './netlink/address';

/** An address with its prefix length: '10.0.0.1/24' or { address, prefixLength }. 'default' is refused. */
export function cidrArgument(cidr: unknown, argument: string): ParsedPrefix {
  if (typeof cidr === 'object' && cidr !== null && 'address' in cidr) {
    const { address, prefixLength } = cidr as { address: unknown; prefixLength: unknown };
    return cidrArgument(`${String(address)}/${String(prefixLength)}`, argument);
  }
  if (typeof cidr !== 'string')
    throw invalidType(argument, "a CIDR string like '10.0.0.1/24' or { address, prefixLength }", cidr);
  const p = parsePrefix(cidr);
  if (!p || cidr === 'default')
    throw invalidValue(argument, cidr, "must be an address with a prefix length, like '10.0.0.1/24'");
  return p;
}

/** One IP address of the given family (or either, when `family` is omitted). */
export function ipArgument(
  text: unknown,
  family: 4 | 6 | undefined,
  argument: string,
): { family: 4 | 6; bytes: Buffer } {
  if (typeof text !== 'string') throw invalidType(argument, 'an IP address string', text);
  const ip = parseIP(text);
  if (!ip) throw invalidValue(argument, text, 'must be an IPv4 or IPv6 address');
  if (family !== undefined && ip.family !== family)
    throw invalidValue(argument, text, `must be an IPv${family} address`);
  return ip;
}
