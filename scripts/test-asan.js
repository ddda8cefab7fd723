#!/usr/bin/env node
'use strict';
// `npm run test:asan`: the native addon built with AddressSanitizer (and
// LeakSanitizer, part of it), then the integration and reliability tests run
// against it. Node itself is not instrumented, so the ASan runtime is
// LD_PRELOADed into node (and so into every process the tests start).
//
// The build and the test run happen in a copy of the tree in the OS temporary
// directory (RTNL_SANITIZE=address, see binding.gyp), so build/Release here
// keeps the normal addon. Every process logs to <copy>/asan-logs/asan.<program>.<pid>.
// Afterwards:
//   - any AddressSanitizer report (overflow, use-after-free, ...) in a node
//     process (which is what loads the addon) fails the run; one inside a
//     program the tests use as an oracle is listed, not failed (and iproute2's
//     known one is suppressed: test/reliability/asan.supp);
//   - a leak report fails the run when any frame of it is in the addon
//     (rtnl.node / native/*.cc); leaks wholly inside node, V8, libuv, or a
//     program the tests run (ip, tc, sleep) are counted and listed by their
//     top frame, not failed: those programs are not ours and are not built
//     with ASan (see RELIABILITY.md and test/reliability/lsan.supp).
// Arguments are passed to jest (default: test/integration test/reliability);
// `--report` only summarizes the logs of the last run again.
const { execFileSync, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const WORK = path.join(os.tmpdir(), 'rtnl-asan');
const LOGS = path.join(WORK, 'asan-logs');
const LIBASAN = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();

function copy(rel) {
  fs.rmSync(path.join(WORK, rel), { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, rel), path.join(WORK, rel), { recursive: true, dereference: true });
}

function nativeHash() {
  const h = createHash('sha1');
  for (const f of ['binding.gyp', ...fs.readdirSync(path.join(ROOT, 'native')).map((n) => `native/${n}`)].sort())
    h.update(f).update(fs.readFileSync(path.join(ROOT, f)));
  return h.digest('hex');
}

function build() {
  fs.mkdirSync(WORK, { recursive: true });
  for (const rel of ['binding.gyp', 'native', 'package.json']) copy(rel);
  // Always this tree's node_modules: a link left by a run from another checkout may dangle.
  fs.rmSync(path.join(WORK, 'node_modules'), { force: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(WORK, 'node_modules'));
  const stamp = path.join(WORK, 'build', 'asan.stamp');
  const hash = nativeHash();
  const built = path.join(WORK, 'build', 'Release', 'rtnl.node');
  if (fs.existsSync(built) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return built;
  console.log('test:asan: building the addon with -fsanitize=address ...');
  execFileSync('npm', ['run', 'build:native'], {
    cwd: WORK,
    stdio: 'inherit',
    env: { ...process.env, RTNL_SANITIZE: 'address' },
  });
  const ldd = execFileSync('ldd', [built], { encoding: 'utf8' });
  if (!/libasan/.test(ldd)) throw new Error(`${built} is not linked with libasan:\n${ldd}`);
  fs.writeFileSync(stamp, hash);
  return built;
}

/** One report per block: ASan errors whole, leak reports split per leak. */
function readReports() {
  const errors = [];
  const leaks = [];
  for (const file of fs.existsSync(LOGS) ? fs.readdirSync(LOGS) : []) {
    const text = fs.readFileSync(path.join(LOGS, file), 'utf8');
    if (/ERROR: AddressSanitizer/.test(text)) errors.push({ file, text });
    for (const block of text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1)) {
      leaks.push({ file, block: block.split(/\n\n/)[0] });
    }
  }
  return { errors, leaks };
}

const inAddon = (block) => /rtnl\.node|native\/\w+\.(cc|h)/.test(block);
/** The first frame past the allocator: 'xmalloc (/usr/bin/ip+0x1234)' -> 'xmalloc ip'. */
const topFrame = (block) => {
  for (const line of block.split('\n')) {
    const m = line.match(/#\d+ 0x[0-9a-f]+ (?:in (\S+) )?.*?\(?([^\s()]+?)(?:\+0x[0-9a-f]+)?\)?$/);
    if (!m || /libsanitizer|asan_|lsan_/.test(line)) continue;
    return `${m[1] ?? '?'} ${path.basename(m[2])}`;
  }
  return 'unknown';
};

function main() {
  if (process.argv[2] === '--report') return report({ status: 0 }, Date.now()); // the last run's logs again
  const built = build();
  for (const rel of ['lib', 'test', 'scripts', 'examples', 'jest.config.js', 'tsconfig.json', 'tsconfig.build.json'])
    copy(rel);
  fs.rmSync(LOGS, { recursive: true, force: true });
  fs.mkdirSync(LOGS, { recursive: true });
  const jestArgs = process.argv.slice(2);
  const env = {
    ...process.env,
    LD_PRELOAD: LIBASAN,
    // halt on a memory error (the test fails loudly); leaks are judged from the logs below.
    ASAN_OPTIONS: `detect_leaks=1:halt_on_error=1:log_path=${LOGS}/asan:log_exe_name=1:suppressions=${path.join(ROOT, 'test', 'reliability', 'asan.supp')}`,
    LSAN_OPTIONS: `exitcode=0:suppressions=${path.join(ROOT, 'test', 'reliability', 'lsan.supp')}:print_suppressions=0`,
  };
  // dist/ (which worker-thread fixtures load) from these sources, next to the ASan addon; its ESM
  // entry writer loads the addon, so it too runs with the runtime preloaded.
  execFileSync('npm', ['run', 'build:ts'], { cwd: WORK, stdio: 'inherit', env });
  console.log(`test:asan: ${built} with LD_PRELOAD=${LIBASAN}`);
  const started = Date.now();
  const jest = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), ...(jestArgs.length ? jestArgs : ['test/integration', 'test/reliability'])],
    { cwd: WORK, env, stdio: 'inherit' },
  );
  report(jest, started);
}

