/**
 * Namespace ids (RTM_GETNSID / RTM_NEWNSID): the small integer by which a
 * namespace names another one, as `ip netns list-id` / `ip netns set`.
 * Ids are per observer: the same peer may have different ids, or none, as
 * seen from different namespaces, so these calls belong to a handle.
 */
import { request, type RequestOptions } from './engine/requests';
import { invalidValue } from './errors';
import { forEachAttribute, Writer } from './netlink/attributes';
import {
  AF_UNSPEC,
  NETNSA_FD,
  NETNSA_NSID,
  NETNSA_NSID_NOT_ASSIGNED,
  NETNSA_TARGET_NSID,
  NETLINK_ROUTE,
  NLM_F_REQUEST,
  RTM_DELNSID,
  RTM_GETNSID,
  RTM_NEWNSID,
} from './netlink/constants';
import { beginMessage, checkMessage, finishMessage, NLMSG_HDRLEN } from './netlink/message';
import { acquireNetnsFd, checkNetnsRef, type NetnsRef } from './netns';
import type { LinkContext } from './link';
import { registerDecoder } from './registry';

/** struct rtgenmsg: one family byte, padded to 4 by NLMSG_ALIGN. */
const RTGENMSG_LEN = 4;
const NSID_MAX = 0x7fffffff;

export interface NsidOptions extends RequestOptions {
  /**
   * Ask as seen from another namespace, given by its id in this handle's
   * namespace (NETNSA_TARGET_NSID), like `ip netns list-id target-nsid`.
   */
  targetNsid?: number;
}

/** A namespace id argument (0-2147483647), or a TypeError naming `argument`. */
export function checkNsid(id: unknown, argument: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > NSID_MAX)
    throw invalidValue(argument, id, `must be a namespace id (an integer 0-${NSID_MAX}, see netns.getId)`);
  return id;
}

/** Builds RTM_GETNSID/RTM_NEWNSID: rtgenmsg, NETNSA_FD, and the optional ids. */
export function buildNsidMessage(type: number, netnsFd: number, nsid?: number, targetNsid?: number): Buffer {
  const w = new Writer(64);
  const start = beginMessage(w, type, NLM_F_REQUEST);
  w.u8(AF_UNSPEC);
  w.zeros(RTGENMSG_LEN - 1);
  w.attrU32(NETNSA_FD, netnsFd);
  if (nsid !== undefined) w.attrU32(NETNSA_NSID, nsid);
  if (targetNsid !== undefined) w.attrU32(NETNSA_TARGET_NSID, targetNsid);
  finishMessage(w, start);
  return w.view();
}

/** NETNSA_NSID of a RTM_NEWNSID reply: the id, or undefined when none is assigned. */
export function decodeNsidReply(buf: Buffer, offset: number, length: number): number | undefined {
  checkMessage(buf, offset, length, 1, 'nsid'); // struct rtgenmsg is one byte
  let nsid: number | undefined;
  forEachAttribute(buf, offset + NLMSG_HDRLEN + RTGENMSG_LEN, offset + length, (type, _flags, at, len) => {
    if (type === NETNSA_NSID && len >= 4) nsid = buf.readInt32LE(at);
  });
  return nsid === undefined || nsid === NETNSA_NSID_NOT_ASSIGNED ? undefined : nsid;
}

/** An RTM_NEWNSID / RTM_DELNSID notification: a namespace got an id here, or lost it (it died). */
export interface NsidEvent {
  nsid: number | undefined;
}

registerDecoder(NETLINK_ROUTE, RTM_NEWNSID, {
  object: 'nsid',
  event: 'new',
  decode: (buf, off, len) => ({ nsid: decodeNsidReply(buf, off, len) }) satisfies NsidEvent,
});
registerDecoder(NETLINK_ROUTE, RTM_DELNSID, {
  object: 'nsid',
  event: 'del',
  decode: (buf, off, len) => ({ nsid: decodeNsidReply(buf, off, len) }) satisfies NsidEvent,
});

/**
 * The `nsid` group of a handle: ids of other namespaces as seen from the
 * handle's namespace. The module's `netns.getId` / `netns.setId` use the
 * default handle.
 *
 * @example
 * await h.nsid.set('blue', 7)
 * await h.nsid.get('blue')   // 7
 */
export class NsidApi {
  constructor(private readonly ctx: () => LinkContext) {}

  /**
   * The id this namespace has for `ns`, or undefined when it has none yet
   * (the kernel assigns one when e.g. a veth peer lands there).
   *
   * @example
   * const id = await h.nsid.get({ pid: child.pid })
   */
  async get(ns: NetnsRef, options: NsidOptions = {}): Promise<number | undefined> {
    checkNetnsRef(ns, 'ns');
    const target = options.targetNsid === undefined ? undefined : checkNsid(options.targetNsid, 'options.targetNsid');
    const fd = acquireNetnsFd(ns);
    try {
      const [reply] = await request(
        this.ctx().route(),
        buildNsidMessage(RTM_GETNSID, fd.fd, undefined, target),
        (buf, off, len, type) => (type === RTM_NEWNSID ? { nsid: decodeNsidReply(buf, off, len) } : undefined),
        { signal: options.signal, operation: 'RTM_GETNSID' },
      );
      return reply?.nsid;
    } finally {
      fd.release();
    }
  }

  /**
   * Assigns `id` to `ns`, like `ip netns set NAME ID`. Ids cannot be
   * changed once given: a namespace that already has one rejects with
   * code 'EEXIST', an id already used for another namespace too.
   *
   * @example
   * await h.nsid.set('blue', 7)
   */
  async set(ns: NetnsRef, id: number, options: RequestOptions = {}): Promise<void> {
    checkNetnsRef(ns, 'ns');
    checkNsid(id, 'id');
    const fd = acquireNetnsFd(ns);
    try {
      await request(this.ctx().route(), buildNsidMessage(RTM_NEWNSID, fd.fd, id), null, {
        signal: options.signal,
        operation: 'RTM_NEWNSID',
      });
    } finally {
      fd.release();
    }
  }
}
