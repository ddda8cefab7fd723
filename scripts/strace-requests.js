'use strict';
// The bytes iproute2 sends, recorded with strace: for codec tests that must
// build the same requests from a spec. The kernel's answer does not matter
// (a refused request, e.g. for a link kind this kernel lacks, is recorded all
// the same). Used by the capture-*-fixtures scripts.
const { spawnSync } = require('node:child_process');

/**
 * Runs `cmd -n ns ...args` under strace and returns the hex of the first
 * netlink message it sent whose type is in `wanted`, and whether the command
 * succeeded.
 */
function captureRequest(cmd, args, ns, wanted) {
  const fds = Array.from({ length: 16 }, (_, i) => i + 3).join(',');
  const out = spawnSync('strace', ['-e', 'trace=sendmsg', '-e', `write=${fds}`, cmd, '-n', ns, ...args], {
    encoding: 'utf8',
  });
  // Hex dump blocks: ' * N bytes in buffer 0' then ' | 00000  2c 00 ...  text |' lines.
  const buffers = [];
  for (const line of out.stderr.split('\n')) {
    if (/^ \* \d+ bytes in buffer/.test(line)) buffers.push([]);
    const m = /^ \| [0-9a-f]{5} {2}((?:[0-9a-f]{2} {1,2}){1,16})/.exec(line);
    if (m && buffers.length) buffers[buffers.length - 1].push(m[1].replace(/\s+/g, ''));
  }
  const hex = buffers.map((b) => b.join('')).find((h) => wanted.has(Buffer.from(h, 'hex').readUInt16LE(4)));
  if (!hex) throw new Error(`no request captured for ${cmd} ${args.join(' ')}:\n${out.stderr}`);
  return { command: [cmd, ...args].join(' '), accepted: out.status === 0, hex };
}

module.exports = { captureRequest };
