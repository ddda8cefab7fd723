/**
 * Jest globalSetup: runs once in the Jest parent process before any test file.
 *
 * - As root, snapshots the host network namespace (host-snapshot.ts) so global-teardown.ts can prove
 *   the run left it unchanged, and records which named namespaces existed already.
 * - Probes what the kernel supports (probe.ts) once, so test files can choose `it` or a skip with the
 *   reason printed at load time (env.ts `loadProbe()`, `itIf()`).
 *
 * Results go to files in a temporary directory; their paths travel to the test workers and to the
 * teardown through the environment (RTNL_TEST_HOST_SNAPSHOT, RTNL_TEST_PROBE), and RTNL_TEST_RUN_ID
 * tags the namespaces this run creates (env.ts `randomName()`).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listNetns, takeHostSnapshot } from './host-snapshot';
import { describeMissing, probeKernel } from './probe';

export default function globalSetup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtnl-jest-'));
  process.env.RTNL_TEST_RUN_ID = randomBytes(2).toString('hex');

  if (process.getuid?.() === 0) {
    const file = path.join(dir, 'host-snapshot.json');
    fs.writeFileSync(file, JSON.stringify({ snapshot: takeHostSnapshot(), netns: listNetns() }));
    process.env.RTNL_TEST_HOST_SNAPSHOT = file;
  }

  const started = Date.now();
  const probe = probeKernel();
  const probeFile = path.join(dir, 'probe.json');
  fs.writeFileSync(probeFile, JSON.stringify(probe, null, 2));
  process.env.RTNL_TEST_PROBE = probeFile;

  process.stderr.write(
    `\n[rtnl-test] kernel ${probe.kernel}, probed in ${Date.now() - started} ms (${probeFile}); missing: ${describeMissing(probe)}\n`,
  );
}
