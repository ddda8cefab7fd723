/**
 * The compiled addon: syscalls and file descriptors only. node-gyp-build
 * loads build/Release first and prebuilds/ second.
 */
import * as path from 'node:path';

/** One AF_NETLINK socket; see native/netlink_socket.cc. */
export interface NativeNetlinkSocket {
  portId(): number;
  fd(): number;
  /** One sendmsg with every buffer as an iovec; returns bytes sent. */
  send(buffers: Uint8Array[]): number;
  /**
   * The buffers, copied, go out as one datagram from a sender thread, in order; onSent reports
   * each. With readUntilSeq (a dump's seq) the thread then reads the socket until that request's
   * end; readInto takes what it read, and onReadable says when there is some.
   */
  sendInBackground(buffers: Uint8Array[], readUntilSeq?: number): void;
  /**
   * Reads the datagrams waiting, back to back into slab from offset while 256 KiB of room is
   * left there; [length, nsid] per datagram into meta. Returns their count, or [count, error]
   * when a receive error came after them.
   */
  readInto(
    slab: Buffer,
    offset: number,
    meta: Int32Array,
    /** At most this many datagrams (0: as many as meta holds). */
    maxDatagrams?: number,
    /** Only ACKs and errors are owed, and no notifications come: many per syscall. */
    smallReplies?: boolean,
  ): number | [number, NodeJS.ErrnoException];
  setOption(level: number, name: number, value: number): void;
  getOption(level: number, name: number): number;
  ref(): void;
  unref(): void;
  pause(): void;
  resume(): void;
  close(): void;
}

export interface NativeNetlinkSocketConstructor {
  /**
   * @param onReadable datagrams are waiting: readInto() them.
   * @param onError receive errors (ENOBUFS when the kernel dropped replies).
   */
  new (
    protocol: number,
    netnsFd: number,
    onReadable: () => void,
    onError: (error: NodeJS.ErrnoException) => void,
    /** Per sendInBackground() datagram, in order: null, or the sendmsg error. */
    onSent?: (errors: (NodeJS.ErrnoException | null)[]) => void,
  ): NativeNetlinkSocket;
}

/** A whole-packet fd (tun/tap queue); see native/packet_queue.cc. */
export interface NativePacketQueue {
  /** Bytes written, or -1 when the fd would block (then waitWritable()). */
  write(packet: Uint8Array): number;
  waitWritable(): void;
  pause(): void;
  resume(): void;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface NativePacketQueueConstructor {
  /** Takes ownership of `fd`. onPackets gets concatenated packets and their lengths. */
  new (
    fd: number,
    onPackets: (data: Buffer, lengths: Int32Array) => void,
    onWritable: () => void,
    onError: (error: NodeJS.ErrnoException) => void,
  ): NativePacketQueue;
}

export interface NativeAddon {
  PacketQueue: NativePacketQueueConstructor;
  /** bpf(BPF_OBJ_GET): an fd for an object pinned in bpffs. */
  bpfObjGet(path: string): number;
  /** ioctl(2): a number by value, a Buffer by pointer (filled in by the kernel). */
  ioctl(fd: number, request: number, arg: number | Buffer): number;
  NetlinkSocket: NativeNetlinkSocketConstructor;
  createNamed(dir: string, name: string): void;
  deleteNamed(path: string): void;
  runIn<T>(netnsFd: number, fn: () => T): T;
  socketIn(netnsFd: number, domain: number, type: number, protocol: number): number;
  /** open(2) on a thread inside the namespace (-1: this thread); O_CLOEXEC added. */
  openIn(netnsFd: number, path: string, flags: number): number;
  /** bind(2) with sockaddr_in/sockaddr_in6 bytes. */
  bindFd(fd: number, sockaddr: Buffer): void;
  /** An int setsockopt(2) on any socket fd. */
  setSocketOption(fd: number, level: number, name: number, value: number): void;
  warmThreadpool(): void;
  anonymous(): number;
  closeFd(fd: number): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const native: NativeAddon = require('node-gyp-build')(path.join(__dirname, '..'));
