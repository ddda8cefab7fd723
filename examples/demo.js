#!/usr/bin/env node
'use strict';
// The rtnl demo: two network namespaces joined by a veth pair, addressed
// and brought up, with a TCP echo server in one and a client in the other.
// No `ip` process is spawned, and the host's own network is not touched.
// Run as root (or with CAP_SYS_ADMIN + CAP_NET_ADMIN): npm run demo
const net = require('node:net');
const { randomBytes } = require('node:crypto');
const nl = require('..');

const tag = randomBytes(3).toString('hex');
const RED = `rtnl-demo-red-${tag}`;
const BLUE = `rtnl-demo-blue-${tag}`;
const PORT = 7007;
const ROUND_TRIPS = 1000;
const made = [];
let red;
let blue;

let interrupted = false;

// Progress lines; after Ctrl-C, main() stops at the next one.
const step = (text) => {
  if (interrupted) throw new Error('interrupted');
  console.log(`  ${text}`);
};

// Deletes what was made, newest first. A loop, not a copy of the list:
// main() may still record a namespace while an interrupt's cleanup runs.
async function cleanup() {
  await red?.close();
  await blue?.close();
  while (made.length > 0) {
    const name = made.pop();
    await nl.netns.delete(name).catch((e) => console.error(`  could not delete ${name}: ${e.message}`));
    console.log(`  deleted namespace ${name}`);
  }
  await nl.close();
}

async function main() {
  console.log('rtnl demo: two namespaces, a veth pair, a TCP echo');
  for (const name of [RED, BLUE]) {
    await nl.netns.create(name);
    made.push(name);
    step(`created namespace ${name} (ip netns list shows it)`);
  }
  red = await nl.open({ netns: RED });
  blue = await nl.open({ netns: BLUE });

  await red.link.add({ kind: 'veth', name: 'veth-red', peer: { name: 'veth-blue', netns: BLUE } });
  step('veth-red (red) <-> veth-blue (blue)');
  await red.addr.add('veth-red', '10.200.0.1/24');
  await blue.addr.add('veth-blue', '10.200.0.2/24');
  step('10.200.0.1/24 on veth-red, 10.200.0.2/24 on veth-blue');
  for (const [h, dev] of [
    [red, 'veth-red'],
    [blue, 'veth-blue'],
  ]) {
    await h.link.set('lo', { up: true });
    await h.link.set(dev, { up: true });
  }
  step('links up');

  // server.listen(port) makes its socket synchronously, so inside runSync
  // it is made in red. The client's socket is made natively in blue and
  // handed to Node by fd.
  const server = nl.netns.runSync(RED, () => net.createServer((conn) => conn.pipe(conn)).listen(PORT));
  await new Promise((resolve) => server.once('listening', resolve));
  step(`echo server listening on port ${PORT} in red`);

  const client = new net.Socket({ fd: nl.netns.socketFd(BLUE, 'tcp4') });
  await new Promise((resolve, reject) => {
    client.once('error', reject);
    client.connect(PORT, '10.200.0.1', resolve);
  });
  step(`client in blue connected from ${client.localAddress} to ${client.remoteAddress}:${client.remotePort}`);

  const message = Buffer.from('ping');
  const times = [];
  let pending = Buffer.alloc(0);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = process.hrtime.bigint();
    client.write(message);
    while (pending.length < message.length) {
      pending = Buffer.concat([pending, await new Promise((resolve) => client.once('data', resolve))]);
    }
    pending = pending.subarray(message.length);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  step(
    `${ROUND_TRIPS} echo round trips: median ${median.toFixed(1)} us, p99 ${times[Math.floor(times.length * 0.99)].toFixed(1)} us`,
  );
  client.destroy();
  await new Promise((resolve) => server.close(resolve));

  const [veth] = await red.link.list({ kind: 'veth' });
  step(`veth-red counters: ${veth.stats.txPackets} packets / ${veth.stats.txBytes} bytes sent`);
}

// Ctrl-C (or a kill) cleans up too: the exit code says which signal.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.once(signal, () => {
    interrupted = true;
    console.log(`\n  ${signal}: cleaning up`);
    cleanup().finally(() => process.exit(code));
  });
}

main()
  .then(cleanup, async (error) => {
    if (interrupted) return; // the signal handler cleans up and exits
    console.error(`demo failed: ${error.stack ?? error}`);
    await cleanup();
    process.exitCode = 1;
  })
  .then(() => {
    if (!interrupted && process.exitCode !== 1) console.log('done: everything it made is gone');
  });
