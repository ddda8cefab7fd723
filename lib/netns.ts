/**
 * Network namespaces: named ones exactly like `ip netns`, handles on
 * namespace fds, and running code, processes and workers inside one
 * without ever leaving the main thread elsewhere.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { annotateSystemError, invalidType, invalidValue } from './errors';
import { native } from './native';
import { parseIP } from './netlink/address';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from './netlink/constants';

/** Where iproute2 keeps named namespaces. */
export const NETNS_RUN_DIR = '/run/netns';
const NAME_MAX = 255;

/**
 * A namespace reference, as every `netns` option takes it: a name (no '/'),
 * a path (with '/'), a NetNS, `{ pid }`, `{ fd }`, or a bare number (a pid).
 */
export type NetnsRef = string | number | NetNS | { pid: number } | { fd: number };

/**
 * An open network namespace: owns one fd until close().
 *
 * @example
 * using ns = netns.open('red')
 * console.log(ns.path, ns.equals(netns.current()))
 */
export class NetNS {
  private fdValue: number;
  /** The path it was opened from. */
  readonly path: string;
  private readonly owned: boolean;

  /** @internal use netns.open() or netns.current(). */
  constructor(fd: number, path: string, owned = true) {
    this.fdValue = fd;
    this.path = path;
    this.owned = owned;
  }

  /** The namespace fd; -1 once closed. */
  get fd(): number {
    return this.fdValue;
  }

  get closed(): boolean {
    return this.fdValue < 0;
  }

  /** Device and inode: what makes two namespaces the same. */
  identity(): { dev: number; ino: number } {
    if (this.fdValue < 0) throw closedNetnsError();
    const st = fs.fstatSync(this.fdValue);
    return { dev: st.dev, ino: st.ino };
  }

  /** True if both refer to the same namespace (same device and inode). */
  equals(other: NetNS): boolean {
    const a = this.identity();
    const b = other.identity();
    return a.dev === b.dev && a.ino === b.ino;
  }

  close(): void {
    if (this.fdValue < 0) return;
    if (this.owned) fs.closeSync(this.fdValue);
    this.fdValue = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

function closedNetnsError(): Error {
  const error = new Error('The NetNS is closed') as Error & { code: string };
  error.code = 'ERR_RTNL_CLOSED';
  return error;
}

/** Throws a TypeError unless `name` can be a file name under /run/netns. */
export function validateName(name: unknown, argument = 'name'): asserts name is string {
  if (typeof name !== 'string') throw invalidType(argument, 'of type string', name);
  if (name === '' || name === '.' || name === '..')
    throw invalidValue(argument, name, "must not be empty, '.' or '..'");
  if (name.includes('/') || name.includes('\0')) throw invalidValue(argument, name, "must not contain '/' or NUL");
  if (Buffer.byteLength(name) > NAME_MAX) throw invalidValue(argument, name, `must be at most ${NAME_MAX} bytes`);
}

function checkPid(pid: unknown, argument: string): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) {
    throw invalidValue(argument, pid, 'must be a positive integer pid');
  }
  return pid;
}

/** The path a reference names (not for NetNS and { fd }). */
function pathOf(ref: string | number | { pid: number }, argument: string): string {
  if (typeof ref === 'number') return `/proc/${checkPid(ref, argument)}/ns/net`;
  if (typeof ref === 'string') {
    if (ref.includes('/')) return ref;
    validateName(ref, argument);
    return `${NETNS_RUN_DIR}/${ref}`;
  }
  return `/proc/${checkPid(ref.pid, `${argument}.pid`)}/ns/net`;
}

/** Throws a TypeError unless `ref` has the shape of a NetnsRef. */
export function checkNetnsRef(ref: unknown, argument = 'netns'): asserts ref is NetnsRef {
  if (ref instanceof NetNS) {
    if (ref.closed) throw closedNetnsError();
    return;
  }
  if (typeof ref === 'string' || typeof ref === 'number') {
    pathOf(ref, argument);
    return;
  }
  if (typeof ref === 'object' && ref !== null) {
    if ('pid' in ref) {
      checkPid((ref as { pid: unknown }).pid, `${argument}.pid`);
      return;
    }
    if ('fd' in ref) {
      const fd = (ref as { fd: unknown }).fd;
      if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0)
        throw invalidValue(`${argument}.fd`, fd, 'must be an fd');
      return;
    }
  }
  throw invalidType(argument, 'a namespace name, path, pid, NetNS, { pid } or { fd }', ref);
}

/**
 * Opens a handle on a namespace. Missing: an Error with code 'ENOENT'.
 *
 * @example
 * const ns = netns.open('red'); ... ; ns.close()
 * const ofChild = netns.open({ pid: child.pid })
 */
