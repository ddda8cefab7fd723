/**
 * The README's first command runs examples/demo.js: it must succeed and
 * leave nothing behind. Uses the built package (dist/, made by npm install).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describeIf, ipJson, loadProbe } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

describeRoot('npm run demo', () => {
  it('runs the TCP echo across two namespaces and deletes them', () => {
    const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'demo.js')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out).toMatch(/client in blue connected from 10\.200\.0\.2 to 10\.200\.0\.1:7007/);
    expect(out).toMatch(/1000 echo round trips: median [\d.]+ us/);
    expect(out).toMatch(/done: everything it made is gone/);
    const left = (ipJson(['netns', 'list']) as { name: string }[]).filter((n) => n.name.startsWith('rtnl-demo-'));
    expect(left).toEqual([]);
  });
});
