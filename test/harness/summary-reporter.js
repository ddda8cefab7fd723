'use strict';
// Jest reporter: the plain summary line `N passed, N failed, N skipped`, and .jest-results.json in rootDir
// with the same counts and the details behind them (read by .ci/run and updated by global-teardown.ts).
//
// A test file with an error outside any test (it failed to load, or a beforeAll/afterAll hook failed) counts
// as one more failure, so a broken file cannot make its tests disappear from the count, and a failed
// cleanup cannot pass quietly.
// Skipped tests are listed by reason: env.ts itIf()/describeIf() put `[skipped: reason]` in the name.

const fs = require('node:fs');
const path = require('node:path');

const SUMMARY_KEY = Symbol.for('rtnl.test.summary');
const REASON = /\[skipped: (.*)\]\s*$/;

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.json = Boolean(globalConfig.json);
  }

  onRunComplete(_testContexts, results) {
    const failedTests = [];
    const brokenFiles = [];
    const skippedReasons = {};

    for (const file of results.testResults) {
      const rel = path.relative(this.rootDir, file.testFilePath);
      const failing = file.testResults.filter((t) => t.status === 'failed').length;
      if (file.testExecError || (file.failureMessage && failing === 0)) {
        const e = file.testExecError;
        const message = (e && (e.message || e.stack)) || file.failureMessage || '';
        brokenFiles.push({ file: rel, message: stripAnsi(message).trim().split('\n').slice(0, 5).join('\n') });
      }
      for (const t of file.testResults) {
        const fullName = [...t.ancestorTitles, t.title].join(' › ');
        if (t.status === 'failed') failedTests.push(`${rel} › ${fullName}`);
        if (t.status === 'pending' || t.status === 'skipped' || t.status === 'todo' || t.status === 'disabled') {
          const match = [t.title, ...t.ancestorTitles.slice().reverse()].map((s) => REASON.exec(s)).find(Boolean);
          const reason = match ? match[1] : t.status === 'todo' ? 'todo' : 'no reason given (it.skip, or filtered out)';
          skippedReasons[reason] = (skippedReasons[reason] || 0) + 1;
        }
      }
    }

    const notes = [];
    let failed = results.numFailedTests + brokenFiles.length;
    if (results.snapshot && results.snapshot.failure) {
      failed += 1;
      notes.push('snapshot failure (obsolete or unwritten snapshots): counted as 1 failure');
    }
    if (results.runExecError) {
      failed += 1;
      notes.push(
        `the run failed: ${stripAnsi(results.runExecError.message || '').split('\n')[0]}: counted as 1 failure`,
      );
    }
    if (results.wasInterrupted) notes.push('the run was interrupted');
    for (const b of brokenFiles) {
      notes.push(`${b.file}: error outside any test (failed to load, or a hook failed), counted as 1 failure`);
    }

    const summary = {
      passed: results.numPassedTests,
      failed,
      skipped: results.numPendingTests + results.numTodoTests,
      success: failed === 0,
      failedTests,
      brokenFiles,
      skippedReasons,
      notes,
      hostChanged: false,
      leftoverNetns: [],
    };
    globalThis[SUMMARY_KEY] = summary;
    fs.writeFileSync(path.join(this.rootDir, '.jest-results.json'), `${JSON.stringify(summary, null, 2)}\n`);

    const out = [];
    const reasons = Object.entries(skippedReasons).sort((a, b) => b[1] - a[1]);
    if (reasons.length > 0) {
      out.push('Skipped:');
      for (const [reason, count] of reasons) out.push(`  ${count} × ${reason}`);
    }
    for (const note of notes) out.push(`Note: ${note}`);
    if (out.length > 0) process.stderr.write(`\n${out.join('\n')}\n`);

    // The summary line goes out when the process exits, so that it is the last line, after Jest's own
    // summary and after global-teardown.ts (which may add failures to this same object). To stdout, unless
    // stdout carries --json output.
    if (!this.exitHook) {
      this.exitHook = () => {
        const s = globalThis[SUMMARY_KEY];
        // fs.writeSync on the fd: Jest's exit path (exit-x) has replaced process.stdout.write with a no-op.
        if (s) fs.writeSync(this.json ? 2 : 1, `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
      };
      process.once('exit', this.exitHook);
    }
  }
}

function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

module.exports = SummaryReporter;
