#!/usr/bin/env node
'use strict';
// Story 3, a VPN or overlay daemon: a tun device whose packets the program
// reads and writes, a routing table that sends everything into the tunnel
// except the daemon's own (fwmark-ed) traffic, an nftables masquerade for
// what leaves the uplink, and a watch on link and address events to react
// when the uplink changes. Runs in a scratch namespace; the uplink is a veth.
//
//   node examples/vpn.js
const { randomBytes } = require('node:crypto');
const dgram = require('node:dgram');
const nl = require('..');

const MARK = 0x51; // the daemon's own sockets carry this mark (SO_MARK)
const TABLE = 51;

async function main() {
  const ns = `rtnl-vpn-${randomBytes(3).toString('hex')}`;
  await nl.netns.create(ns);
  const h = await nl.open({ netns: ns });
  const events = h.monitor({ groups: ['link', 'addr4'] });
  let tun;
  try {
    events.on('event', (ev) => {
      if (ev.type === 'del' && ev.object === 'addr')
        console.log(`  uplink lost ${ev.data.address}: re-resolve the peer, rebind`);
      if (ev.type === 'new' && ev.object === 'link' && ev.data.name === 'uplink' && !ev.data.carrier)
        console.log('  uplink has no carrier');
    });
    // the uplink
    await h.link.add({ kind: 'veth', name: 'uplink', peer: { name: 'isp' }, up: true });
    await h.link.set('isp', { up: true });
    await h.addr.add('uplink', '192.0.2.2/24');
    await h.route.add({ dst: 'default', gateway: '192.0.2.1' });

    // the tunnel: a tun device the program owns for as long as it runs
    tun = await h.link.tun.create({ name: 'vpn0', type: 'tun', persist: false });
    await h.addr.add('vpn0', '10.8.0.2/24');
    await h.link.set('vpn0', { up: true });
    // everything into the tunnel (table 51), except marked packets, which use main
    await h.route.add({ dst: 'default', dev: 'vpn0', table: TABLE });
    await h.rule.add({ priority: 100, fwmark: MARK, table: 'main' });
    await h.rule.add({ priority: 200, table: TABLE });
    // what leaves through the uplink is masqueraded
    await h.nft.apply([
      { add: 'table', family: 'inet', name: 'vpn' },
      {
        add: 'chain',
        family: 'inet',
        table: 'vpn',
        name: 'post',
        type: 'nat',
        hook: 'postrouting',
        priority: 100,
        policy: 'accept',
      },
      {
        add: 'rule',
        family: 'inet',
        table: 'vpn',
        chain: 'post',
        match: { oifname: 'uplink' },
        nat: { type: 'masquerade' },
      },
    ]);
    console.log('tunnel up: default route via vpn0 in table 51, marked traffic via main, masquerade on uplink');

    // an application packet to the internet now comes out of the tun device
    // (the kernel's own IPv6 chatter comes out too; take the first IPv4 packet)
    const seen = new Promise((resolve) => {
      const onPacket = (packet) => {
        if (packet[0] >> 4 !== 4) return;
        tun.off('data', onPacket);
        resolve(packet);
      };
      tun.on('data', onPacket);
    });
    const app = dgram.createSocket('udp4');
    await new Promise((r) => app.bind({ fd: nl.netns.socketFd(ns, 'udp4', { port: 0 }) }, r));
    app.send('hello', 53, '198.51.100.53');
    const packet = await seen;
    const dst = [...packet.subarray(16, 20)].join('.');
    console.log(`read a ${packet.length}-byte packet for ${dst} from vpn0: encrypt it and send it to the peer`);
    app.close();
    console.log(
      "where the daemon's own packets go:",
      (await h.route.get('198.51.100.53', { mark: MARK })).dev === (await h.link.get('uplink')).index
        ? 'uplink'
        : 'tunnel',
    );
    console.log(
      'where everything else goes:',
      (await h.route.get('198.51.100.53')).dev === (await h.link.get('vpn0')).index ? 'tunnel' : 'uplink',
    );

    // the uplink changes
    await h.addr.del('uplink', '192.0.2.2/24');
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    events.close();
    tun?.close();
    await h.close();
    await nl.netns.delete(ns);
    await nl.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
