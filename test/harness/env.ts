/**
 * Helpers for test files.
 *
 * Jest cannot skip from inside a running test, so a test file decides at load time, from the probe that
 * global-setup.ts made once for the run:
 *
 *   const probe = loadProbe();
 *   const itVlan = itIf(probe.linkKinds.vlan, missing(probe, 'linkKinds', 'vlan'));
 *   itVlan('adds a vlan', async () => { ... });     // or "adds a vlan [skipped: kernel lacks ...]"
 *
 * Integration tests work only inside namespaces they create (`useNetns()` or `randomName()` + cleanup in
 * afterAll/finally); global-teardown.ts fails the run if the host changed or a `rtnl-test-*` namespace is
 * left behind.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { emptyProbe, type Probe } from './probe';

export type { Probe } from './probe';

/** Running as uid 0. */
export const isRoot = process.getuid?.() === 0;

let cachedProbe: Probe | undefined;

/** The run's probe (see probe.ts); without globalSetup, a probe where nothing is available, with the reason. */
export function loadProbe(): Probe {
  if (cachedProbe) return cachedProbe;
  const file = process.env.RTNL_TEST_PROBE;
  if (!file) {
    cachedProbe = emptyProbe('no kernel probe: RTNL_TEST_PROBE is unset (run the tests through jest.config.js)');
  } else {
    try {
      cachedProbe = JSON.parse(fs.readFileSync(file, 'utf8')) as Probe;
    } catch (err) {
      cachedProbe = emptyProbe(`cannot read the kernel probe ${file}: ${(err as Error).message}`);
    }
  }
  return cachedProbe;
}

/**
 * A skip reason for a probed feature, e.g. missing(probe, 'linkKinds', 'vlan') ->
 * "kernel lacks linkKinds.vlan (Error: Unknown device type.)".
 */
export function missing(
  probe: Probe,
  group: 'linkKinds' | 'qdiscs' | 'classifiers' | 'actions' | 'features',
  name: string,
): string;
export function missing(probe: Probe, group: 'nftables' | 'root'): string;
export function missing(probe: Probe, group: string, name?: string): string {
  if (probe.reason) return probe.reason;
  const key = name === undefined ? group : `${group}.${name}`;
  const error = probe.errors[key];
  return `kernel lacks ${key}${error ? ` (${error})` : ''}`;
}

const withReason = (name: string, reason: string) => `${name} [skipped: ${reason}]`;

/** `it` when `condition` holds, else a stand-in that registers the test as skipped, named `name [skipped: reason]`. */
export function itIf(condition: boolean, reason: string): jest.It {
  if (condition) return it;
  const skip = (name: string, fn?: jest.ProvidesCallback, timeout?: number) =>
    it.skip(withReason(name, reason), fn, timeout);
  const each =
    (...table: unknown[]) =>
    (name: string, fn: (...args: never[]) => unknown, timeout?: number) =>
      (it.skip.each as (...t: unknown[]) => (n: string, f: unknown, t?: number) => void)(...table)(
        withReason(name, reason),
        fn,
        timeout,
      );
  return Object.assign(skip, {
    only: skip,
    skip: it.skip,
    todo: it.todo,
    failing: skip,
    concurrent: skip,
    each,
  }) as unknown as jest.It;
}

/** `describe` when `condition` holds, else `describe.skip` with the reason in the block's name. */
export function describeIf(condition: boolean, reason: string): jest.Describe {
  if (condition) return describe;
  const skip = (name: string, fn: jest.EmptyFunction) => describe.skip(withReason(name, reason), fn);
  const each =
    (...table: unknown[]) =>
    (name: string, fn: (...args: never[]) => unknown) =>
      (describe.skip.each as (...t: unknown[]) => (n: string, f: unknown) => void)(...table)(
        withReason(name, reason),
        fn,
      );
  return Object.assign(skip, { only: skip, skip: describe.skip, each }) as unknown as jest.Describe;
}

/** `it` for tests that need root (and `ip netns`), skipped with the reason otherwise. */
export function itRoot(): jest.It {
  const probe = loadProbe();
  return itIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root');
}

function randomSuffix(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

/**
 * A unique name for a namespace (or anything else without a length limit), tagged with this run's id so
 * global-teardown.ts can tell this run's leftovers from a concurrent run's: `rtnl-test-<run>-<random>`.
 */
export function randomName(prefix = 'rtnl-test-'): string {
  const run = process.env.RTNL_TEST_RUN_ID;
  return `${prefix}${run && prefix === 'rtnl-test-' ? `${run}-` : ''}${randomSuffix(8)}`;
}

/** Linux interface names are at most 15 bytes (IFNAMSIZ 16 with the NUL). */
export const IFNAMSIZ_MAX = 15;

/** A random interface name of at most 15 characters: `prefix` (<= 11 characters) + up to 8 random ones. */
export function randomIfName(prefix = 't'): string {
  if (prefix.length > IFNAMSIZ_MAX - 4) {
    throw new RangeError(`randomIfName: prefix ${JSON.stringify(prefix)} leaves fewer than 4 random characters`);
  }
  return prefix + randomSuffix(Math.min(8, IFNAMSIZ_MAX - prefix.length));
}

function runJson(cmd: string, args: string[]): unknown {
  // Big tables (tens of thousands of routes) print more than the 1 MiB default.
  const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  return out.trim() === '' ? [] : JSON.parse(out);
}

/**
 * Runs `ip -j [-n netns] ...args` and returns the parsed JSON (an empty output gives []), as an
 * independent oracle: ipJson(['-d', 'link', 'show', 'dev', 'v0'], ns).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from a tool, shaped by the caller
export function ipJson<T = any>(args: string[], netns?: string): T {
  return runJson('ip', ['-j', ...(netns ? ['-n', netns] : []), ...args]) as T;
}

/** Runs `tc -j [-n netns] ...args` and returns the parsed JSON: tcJson(['qdisc', 'show', 'dev', 'v0'], ns). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from a tool, shaped by the caller
export function tcJson<T = any>(args: string[], netns?: string): T {
  return runJson('tc', ['-j', ...(netns ? ['-n', netns] : []), ...args]) as T;
}

/** Runs `ip [-n netns] ...args` (for setting up a scene with iproute2), throwing with ip's stderr on failure. */
export function ip(args: string[], netns?: string): string {
  return execFileSync('ip', [...(netns ? ['-n', netns] : []), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 28,
  });
}

/**
 * A fresh named namespace for the tests of the enclosing describe block: created with `ip netns add`
 * in beforeAll, deleted in afterAll whatever happened. Read `.name` inside tests and hooks.
 *
 *   const ns = useNetns();
 *   it('...', async () => { await nl.open({ netns: ns.name }) ... });
 */
export function useNetns(): { readonly name: string } {
  const holder = { name: '' };
  beforeAll(() => {
    holder.name = randomName();
    ip(['netns', 'add', holder.name]);
    ip(['link', 'set', 'lo', 'up'], holder.name);
  });
  afterAll(() => {
    if (holder.name) ip(['netns', 'del', holder.name]);
  });
  return holder;
}
