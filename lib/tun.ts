/**
 * tun/tap devices through /dev/net/tun (ioctls, not rtnetlink): creating
 * persistent devices, and opening a queue of one as a Duplex stream of
 * whole packets, driven by uv_poll on the fd (see native/packet_queue.cc).
 */
import * as fs from 'node:fs';
import { Duplex } from 'node:stream';
import { annotateSystemError, invalidType, invalidValue, outOfRange } from './errors';
import {
  IFF_MULTI_QUEUE,
  IFF_NO_PI,
  IFF_TAP,
  IFF_TUN,
  IFF_VNET_HDR,
  IFNAMSIZ,
  TUNSETGROUP,
  TUNSETIFF,
  TUNSETOWNER,
  TUNSETPERSIST,
} from './netlink/constants';
import { native, type NativePacketQueue } from './native';
import { validateLinkName, type Link, type LinkApi } from './link';

const TUN_DEVICE = '/dev/net/tun';
/** struct ifreq: ifr_name[IFNAMSIZ], then a union whose largest member makes it 40 bytes on 64-bit. */
const IFREQ_LEN = 40;
const ID_MAX = 0xfffffffe; // (uid_t)-1 means "no owner"

export interface TunSpec {
  /** Device name; a pattern like 'tap%d' lets the kernel pick the number. */
  name: string;
  type: 'tun' | 'tap';
  /**
   * true (default): the device stays after create() returns, like
   * `ip tuntap add`, and create() resolves its Link. false: it lives only
   * while the queue create() then resolves is open.
   */
  persist?: boolean;
  /** uid allowed to open it without CAP_NET_ADMIN. */
  owner?: number;
  /** gid allowed to open it without CAP_NET_ADMIN. */
  group?: number;
  /** Several queues (IFF_MULTI_QUEUE): open() it once per queue. */
  multiQueue?: boolean;
  /** Packets carry a struct virtio_net_hdr in front (IFF_VNET_HDR). */
  vnetHdr?: boolean;
  /** Packets carry struct tun_pi (flags, protocol) in front; off by default (IFF_NO_PI). */
  packetInfo?: boolean;
}

export interface TunOpenOptions {
  /** Must match how the device was made; read from the device when omitted. */
  vnetHdr?: boolean;
  packetInfo?: boolean;
  /** Stream buffering, in packets (default 256). */
  highWaterMark?: number;
}

/** What the tun group needs of a handle. */
export interface TunContext {
  namespaceFd(): number;
}

/** struct ifreq for TUNSETIFF: the name and the IFF_* flags. */
export function buildIfreq(name: string, flags: number): Buffer {
  const ifr = Buffer.alloc(IFREQ_LEN);
  ifr.write(name, 0, IFNAMSIZ - 1, 'utf8');
  ifr.writeUInt16LE(flags, IFNAMSIZ);
  return ifr;
}

function ifreqName(ifr: Buffer): string {
  const end = ifr.indexOf(0);
  return ifr.toString('utf8', 0, end === -1 || end > IFNAMSIZ ? IFNAMSIZ : end);
}

function checkBoolean(value: unknown, argument: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidType(argument, 'a boolean', value);
  return value;
}

function checkId(value: unknown, argument: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(argument, 'an integer id', value);
  if (value < 0 || value > ID_MAX) throw outOfRange(argument, `0-${ID_MAX}`, value);
  return value;
}

function tunFlags(type: 'tun' | 'tap', o: { multiQueue?: boolean; vnetHdr?: boolean; packetInfo?: boolean }): number {
  let flags = type === 'tap' ? IFF_TAP : IFF_TUN;
  if (o.multiQueue) flags |= IFF_MULTI_QUEUE;
  if (o.vnetHdr) flags |= IFF_VNET_HDR;
  if (!o.packetInfo) flags |= IFF_NO_PI;
  return flags;
}

/**
 * Opens /dev/net/tun inside the handle's namespace (a tun device belongs to
 * the namespace its file was opened in) and attaches it to `name` with
 * TUNSETIFF, creating the device if it does not exist. Returns the fd and
 * the name the kernel used.
 */
