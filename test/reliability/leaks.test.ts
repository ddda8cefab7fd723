/**
 * Leak loops: open and close everything many times and check that the
 * process ends where it started: same fds (by count and by target), the
 * JS heap after a full GC within 8 MB, and RSS within a bound. Each loop
 * warms up first, so caches and lazily built schemas are not mistaken for
 * leaks.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as nl from '../../lib';
import { NetlinkError } from '../../lib/errors';
import { describeIf, loadProbe, randomName, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

/** The fds of this process by target, with counts ('socket:' and 'net:' collapsed: their inodes change). */
function fdProfile(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the directory's own fd, gone already
    }
    const kind = target.replace(/:\[\d+\]$/, '');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

const rssMB = () => process.memoryUsage().rss / 2 ** 20;
// A real collection before measuring the JS heap: without one, garbage looks like a leak.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapMB = () => {
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
};
// Under `npm run test:asan` freed memory waits in ASan's quarantine (256 MB by default) before
// reuse: RSS grows by up to that much without a leak. The fd checks are unaffected.
const ASAN_QUARANTINE_MB = /libasan/.test(process.env.LD_PRELOAD ?? '') ? 256 : 0;

/**
 * Runs `body` once to warm up, then checks around the real run: fds (exact), the JS heap and
 * Buffers after a full GC (within 8 MB) and RSS (within `maxRssGrowthMB`: the allocator keeps
 * freed pages, and other test files share this process).
 */
async function expectNoLeak(body: () => Promise<void>, maxRssGrowthMB: number): Promise<void> {
  await body();
  // The baseline after a full GC and a few loop turns: garbage from earlier tests in this
  // process (a socket nobody closed) is finalized, and its fd closed, before it is counted.
  const heapBefore = heapMB();
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const fdsBefore = fdProfile();
  const rssBefore = rssMB();
  await body();
  // A socket's close is immediate, but Node closes uv handles on the next loop turn.
  await new Promise((r) => setImmediate(r));
  expect(fdProfile()).toEqual(fdsBefore);
  expect(heapMB() - heapBefore).toBeLessThan(8);
  expect(rssMB() - rssBefore).toBeLessThan(maxRssGrowthMB + ASAN_QUARANTINE_MB);
}

describeRoot('leak loops', () => {
  const ns = useNetns();

  it('10k handle open/close in a namespace', async () => {
    await expectNoLeak(async () => {
      for (let i = 0; i < 5_000; i++) {
        const h = await nl.open({ netns: ns.name });
        if (i % 500 === 0) expect((await h.link.get('lo')).index).toBe(1);
        await h.close();
      }
    }, 100);
  }, 120_000);

  it('1k namespace create/delete', async () => {
    const names: string[] = [];
    try {
      await expectNoLeak(async () => {
        for (let i = 0; i < 500; i++) {
          const name = randomName();
          names.push(name);
          await nl.netns.create(name);
          if (i % 100 === 0) {
            await using h = await nl.open({ netns: name });
            expect((await h.link.list()).map((l) => l.name)).toEqual(['lo']);
          }
          await nl.netns.delete(name);
          names.pop();
        }
      }, 100);
    } finally {
      for (const name of names) await nl.netns.delete(name).catch(() => undefined);
    }
    expect(await nl.netns.list()).not.toContain(names[0]);
  }, 120_000);

  it('1k monitor start/stop', async () => {
    const h = await nl.open({ netns: ns.name });
    try {
      await expectNoLeak(async () => {
        for (let i = 0; i < 500; i++) {
          const m = h.monitor({ groups: ['link', 'addr4', 'addr6', 'route4', 'neigh'], listExisting: i % 50 === 0 });
          if (i % 50 === 0) {
            // A monitor that got as far as its snapshot, then stopped mid-stream.
            for await (const ev of m) if (ev.type === 'snapshot' && ev.state === 'end') break;
          }
          m.close();
        }
      }, 100);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('10k failed requests', async () => {
    const h = await nl.open({ netns: ns.name });
    try {
      let failures = 0;
      await expectNoLeak(async () => {
        for (let round = 0; round < 5; round++) {
          const results = await Promise.allSettled(
            Array.from({ length: 1000 }, (_, i) => (i % 2 ? h.link.get(99_000 + i) : h.addr.add('lo', '127.0.0.1/8'))),
          );
          for (const r of results) {
            expect(r.status).toBe('rejected');
            if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(NetlinkError);
            failures++;
          }
        }
      }, 100);
      expect(failures).toBe(10_000);
    } finally {
      await h.close();
    }
  }, 120_000);
});
