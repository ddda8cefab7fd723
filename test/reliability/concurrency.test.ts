/**
 * Concurrency: thousands of mixed requests and dumps in flight on one
 * handle, several handles at once, worker threads using the library while
 * the main thread does, and workers terminated mid-request.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as nl from '../../lib';
import { describeIf, ip, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');
const WORKER = path.join(__dirname, 'worker-mixed.js');

type Handle = Awaited<ReturnType<typeof nl.open>>;

/** One of five kinds of call, each checked; 'ok' or what went wrong. */
async function mixed(h: Handle, i: number, veth: string): Promise<string> {
  switch (i % 5) {
    case 0:
      return (await h.link.get('lo')).index === 1 ? 'ok' : 'wrong lo';
    case 1:
      return (await h.link.list()).some((l) => l.name === veth) ? 'ok' : 'list without the veth';
    case 2:
      return (await h.addr.list()).some((a) => a.address === '10.77.0.1') ? 'ok' : 'addr list without 10.77.0.1';
    case 3:
      return (await h.route.list()).some((r) => r.dst === '10.77.0.0/24') ? 'ok' : 'route list without 10.77.0.0/24';
    default:
      return h.link.get(987_654).then(
        () => 'found a missing link',
        (e: NodeJS.ErrnoException) => (e.code === 'ENODEV' ? 'ok' : `unexpected ${e.code}`),
      );
  }
}

function tally(results: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function runWorker(workerData: object): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData });
    w.once('message', (m: Record<string, number> & { error?: string }) => {
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

describeRoot('concurrency', () => {
  const ns = useNetns();
  const veth = 'cv0';

  beforeAll(() => {
    ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'cv1'], ns.name);
    ip(['link', 'set', veth, 'up'], ns.name);
    ip(['addr', 'add', '10.77.0.1/24', 'dev', veth], ns.name);
  });

  it('10k concurrent mixed requests and dumps on one handle', async () => {
    const h = await nl.open({ netns: ns.name });
    try {
      const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => mixed(h, i, veth)));
      expect(tally(results)).toEqual({ ok: 10_000 });
    } finally {
      await h.close();
    }
  }, 120_000);

  it('several handles at once, and worker threads alongside the main thread', async () => {
    const handles = await Promise.all(Array.from({ length: 4 }, () => nl.open({ netns: ns.name })));
    try {
      const [main, ...workers] = await Promise.all([
        Promise.all(handles.flatMap((h) => Array.from({ length: 1500 }, (_, i) => mixed(h, i, veth)))).then(tally),
        runWorker({ netns: ns.name, count: 2000 }),
        runWorker({ netns: ns.name, count: 2000 }),
      ]);
      expect(main).toEqual({ ok: 6000 });
      for (const w of workers) expect(w).toEqual({ ok: 2000 });
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  }, 120_000);

  it('workers terminated mid-request (dumps, a monitor, thousands in flight) do not crash the process', async () => {
    const h = await nl.open({ netns: ns.name });
    try {
      for (let i = 0; i < 4; i++) {
        const w = new Worker(WORKER, { workerData: { netns: ns.name, forever: true } });
        await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        // Meanwhile the main thread is busy too.
        const mine = Promise.all(Array.from({ length: 500 }, (_, j) => mixed(h, j, veth)));
        await new Promise((r) => setTimeout(r, 20 * i));
        expect(await w.terminate()).toBe(1);
        expect(tally(await mine)).toEqual({ ok: 500 });
      }
      expect((await h.link.get(veth)).name).toBe(veth);
    } finally {
      await h.close();
    }
  }, 120_000);
});