function attach(netnsFd: number, name: string, flags: number): { fd: number; name: string } {
  const fd = native.openIn(netnsFd, TUN_DEVICE, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  try {
    const ifr = buildIfreq(name, flags);
    native.ioctl(fd, TUNSETIFF, ifr);
    return { fd, name: ifreqName(ifr) };
  } catch (error) {
    native.closeFd(fd);
    throw tunError(error, name);
  }
}

const TUN_HINTS: Record<string, string> = {
  EINVAL: ' (an existing device of another type, or with other multiQueue/vnetHdr/packetInfo settings?)',
  EBUSY: ' (a single-queue device that is already open?)',
  EPERM: ' (needs CAP_NET_ADMIN, or to be its owner/group)',
};

function tunError(error: unknown, name: string): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  return annotateSystemError(error, `tun ${name}`, undefined, (code && TUN_HINTS[code]) ?? '');
}

/**
 * One queue of a tun/tap device as a Duplex in object mode: each chunk read
 * is one whole packet (a Buffer), each chunk written is sent as one packet.
 * Reading pauses (packets wait in the kernel, which drops when its queue is
 * full, as a NIC would) while the consumer is behind. close() (or
 * destroy()) closes the fd; a non-persistent device goes with its last queue.
 *
 * @example
 * const q = await h.link.tun.open('tap0')
 * q.on('data', (frame) => q.write(reply(frame)))
 */
export class TunQueue extends Duplex {
  /** The device name. */
  readonly name: string;
  private queue: NativePacketQueue | null;
  private pendingWrite: { packet: Buffer; callback: (error?: Error | null) => void } | null = null;

  /** @internal use link.tun.open() / create(). */
  constructor(fd: number, name: string, highWaterMark = 256) {
    super({ objectMode: true, highWaterMark, allowHalfOpen: false });
    this.name = name;
    this.queue = new native.PacketQueue(
      fd,
      (data, lengths) => this.onPackets(data, lengths),
      () => this.onWritable(),
      (error) => this.destroy(error),
    );
    this.queue.pause(); // until the consumer asks (_read)
  }

  /** Closes the queue's fd (destroy()). Idempotent. */
  close(): void {
    this.destroy();
  }

  /** Keep the process alive while the queue is open (default); unref() lets it exit. */
  ref(): this {
    this.queue?.ref();
    return this;
  }

  unref(): this {
    this.queue?.unref();
    return this;
  }

  private onPackets(data: Buffer, lengths: Int32Array): void {
    let offset = 0;
    let more = true;
    for (const length of lengths) {
      more = this.push(data.subarray(offset, offset + length));
      offset += length;
    }
    if (!more) this.queue?.pause();
  }

