'use strict';
// Checks (or with --fix, rewrites) the C++ sources in native/ against the repository's .clang-format.
//
//   node scripts/clang-format-check.js          clang-format --dry-run --Werror native/*.cc native/*.h
//   node scripts/clang-format-check.js --fix    clang-format -i native/*.cc native/*.h
//
// The binary is `clang-format` on PATH, or $CLANG_FORMAT. Debian/Ubuntu: apt-get install -y clang-format.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const fix = process.argv.includes('--fix');
const bin = process.env.CLANG_FORMAT || 'clang-format';

const nativeDir = path.join(root, 'native');
const files = fs.existsSync(nativeDir)
  ? fs
      .readdirSync(nativeDir)
      .filter((name) => /\.(cc|h)$/.test(name))
      .sort()
      .map((name) => path.join('native', name))
  : [];
if (files.length === 0) {
  console.log('clang-format: no native/*.cc or native/*.h files');
  process.exit(0);
}

const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
if (version.error) {
  console.error(
    `clang-format: cannot run ${JSON.stringify(bin)} (${version.error.code || version.error.message}).\n` +
      'Install it (Debian/Ubuntu: apt-get install -y clang-format) or point $CLANG_FORMAT at a clang-format binary.',
  );
  process.exit(1);
}

const args = fix ? ['-i', '--style=file', ...files] : ['--dry-run', '--Werror', '--style=file', ...files];
const result = spawnSync(bin, args, { cwd: root, stdio: 'inherit' });
if (result.error) {
  console.error(`clang-format: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) {
  console.error(
    `clang-format: ${files.length} files checked, formatting differs (see above); run \`npm run format\` to fix.`,
  );
  process.exit(result.status || 1);
}
console.log(`clang-format: ${files.length} files ${fix ? 'formatted' : 'OK'} (${version.stdout.trim()})`);
