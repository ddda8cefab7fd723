/**
 * The README's first command runs examples/demo.js: it must succeed and
 * leave nothing behind, also when interrupted. Uses the built package
 * (dist/, made by npm install).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { describeIf, ipJson, loadProbe } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');
const DEMO = path.join(__dirname, '..', '..', 'examples', 'demo.js');

const demoNamespaces = () =>
  (ipJson(['netns', 'list']) as { name: string }[]).map((n) => n.name).filter((n) => n.startsWith('rtnl-demo-'));

describeRoot('npm run demo', () => {
  it('runs the TCP echo across two namespaces and deletes them', () => {
    const out = execFileSync(process.execPath, [DEMO], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/client in blue connected from 10\.200\.0\.2 to 10\.200\.0\.1:7007/);
    expect(out).toMatch(/1000 echo round trips: median [\d.]+ us/);
    expect(out).toMatch(/done: everything it made is gone/);
    const made = [...out.matchAll(/created namespace (\S+)/g)].map((m) => m[1]);
    expect(made).toHaveLength(2);
    for (const name of made) expect(demoNamespaces()).not.toContain(name);
  });

  it.each([
    ['SIGINT', 130, /created namespace rtnl-demo-red/],
    ['SIGINT', 130, /echo server listening/],
    ['SIGTERM', 143, /links up/],
  ] as const)('on %s (exit %d) after %s, deletes what it made', async (signal, exitCode, after) => {
    const child = spawn(process.execPath, [DEMO], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!signalled && after.test(out)) {
        signalled = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(signalled).toBe(true);
    expect(code).toBe(exitCode);
    expect(out).toContain(`${signal}: cleaning up`);
    const made = [...out.matchAll(/created namespace (\S+)/g)].map((m) => m[1]);
    expect(made.length).toBeGreaterThan(0);
    const left = demoNamespaces();
    for (const name of made) expect(left).not.toContain(name);
  });
});
