#!/usr/bin/env node
'use strict';
// Story 1, a container network plugin: give a container (known by its pid)
// an eth0 on a veth pair whose host end is on a bridge, an address and a
// default route; take it all away again. Both steps are idempotent.
//
//   node examples/cni.js   runs a demo "container" (a sleep in a fresh
//                          namespace) through ADD, a ping, and DEL, with
//                          the "host" played by a namespace of its own.
const { randomBytes } = require('node:crypto');
const net = require('node:net');
const nl = require('..');

/** ADD. `host` is where the bridge is: the module itself (this namespace) or a handle. */
async function add(host, { pid, bridge, hostIf, address, gateway }) {
  if (!(await host.link.get(hostIf).catch(() => null))) {
    await host.link.add({ kind: 'veth', name: hostIf, peer: { name: `${hostIf}c`, netns: { pid } } });
  }
  await host.link.set(hostIf, { master: bridge, up: true });
  const c = await nl.open({ netns: { pid } });
  try {
    if (await c.link.get(`${hostIf}c`).catch(() => null)) await c.link.set(`${hostIf}c`, { name: 'eth0' });
    await c.link.set('lo', { up: true });
    await c.link.set('eth0', { up: true });
    await c.addr.replace('eth0', address);
    await c.route.replace({ dst: 'default', gateway });
    return { interface: 'eth0', address, mac: (await c.link.get('eth0')).mac };
  } finally {
    await c.close();
  }
}

/** DEL: deleting the host end takes the container end with it. Already gone is fine. */
async function del(host, { hostIf }) {
  await host.link.del(hostIf).catch((e) => {
    if (e.code !== 'ENODEV') throw e;
  });
}

async function demo() {
  const tag = randomBytes(3).toString('hex');
  const hostNs = `rtnl-cni-host-${tag}`;
  const boxNs = `rtnl-cni-box-${tag}`;
  await nl.netns.create(hostNs);
  await nl.netns.create(boxNs);
  const box = nl.netns.spawn(boxNs, 'sleep', ['60']);
  const host = await nl.open({ netns: hostNs });
  try {
    await new Promise((r) => box.once('spawn', r));
    await host.link.add({ kind: 'bridge', name: 'cni0', up: true });
    await host.addr.add('cni0', '10.22.0.1/24');
    const args = { pid: box.pid, bridge: 'cni0', hostIf: `veth${tag}`, address: '10.22.0.5/24', gateway: '10.22.0.1' };
    console.log('ADD ->', await add(host, args));
    await add(host, args); // again: nothing changes
    console.log(`the container reaches its gateway: ${await reaches(hostNs, box.pid, '10.22.0.1')}`);
    await del(host, args);
    await del(host, args); // again: nothing to do
    const c = await nl.open({ netns: { pid: box.pid } });
    console.log('DEL -> links left in the container:', (await c.link.list()).map((l) => l.name).join(' '));
    await c.close();
  } finally {
    await host.close();
    box.kill();
    await nl.netns.delete(boxNs);
    await nl.netns.delete(hostNs);
    await nl.close();
  }
}

/** A TCP connection from the container to a server on the host side's address. */
async function reaches(hostNs, pid, address) {
  const server = net
    .createServer((c) => c.end('hi'))
    .listen({ fd: nl.netns.socketFd(hostNs, 'tcp4', { address, port: 7070 }) });
  await new Promise((r) => server.once('listening', r));
  try {
    const client = new net.Socket({ fd: nl.netns.socketFd({ pid }, 'tcp4') });
    return await new Promise((resolve) => {
      client.once('data', () => (client.destroy(), resolve('yes')));
      client.once('error', (e) => (client.destroy(), resolve(`no (${e.code})`)));
      client.connect(7070, address);
    });
  } finally {
    server.close();
  }
}

module.exports = { add, del };

if (require.main === module) {
  demo().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