  override _read(): void {
    this.queue?.resume();
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!(chunk instanceof Uint8Array)) {
      callback(invalidType('packet', 'a Buffer or Uint8Array', chunk));
      return;
    }
    this.send(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), callback);
  }

  private send(packet: Buffer, callback: (error?: Error | null) => void): void {
    if (!this.queue) {
      callback(Object.assign(new Error('The tun queue is closed'), { code: 'ERR_RTNL_CLOSED' }));
      return;
    }
    try {
      if (this.queue.write(packet) >= 0) {
        callback();
        return;
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.pendingWrite = { packet, callback };
    this.queue.waitWritable();
  }

  private onWritable(): void {
    const pending = this.pendingWrite;
    this.pendingWrite = null;
    if (pending) this.send(pending.packet, pending.callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.queue?.close();
    this.queue = null;
    this.pendingWrite?.callback(
      error ?? Object.assign(new Error('The tun queue is closed'), { code: 'ERR_RTNL_CLOSED' }),
    );
    this.pendingWrite = null;
    callback(error);
  }
}

function checkSpec(spec: unknown): asserts spec is TunSpec {
  if (typeof spec !== 'object' || spec === null) throw invalidType('spec', 'an object', spec);
  const s = spec as Record<string, unknown>;
  validateLinkName(s.name, 'spec.name');
  if (s.type !== 'tun' && s.type !== 'tap') throw invalidValue('spec.type', s.type, "must be 'tun' or 'tap'");
  for (const key of ['persist', 'multiQueue', 'vnetHdr', 'packetInfo']) checkBoolean(s[key], `spec.${key}`);
  checkId(s.owner, 'spec.owner');
  checkId(s.group, 'spec.group');
  const known = new Set(['name', 'type', 'persist', 'owner', 'group', 'multiQueue', 'vnetHdr', 'packetInfo']);
  for (const key of Object.keys(s))
    if (!known.has(key)) throw invalidValue(`spec.${key}`, s[key], `is not a tun option (${[...known].join(', ')})`);
}

/**
 * `link.tun`: tun/tap devices of the handle's namespace.
 *
 * @example
 * await h.link.tun.create({ name: 'tap0', type: 'tap', owner: 1000 })
 * const q = await h.link.tun.open('tap0')
 */
export class TunApi {
  constructor(
    private readonly ctx: () => TunContext,
    private readonly links: LinkApi,
  ) {}

  /**
   * Creates a tun or tap device, like `ip tuntap add`. Persistent by
   * default: resolves the new Link. With `persist: false` it resolves the
   * open queue instead, and the device goes when that queue closes. An
   * existing device of the same settings is reused by the kernel (it
   * attaches), so this resolves for it too; another type rejects EINVAL.
   *
   * @example
   * const link = await h.link.tun.create({ name: 'tun0', type: 'tun', multiQueue: true })
   * const q = await h.link.tun.create({ name: 'tap9', type: 'tap', persist: false })
   */
  async create(spec: TunSpec & { persist?: true }): Promise<Link>;
  async create(spec: TunSpec & { persist: false }): Promise<TunQueue>;
  async create(spec: TunSpec): Promise<Link | TunQueue> {
    checkSpec(spec);
    const { fd, name } = attach(this.ctx().namespaceFd(), spec.name, tunFlags(spec.type, spec));
    try {
      if (spec.owner !== undefined) native.ioctl(fd, TUNSETOWNER, spec.owner);
      if (spec.group !== undefined) native.ioctl(fd, TUNSETGROUP, spec.group);
      if (spec.persist === false) return new TunQueue(fd, name);
      native.ioctl(fd, TUNSETPERSIST, 1);
    } catch (error) {
      native.closeFd(fd);
      throw tunError(error, name);
    }
    native.closeFd(fd);
    return this.links.get(name);
  }

  /**
   * Opens one queue of an existing tun/tap device (a multi-queue device can
   * be opened once per queue). Its type and packet framing are read from the
   * device. Missing: code 'ENODEV'.
   *
   * @example
   * const q = await h.link.tun.open('tap0')
   * for await (const frame of q) console.log(frame.length)
   */
  async open(name: string, options: TunOpenOptions = {}): Promise<TunQueue> {
    validateLinkName(name, 'name');
    if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
    checkBoolean(options.vnetHdr, 'options.vnetHdr');
    checkBoolean(options.packetInfo, 'options.packetInfo');
    const hwm = options.highWaterMark ?? 256;
    if (!Number.isInteger(hwm) || hwm < 1) throw outOfRange('options.highWaterMark', '>= 1', hwm);
    const link = await this.links.get(name);
    const info = link.info ?? {};
    if (link.kind !== 'tun' || (info.type !== IFF_TUN && info.type !== IFF_TAP)) {
      throw Object.assign(new Error(`tun ${name}: not a tun/tap device (kind ${link.kind ?? 'none'})`), {
        code: 'EINVAL',
      });
    }
    const flags = tunFlags(info.type === IFF_TAP ? 'tap' : 'tun', {
      multiQueue: info.multiQueue === 1,
      vnetHdr: options.vnetHdr ?? info.vnetHdr === 1,
      packetInfo: options.packetInfo ?? info.pi === 1,
    });
    const attached = attach(this.ctx().namespaceFd(), name, flags);
    return new TunQueue(attached.fd, attached.name, hwm);
  }

  /**
   * Deletes a tun/tap device (persistent or not), like `ip tuntap del`.
   *
   * @example
   * await h.link.tun.del('tap0')
   */
  async del(name: string): Promise<void> {
    validateLinkName(name, 'name');
    await this.links.del(name);
  }
}
