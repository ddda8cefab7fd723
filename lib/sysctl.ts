/**
 * Network sysctls of a handle's namespace (/proc/sys/net/...). The file is
 * opened on a short-lived thread inside the namespace, because /proc/sys/net
 * resolves against the opener's namespace; the open fd then reads and
 * writes that namespace's value from any thread.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { invalidType, invalidValue } from './errors';
import { native } from './native';

const read = promisify(fs.read);
const write = promisify(fs.write);
const close = promisify(fs.close);

/** A sysctl value to write: numbers and booleans as the kernel's decimal text, arrays joined by tabs. */
export type SysctlValue = string | number | boolean | readonly (string | number)[];

/** What the sysctl group needs of a handle. */
export interface SysctlContext {
  /** The namespace fd to open in, or -1 for the calling thread's; throws when the handle is closed. */
  namespaceFd(): number;
}

const MAX_VALUE_BYTES = 64 * 1024;

/**
 * The path under /proc/sys of a key: 'net.ipv4.ip_forward', or with '/' as
 * separator ('net/ipv4/conf/eth0.100/forwarding') when a component itself
 * holds dots, as sysctl(8) accepts. Only net.* keys are per namespace.
 */
export function sysctlPath(key: unknown): string {
  if (typeof key !== 'string') throw invalidType('key', "a sysctl name like 'net.ipv4.ip_forward'", key);
  const parts = key.includes('/') ? key.split('/') : key.split('.');
  if (parts[0] !== 'net')
    throw invalidValue('key', key, "must be a network sysctl, starting with 'net.' (only those are per namespace)");
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.includes('\0'))
      throw invalidValue('key', key, "must not have empty, '.' or '..' components");
  }
  if (parts.length < 2) throw invalidValue('key', key, 'must name a sysctl under net');
  return `/proc/sys/${parts.join('/')}`;
}

function valueText(value: unknown): string {
  if (typeof value === 'string') {
    if (value.includes('\0')) throw invalidValue('value', value, 'must not contain NUL');
    return value;
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalidValue('value', value, 'must be an integer');
    return String(value);
  }
  if (Array.isArray(value) && value.length > 0) return value.map(valueText).join('\t');
  throw invalidType('value', 'a string, integer, boolean or array of them', value);
}

function sysctlError(error: NodeJS.ErrnoException, key: string, path: string, action: string): Error {
  const reason =
    error.code === 'ENOENT' ? 'no such sysctl in this namespace' : (error.message.split(': ')[1] ?? error.message);
  const out = new Error(`sysctl ${action} ${key}: ${reason}`) as NodeJS.ErrnoException;
  out.code = error.code;
  out.errno = error.errno === undefined ? undefined : Math.abs(error.errno); // positive, like NetlinkError
  out.syscall = error.syscall;
  out.path = path;
  return out;
}

/**
 * The `sysctl` group: network sysctls of the handle's namespace.
 *
 * @example
 * await h.sysctl.set('net.ipv4.ip_forward', 1)
 * await h.sysctl.get('net.ipv4.ip_forward')   // '1'
 */
export class SysctlApi {
  constructor(private readonly ctx: () => SysctlContext) {}

  /**
   * The value as the kernel prints it, without the trailing newline
   * (several values stay tab-separated). A missing key rejects with code
   * 'ENOENT'.
   *
   * @example
   * const forwarding = (await h.sysctl.get('net.ipv6.conf.all.forwarding')) === '1'
   */
  async get(key: string): Promise<string> {
    const path = sysctlPath(key);
    const fd = this.openIn(key, path, fs.constants.O_RDONLY, 'get');
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.alloc(4096);
        const { bytesRead } = await read(fd, buf, 0, buf.length, null);
        if (bytesRead === 0 || total > MAX_VALUE_BYTES) break;
        chunks.push(buf.subarray(0, bytesRead));
        total += bytesRead;
      }
      return Buffer.concat(chunks).toString().replace(/\n$/, '');
    } catch (error) {
      throw sysctlError(error as NodeJS.ErrnoException, key, path, 'get');
    } finally {
      await close(fd);
    }
  }

  /**
   * Writes a value: `true`/`false` as 1/0, arrays tab-separated. The
   * kernel's refusal (EINVAL for a value out of range, EPERM/EACCES without
   * privilege) rejects with that code.
   *
   * @example
   * await h.sysctl.set('net.ipv6.conf.all.disable_ipv6', true)
   * await h.sysctl.set('net.ipv4.ip_local_port_range', [20000, 30000])
   */
  async set(key: string, value: SysctlValue): Promise<void> {
    const path = sysctlPath(key);
    const text = valueText(value);
    const fd = this.openIn(key, path, fs.constants.O_WRONLY, 'set');
    try {
      await write(fd, `${text}\n`);
    } catch (error) {
      throw sysctlError(error as NodeJS.ErrnoException, key, path, 'set');
    } finally {
      await close(fd);
    }
  }

  private openIn(key: string, path: string, flags: number, action: string): number {
    const netnsFd = this.ctx().namespaceFd();
    try {
      return native.openIn(netnsFd, path, flags);
    } catch (error) {
      throw sysctlError(error as NodeJS.ErrnoException, key, path, action);
    }
  }
}
