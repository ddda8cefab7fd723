/**
 * The codec, public for the escape hatch (h.request) and for tests: build
 * any message with the same writer and schemas the library uses.
 *
 * @example
 * const w = new codec.Writer()
 * codec.rtLink.struct('ifinfomsg').encode(w, { ifiFamily: 0 })
 * codec.rtLink.attributeSet('link-attrs').encode(w, { ifname: 'lo' })
 * const [reply] = await nl.request({ type: 'RTM_GETLINK', payload: w.view() })
 */
export { Writer, decodeAttributeTree, encodeAttributeTree, forEachAttribute, align4 } from './netlink/attributes';
export type { AttributeNode, NestPredicate } from './netlink/attributes';
export {
  buildMessage,
  readHeader,
  forEachMessage,
  beginMessage,
  finishMessage,
  checkMessage,
  NLMSG_HDRLEN,
} from './netlink/message';
export type { NetlinkHeader } from './netlink/message';
export { FamilySchemas, AttributeSchema, StructCodec, EnumCodec } from './netlink/schema';
export type { Decoded, RawAttribute } from './netlink/schema';
export * as specs from './specs';
export * as constants from './netlink/constants';
export { rtLinkSchemas as rtLink } from './families';
export {
  formatIPv4,
  formatIPv6,
  formatMac,
  parseIP,
  parseIPv4,
  parseIPv6,
  parseMac,
  parsePrefix,
} from './netlink/address';
export { decodeLink, buildLinkMessage } from './link';
