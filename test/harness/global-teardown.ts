/**
 * Jest globalTeardown: runs once in the Jest parent process after every test file, and after the
 * reporters (so after summary-reporter.js wrote .jest-results.json).
 *
 * Fails the run when the tests left a trace on the host:
 * - the host network namespace differs from global-setup's snapshot (links, addresses, routes, rules,
 *   nexthops, permanent neighbours, qdiscs, sysctls, nftables);
 * - a named namespace `rtnl-test-*` that did not exist before the run is still there (such namespaces
 *   of this run are then deleted, so one failure does not pollute the next run).
 * Each problem is printed, counted as one more failure in .jest-results.json, the summary line is
 * printed again, and the teardown throws so that Jest exits non-zero.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { diffSnapshots, listNetns, takeHostSnapshot, type HostSnapshot } from './host-snapshot';

interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  notes?: string[];
  hostChanged?: boolean;
  hostDiff?: string[];
  leftoverNetns?: string[];
  [key: string]: unknown;
}

const TEST_PREFIX = 'rtnl-test-';
/** Names made by env.ts randomName() carry a run id: rtnl-test-<4 hex>-<random>. */
const RUN_TAGGED = /^rtnl-test-([0-9a-f]{4})-/;
const SUMMARY_KEY = Symbol.for('rtnl.test.summary');

export default function globalTeardown(globalConfig: { rootDir: string }): void {
  const problems: string[] = [];
  const labels: string[] = [];
  const summaryFile = path.join(globalConfig.rootDir, '.jest-results.json');
  const summary: Summary = readSummary(summaryFile);
  const runId = process.env.RTNL_TEST_RUN_ID;

  const snapshotFile = process.env.RTNL_TEST_HOST_SNAPSHOT;
  let netnsBefore: string[] = [];
  if (snapshotFile) {
    const saved = JSON.parse(fs.readFileSync(snapshotFile, 'utf8')) as { snapshot: HostSnapshot; netns: string[] };
    netnsBefore = saved.netns;
    const diff = diffSnapshots(saved.snapshot, takeHostSnapshot());
    if (diff.length > 0) {
      problems.push(
        `The host network namespace changed during the test run (- before, + after):\n${diff.map((l) => `    ${l}`).join('\n')}`,
      );
      summary.hostChanged = true;
      labels.push('host network namespace changed');
      summary.hostDiff = diff;
    }
  }

  const fresh = listNetns().filter((n) => n.startsWith(TEST_PREFIX) && !netnsBefore.includes(n));
  // Namespaces tagged with another run's id belong to a concurrent Jest run, not to us.
  const leftovers = fresh.filter((n) => RUN_TAGGED.exec(n)?.[1] === runId || !RUN_TAGGED.test(n));
  if (leftovers.length > 0) {
    const deleted = leftovers.filter((n) => n.startsWith(`${TEST_PREFIX}${runId}-`) && deleteNetns(n));
    problems.push(
      `Test namespaces were left behind (tests must delete what they create, even on failure): ${leftovers.join(' ')}` +
        (deleted.length > 0 ? `\n    deleted now: ${deleted.join(' ')}` : ''),
    );
    summary.leftoverNetns = leftovers;
    labels.push(`${leftovers.length} test namespace(s) left behind`);
  }

  // The temporary directory global-setup.ts made (and only that: the variables could come from elsewhere).
  for (const file of [snapshotFile, process.env.RTNL_TEST_PROBE]) {
    const dir = file && path.dirname(file);
    if (dir && path.basename(dir).startsWith('rtnl-jest-')) fs.rmSync(dir, { recursive: true, force: true });
  }

  if (problems.length === 0) return;
  summary.failed += problems.length;
  summary.success = false;
  summary.notes = [...(summary.notes ?? []), ...problems.map((p) => p.split('\n')[0].replace(/:$/, ''))];
  fs.writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  process.stderr.write(`\n[rtnl-test] FAILED after the tests:\n${problems.map((p) => `  ${p}`).join('\n')}\n\n`);
  // summary-reporter.js prints the (now updated) summary line when Jest exits; without it, print it here.
  if (!(globalThis as Record<symbol, unknown>)[SUMMARY_KEY]) {
    process.stdout.write(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped\n`);
  }
  const error = new Error(`the tests left traces on the host (see above): ${labels.join(', ')}`);
  error.stack = error.message; // the stack of this function says nothing useful
  throw error;
}

function readSummary(file: string): Summary {
  const fromReporter = (globalThis as Record<symbol, unknown>)[SUMMARY_KEY] as Summary | undefined;
  if (fromReporter) return fromReporter;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Summary;
  } catch {
    return { passed: 0, failed: 0, skipped: 0, notes: ['no summary from test/harness/summary-reporter.js'] };
  }
}

function deleteNetns(name: string): boolean {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