function report(jest, started) {
  const { errors: allErrors, leaks } = readReports();
  // Logs are named asan.<program>.<pid> (log_exe_name). An error inside a program the tests run
  // as an oracle (ip, tc, bridge, sh) is that program's; one in node (which loads the addon) is ours.
  const errors = allErrors.filter((e) => /^asan\.node\./.test(e.file) || inAddon(e.text));
  const foreignErrors = allErrors.filter((e) => !errors.includes(e));
  const ours = leaks.filter((l) => inAddon(l.block));
  const others = new Map();
  for (const l of leaks.filter((x) => !inAddon(x.block))) {
    const key = `${l.file.split('.')[1]}: ${topFrame(l.block)}`;
    others.set(key, (others.get(key) ?? 0) + 1);
  }
  const logs = fs.readdirSync(LOGS).length;
  console.log(
    `\ntest:asan: jest exit ${jest.status ?? jest.signal} in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
      `${logs} process logs; ${errors.length} AddressSanitizer errors in node or the addon ` +
      `(${foreignErrors.length} in other programs); ${ours.length} leaks in the addon; ` +
      `${leaks.length - ours.length} leaks outside it (node, V8, child programs)`,
  );
  for (const [frame, n] of [...others].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  outside: ${n} x ${frame}`);
  for (const e of foreignErrors)
    console.log(`  other program: ${e.file}: ${e.text.match(/ERROR: AddressSanitizer: [^\n]*/)?.[0]}`);
  for (const e of errors) console.log(`\nASAN ERROR ${e.file}:\n${e.text}`);
  for (const l of ours) console.log(`\nADDON LEAK (${l.file}):\n${l.block}`);
  process.exitCode = jest.status === 0 && errors.length === 0 && ours.length === 0 ? 0 : 1;
}

main();
