/**
 * Signals and slow consumers. Signals interrupt syscalls (EINTR) on
 * whichever thread they land: the native loops must retry, never drop a
 * datagram or fail a request. A monitor whose consumer stalls must not
 * grow memory without bound: it keeps at most maxQueue events and then
 * says 'overrun'.
 */
import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import * as nl from '../../lib';
import { describeIf, loadProbe, useNetns } from '../harness/env';
import * as fs from 'node:fs';
import * as os from 'node:os';

const execFile = promisify(execFileCb);
const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

describeRoot('signals and slow consumers', () => {
  const ns = useNetns();

  it('requests, dumps and namespace threads under a stream of signals lose nothing', () => {
    // In a plain node process: jest's sandboxed `process` cannot install signal handlers,
    // and without a handler a signal interrupts nothing.
    const run = spawnSync(process.execPath, [path.join(__dirname, 'signal-load.js'), ns.name, '3000'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      signals: number;
      results: Record<string, number>;
      error?: string;
    };
    expect(out.error).toBeUndefined();
    expect(out.signals).toBeGreaterThan(1000);
    expect(Object.keys(out.results)).toEqual(['ok']);
    expect(out.results.ok).toBeGreaterThan(1000);
  }, 90_000);

  it('a monitor whose consumer stalls keeps at most maxQueue events, then reports an overrun', async () => {
    const h = await nl.open({ netns: ns.name });
    const maxQueue = 200;
    const m = h.monitor({ groups: ['link', 'addr4'], maxQueue });
    const it = m[Symbol.asyncIterator]();
    try {
      // Start iterating (so events queue for the iterator), then stall while thousands arrive.
      const first = it.next();
      const lines: string[] = [];
      for (let i = 0; i < 150; i++) {
        lines.push(`link add st${i} type bridge`, `addr add 10.99.${i % 250}.${1 + Math.floor(i / 250)}/16 dev st${i}`);
        lines.push(`link del st${i}`);
      }
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rtnl-stall-')), 'batch');
      fs.writeFileSync(file, lines.join('\n') + '\n');
      const rssBefore = process.memoryUsage().rss;
      // Asynchronously, so this process reads the notifications as they come (into the queue).
      await execFile('ip', ['-n', ns.name, '-force', '-batch', file]);
      await new Promise((r) => setTimeout(r, 300)); // let every notification arrive
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 2 ** 20);

      // Now drain: what waited is bounded, and the consumer was told it missed events.
      const events: { type: string; reason?: string }[] = [(await first).value];
      for (;;) {
        const next = await Promise.race([it.next(), new Promise<null>((r) => setTimeout(() => r(null), 300))]);
        if (next === null || next.done) break;
        events.push(next.value);
      }
      const overruns = events.filter((e) => e.type === 'overrun');
      expect(overruns.length).toBeGreaterThan(0);
      expect(overruns.every((e) => e.reason === 'queue' || e.reason === 'kernel')).toBe(true);
      expect(events.length).toBeLessThanOrEqual(maxQueue + 2);
    } finally {
      m.close(); // ends the pending next(), so the generator can finish
      await it.return?.();
      await h.close();
    }
  }, 60_000);
});
