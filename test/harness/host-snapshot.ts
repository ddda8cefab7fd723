/**
 * A normalised picture of the host network namespace (the one the Jest parent process runs in), taken
 * before and after the test run by global-setup.ts and global-teardown.ts: tests must never change it.
 *
 * Each section is a sorted list of canonical JSON strings (or `path = value` lines for sysctls), so that
 * a comparison is a set difference and a diff reads as `- [section] before` / `+ [section] after`.
 * Volatile fields (counters, carrier, expiry timers) are dropped so the check is strict but not flaky.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type HostSnapshot = Record<string, string[]>;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Link flags that follow carrier, not configuration. */
const VOLATILE_LINK_FLAGS = new Set(['LOWER_UP', 'NO-CARRIER', 'DORMANT', 'M-DOWN']);
/** Route fields that count down or describe cache state. */
const VOLATILE_ROUTE_KEYS = new Set(['expires', 'cache', 'lastuse', 'used']);
/** nftables fields that count traffic or time. */
const VOLATILE_NFT_KEYS = new Set(['packets', 'bytes', 'used', 'expires']);
/** Sysctls that are not configuration: secrets made lazily, write-only triggers. */
const VOLATILE_SYSCTL = /(^|\/)(tcp_fastopen_key|stable_secret|flush)$/;
const SYSCTL_ROOTS = ['/proc/sys/net/core', '/proc/sys/net/ipv4', '/proc/sys/net/ipv6'];

/** Stable JSON: object keys sorted, so equal values give equal strings. */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function pick(obj: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

function omitDeep(value: Json, keys: Set<string>): Json {
  if (Array.isArray(value)) return value.map((v) => omitDeep(v, keys));
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) if (!keys.has(k)) out[k] = omitDeep(v, keys);
    return out;
  }
  return value;
}

/** Runs a `-j` command and parses its JSON; a tool failure becomes one `<error ...>` entry, so it is compared too. */
function runJson(cmd: string, args: string[]): Json[] | string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    if (out.trim() === '') return [];
    const parsed = JSON.parse(out) as Json;
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return `<error running ${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim().split('\n')[0]}>`;
  }
}

function section(items: Json[] | string, normalise: (item: JsonObject) => Json | Json[] = (x) => x): string[] {
  if (typeof items === 'string') return [items];
  const out: string[] = [];
  for (const item of items as JsonObject[]) {
    const n = normalise(item);
    if (Array.isArray(n)) out.push(...n.map(canonical));
    else out.push(canonical(n));
  }
  return out.sort();
}

function commandExists(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, cmd)));
}

function readSysctls(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (!VOLATILE_SYSCTL.test(p)) {
        try {
          out.push(`${p.slice('/proc/sys/'.length)} = ${fs.readFileSync(p, 'utf8').trim().replace(/\s+/g, ' ')}`);
        } catch {
          // write-only or unreadable entries are not state we can compare
        }
      }
    }
  };
  SYSCTL_ROOTS.forEach(walk);
  return out.sort();
}

/** Takes the snapshot. Needs root for a complete picture (nft, some sysctls); about 100 ms. */
export function takeHostSnapshot(): HostSnapshot {
  const snap: HostSnapshot = {
    links: section(runJson('ip', ['-j', 'link', 'show']), (l) => {
      const flags = Array.isArray(l.flags) ? l.flags.filter((f) => !VOLATILE_LINK_FLAGS.has(f as string)) : l.flags;
      return { ...pick(l, ['ifname', 'ifindex', 'mtu', 'address', 'master', 'link_type']), flags };
    }),
    addresses: section(runJson('ip', ['-j', 'addr', 'show']), (l) =>
      ((l.addr_info ?? []) as JsonObject[]).map((a) => ({
        ifname: l.ifname,
        ...pick(a, ['family', 'local', 'prefixlen']),
      })),
    ),
    routes4: section(runJson('ip', ['-j', '-4', 'route', 'show', 'table', 'all']), (r) =>
      omitDeep(r, VOLATILE_ROUTE_KEYS),
    ),
    routes6: section(runJson('ip', ['-j', '-6', 'route', 'show', 'table', 'all']), (r) =>
      omitDeep(r, VOLATILE_ROUTE_KEYS),
    ),
    rules4: section(runJson('ip', ['-j', '-4', 'rule', 'show'])),
    rules6: section(runJson('ip', ['-j', '-6', 'rule', 'show'])),
    nexthops: section(runJson('ip', ['-j', 'nexthop', 'show'])),
    permanentNeighbours: section(runJson('ip', ['-j', 'neigh', 'show', 'nud', 'permanent'])),
    qdiscs: section(runJson('tc', ['-j', 'qdisc', 'show']), (q) => omitDeep(q, new Set(['refcnt']))),
    sysctls: readSysctls(),
  };
  if (commandExists('nft')) {
    snap.nftables = section(runJson('nft', ['-j', 'list', 'ruleset']), (doc) => {
      const items = Array.isArray(doc.nftables) ? doc.nftables : [doc];
      return items
        .filter((i) => !(i && typeof i === 'object' && 'metainfo' in i))
        .map((i) => omitDeep(i, VOLATILE_NFT_KEYS));
    });
  }
  return snap;
}

/** Lines describing what changed, `- [section] old` / `+ [section] new`; empty when equal. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): string[] {
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = new Set(before[name] ?? []);
    const b = new Set(after[name] ?? []);
    for (const item of a) if (!b.has(item)) lines.push(`- [${name}] ${item}`);
    for (const item of b) if (!a.has(item)) lines.push(`+ [${name}] ${item}`);
  }
  return lines;
}

/** Names of the named network namespaces (`ip netns list`). */
export function listNetns(): string[] {
  try {
    return fs
      .readdirSync('/run/netns')
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
}