export function open(ref: NetnsRef): NetNS {
  checkNetnsRef(ref, 'ref');
  if (ref instanceof NetNS) return new NetNS(fs.openSync(`/proc/self/fd/${ref.fd}`, 'r'), ref.path);
  if (typeof ref === 'object' && 'fd' in ref) {
    return new NetNS(fs.openSync(`/proc/self/fd/${ref.fd}`, 'r'), `/proc/self/fd/${ref.fd}`);
  }
  const path = pathOf(ref, 'ref');
  return new NetNS(fs.openSync(path, 'r'), path);
}

/** The calling thread's namespace (/proc/thread-self/ns/net, not /proc/self's). */
export function current(): NetNS {
  return new NetNS(fs.openSync('/proc/thread-self/ns/net', 'r'), '/proc/thread-self/ns/net');
}

/**
 * Runs fn(fd) with an fd for the reference, closing it afterwards unless
 * the caller owns it (a NetNS or { fd }).
 */
export function withNetnsFd<T>(ref: NetnsRef, fn: (fd: number) => T): T {
  checkNetnsRef(ref);
  if (ref instanceof NetNS) return fn(ref.fd);
  if (typeof ref === 'object' && 'fd' in ref) return fn(ref.fd);
  const fd = fs.openSync(pathOf(ref, 'netns'), 'r');
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An fd for the reference that stays valid until release(): a fresh one
 * for names, paths and pids, the caller's own for a NetNS or { fd }.
 * For requests that carry a namespace fd to the kernel asynchronously.
 */
export function acquireNetnsFd(ref: NetnsRef): { fd: number; release(): void } {
  checkNetnsRef(ref);
  if (ref instanceof NetNS) return { fd: ref.fd, release: () => undefined };
  if (typeof ref === 'object' && 'fd' in ref) return { fd: ref.fd, release: () => undefined };
  const fd = fs.openSync(pathOf(ref, 'netns'), 'r');
  return { fd, release: () => fs.closeSync(fd) };
}

/**
 * Creates a named namespace, as `ip netns add` does: /run/netns a shared
 * mount, the namespace bind-mounted on /run/netns/NAME. The namespace is
 * made on a short-lived thread; the caller's thread never moves. An
 * existing name rejects with code 'EEXIST' and changes nothing.
 *
 * @example
 * await netns.create('red')
 */
export async function create(name: string): Promise<void> {
  validateName(name);
  try {
    native.createNamed(NETNS_RUN_DIR, name);
  } catch (error) {
    const path = `${NETNS_RUN_DIR}/${name}`;
    throw annotateSystemError(error, `netns.create ${path}`, path);
  }
}

/**
 * Deletes a named namespace like `ip netns del`: the mount is detached and
 * the file removed; the namespace itself lives on while processes or fds
 * still use it. Missing: code 'ENOENT'.
 */
export async function remove(name: string): Promise<void> {
  validateName(name);
  try {
    native.deleteNamed(`${NETNS_RUN_DIR}/${name}`);
  } catch (error) {
    const path = `${NETNS_RUN_DIR}/${name}`;
    throw annotateSystemError(error, `netns.delete ${path}`, path);
  }
}

/** Names under /run/netns, sorted: the same set `ip netns list` shows. */
export async function list(): Promise<string[]> {
  try {
    const entries = await fs.promises.readdir(NETNS_RUN_DIR);
    return entries.sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export async function exists(name: string): Promise<boolean> {
  validateName(name);
  try {
    await fs.promises.access(`${NETNS_RUN_DIR}/${name}`);
    return true;
  } catch {
    return false;
  }
}

let threadpoolWarm = false;
let switchDepth = 0;

/** True while runSync has the main thread in another namespace. */
export function insideRunSync(): boolean {
  return switchDepth > 0;
}

/**
 * Runs fn synchronously on this thread inside the namespace, and always
 * switches back, also when fn throws; calls nest. Only synchronous work
 * belongs in fn: whatever it starts asynchronously runs later, back in the
 * original namespace. If switching back ever fails the process aborts.
 *
 * @example
 * const server = netns.runSync('red', () => net.createServer().listen(8080))
 */
export function runSync<T>(ref: NetnsRef, fn: () => T): T {
  if (typeof fn !== 'function') throw invalidType('fn', 'a function', fn);
  if (!threadpoolWarm) {
    // libuv makes its pool on first use and its threads inherit the
    // creator's namespace: make it now, while we are at home.
    native.warmThreadpool();
    threadpoolWarm = true;
  }
  return withNetnsFd(ref, (fd) => {
    switchDepth++;
    try {
      return native.runIn(fd, fn);
    } finally {
      switchDepth--;
    }
  });
}

/**
 * child_process.spawn, with the child in the namespace. No shell is used
 * unless the caller passes `shell` itself.
 *
 * @example
 * const child = netns.spawn('red', 'ping', ['-c1', '10.0.0.2'], { stdio: 'inherit' })
 */
export function spawn(
  ref: NetnsRef,
  command: string,
  args: readonly string[] = [],
  options: childProcess.SpawnOptions = {},
): childProcess.ChildProcess {
  // The fork happens inside spawn(), synchronously, so the child starts
  // in the namespace the main thread is in at that moment.
  return runSync(ref, () => childProcess.spawn(command, args, options));
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs a command in the namespace to completion. Resolves even on a
 * non-zero exit (look at `code`); rejects only if it could not start.
 *
 * @example
 * const { stdout } = await netns.exec('red', 'ip', ['-j', 'link'])
 */
export function exec(
  ref: NetnsRef,
  command: string,
  args: readonly string[] = [],
  options: childProcess.SpawnOptions & { input?: string | Buffer } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const { input, ...spawnOptions } = options;
    const child = spawn(ref, command, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, signal }),
    );
    child.stdin?.end(input);
  });
}

