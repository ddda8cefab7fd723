'use strict';
// Lets plain node (a worker thread, scripts/fuzz.js) require the TypeScript sources directly, the way
// ts-jest does in the test runner: transpile-only, CommonJS, with inline source maps (run node with
// --enable-source-maps for .ts line numbers). Transpiled files are cached by content hash in the OS
// temporary directory: transpiling lib/ takes seconds, which every worker would otherwise pay again.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cacheDir = path.join(os.tmpdir(), 'rtnl-ts-cache');
let ts;

function transpile(source, filename) {
  const key = createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  ts ??= require('typescript');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
    fileName: filename,
  });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    fs.writeFileSync(tmp, outputText);
    fs.renameSync(tmp, cached); // atomic: concurrent workers never read half a file
  } catch {
    // a cache we cannot write is only slower
  }
  return outputText;
}

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = (module, filename) => {
    module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
}
