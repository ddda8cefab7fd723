'use strict';
// Runs under plain node (not jest, whose sandboxed `process` cannot take
// signal handlers) for signals.test.ts: installs a SIGURG handler, has a
// shell send SIGURG back to back, and meanwhile opens handles in the
// namespace (a native thread each), sends mixed requests and dumps, opens
// sysctl files on namespace threads.
// Prints one JSON line: { signals, results: { ok: N, ... } }.
// argv: namespace name, milliseconds to run.
require('./ts-register');
const { spawn } = require('node:child_process');
const nl = require('../../lib');

const [, , netns, msText] = process.argv;
let signals = 0;
process.on('SIGURG', () => signals++);

async function mixed(h, i) {
  switch (i % 4) {
    case 0:
      return (await h.link.get('lo')).index === 1 ? 'ok' : 'wrong lo';
    case 1:
      return (await h.link.list()).some((l) => l.name === 'lo') ? 'ok' : 'list without lo';
    case 2:
      return (await h.addr.list()).some((a) => a.address === '127.0.0.1') ? 'ok' : 'addr list without 127.0.0.1';
    default:
      return h.link.get(987654).then(
        () => 'found a missing link',
        (e) => (e.code === 'ENODEV' ? 'ok' : `unexpected ${e.code}`),
      );
  }
}

(async () => {
  const sender = spawn('sh', ['-c', `while kill -s URG ${process.pid} 2>/dev/null; do :; done`], { stdio: 'ignore' });
  const results = {};
  const count = (r) => (results[r] = (results[r] ?? 0) + 1);
  try {
    const deadline = Date.now() + Number(msText);
    while (Date.now() < deadline) {
      const h = await nl.open({ netns });
      for (const r of await Promise.all(Array.from({ length: 500 }, (_, i) => mixed(h, i)))) count(r);
      count((await h.sysctl.get('net.ipv4.ip_forward')) === '0' ? 'ok' : 'sysctl');
      await h.close();
    }
  } finally {
    sender.kill('SIGKILL');
  }
  process.stdout.write(JSON.stringify({ signals, results }) + '\n');
})().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack) }) + '\n');
});