/**
 * A worker_thread living in the namespace: it is started while the main
 * thread is inside, and every socket it makes (net, dgram, http) is there.
 *
 * @example
 * const w = netns.worker('red', require.resolve('./server.js'))
 */
export function worker(ref: NetnsRef, file: string | URL, options?: WorkerOptions): Worker {
  return runSync(ref, () => new Worker(file, options));
}

const SOCKET_KINDS = {
  tcp4: [AF_INET, SOCK_STREAM, 0],
  tcp6: [AF_INET6, SOCK_STREAM, 0],
  udp4: [AF_INET, SOCK_DGRAM, 0],
  udp6: [AF_INET6, SOCK_DGRAM, 0],
} as const;

export interface SocketFdOptions {
  /** Bind to this port (0: any) before handing the fd over. */
  port?: number;
  /** Bind to this local address; the family's wildcard by default when `port` is given. */
  address?: string;
}

/** struct sockaddr_in / sockaddr_in6, as bind(2) takes them (family in host order, port in network order). */
function sockaddr(family: 4 | 6, port: number, address: Buffer): Buffer {
  const out = Buffer.alloc(family === 4 ? 16 : 28);
  out.writeUInt16LE(family === 4 ? AF_INET : AF_INET6, 0);
  out.writeUInt16BE(port, 2);
  address.copy(out, family === 4 ? 4 : 8);
  return out;
}

/**
 * A new TCP or UDP socket fd that lives in the namespace, for Node to
 * adopt. Node's own sockets are made later than the call that asks for
 * them, outside any runSync window, so this is how they get into a
 * namespace without a worker. With `port`/`address` the socket is bound
 * first, so it can serve:
 * - TCP client: `new net.Socket({ fd }).connect(port, host)`;
 * - TCP server: `net.createServer().listen({ fd })` (bind first);
 * - UDP: `dgram.createSocket('udp4').bind({ fd })` (bind first to receive
 *   on a known port).
 * The fd is close-on-exec and non-blocking; whoever adopts it closes it.
 *
 * @example
 * const server = net.createServer(onConn).listen({ fd: netns.socketFd('red', 'tcp4', { port: 8080 }) })
 * const udp = dgram.createSocket('udp4').bind({ fd: netns.socketFd('red', 'udp4', { port: 5353 }) })
 */
export function socketFd(ref: NetnsRef, kind: keyof typeof SOCKET_KINDS, options: SocketFdOptions = {}): number {
  const spec = SOCKET_KINDS[kind];
  if (!spec) throw invalidValue('kind', kind, "must be 'tcp4', 'tcp6', 'udp4' or 'udp6'");
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const family = spec[0] === AF_INET ? 4 : 6;
  let bindTo: Buffer | undefined;
  if (options.port !== undefined || options.address !== undefined) {
    const port = options.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
      throw invalidValue('options.port', port, 'must be an integer 0-65535');
    let address: Buffer = Buffer.alloc(family === 4 ? 4 : 16);
    if (options.address !== undefined) {
      const ip = typeof options.address === 'string' ? parseIP(options.address) : null;
      if (!ip || ip.family !== family)
        throw invalidValue('options.address', options.address, `must be an IPv${family} address for ${kind}`);
      address = ip.bytes;
    }
    bindTo = sockaddr(family, port, address);
  }
  const fd = withNetnsFd(ref, (nsFd) => native.socketIn(nsFd, spec[0], spec[1], spec[2]));
  if (bindTo) {
    try {
      // As Node does for its own servers: a restarted server can rebind at once.
      if (spec[1] === SOCK_STREAM) native.setSocketOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
      native.bindFd(fd, bindTo);
    } catch (error) {
      native.closeFd(fd);
      throw error;
    }
  }
  return fd;
}

export { remove as delete };
