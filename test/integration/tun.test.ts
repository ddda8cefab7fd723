/**
 * tun/tap through /dev/net/tun: devices as `ip tuntap` makes them, and
 * packets both ways through a queue opened as a stream.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as nl from '../../lib';
import type { TunQueue } from '../../lib';
import { describeIf, ip, ipJson, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const describeTun = describeIf(
  probe.root && probe.ipNetns && probe.linkKinds.tun === true,
  probe.reason ?? 'needs root, ip netns and tun',
);

/** RFC 1071 checksum of an IPv4 header. */
function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4/UDP packet (UDP checksum 0: none, allowed for IPv4). */
function udpPacket(src: string, dst: string, sport: number, dport: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + body.length, 4);
  const iph = Buffer.alloc(20);
  iph[0] = 0x45;
  iph.writeUInt16BE(20 + 8 + body.length, 2);
  iph[8] = 64;
  iph[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(iph, 12);
  Buffer.from(dst.split('.').map(Number)).copy(iph, 16);
  iph.writeUInt16BE(ipChecksum(iph), 10);
  return Buffer.concat([iph, udp, body]);
}

const macBytes = (mac: string) => Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));

function nextPacket(q: TunQueue, match: (p: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no matching packet within 10 s')), 10_000);
    const onData = (p: Buffer) => {
      if (!match(p)) return;
      clearTimeout(timer);
      q.off('data', onData);
      resolve(p);
    };
    q.on('data', onData);
  });
}

describeTun('tun/tap devices', () => {
  const ns = useNetns();
  let h: nl.Handle;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('creates persistent devices as ip tuntap does, and ip sees their settings', async () => {
    const tap = await h.link.tun.create({ name: 'tap7', type: 'tap', owner: 65534, group: 65534, multiQueue: true });
    expect(tap).toMatchObject({ name: 'tap7', kind: 'tun' });
    const tun = await h.link.tun.create({ name: 'tun7', type: 'tun', vnetHdr: true, packetInfo: true });
    const [t] = ipJson(['-d', 'link', 'show', 'tap7'], ns.name);
    expect(t.linkinfo.info_kind).toBe('tun');
    expect(t.linkinfo.info_data).toMatchObject({
      type: 'tap',
      pi: false,
      vnet_hdr: false,
      multi_queue: true,
      persist: true,
      user: 'nobody',
      group: 'nogroup',
    });
    const [u] = ipJson(['-d', 'link', 'show', 'tun7'], ns.name);
    expect(u.linkinfo.info_data).toMatchObject({ type: 'tun', pi: true, vnet_hdr: true, multi_queue: false });
    expect(u.ifindex).toBe(tun.index);
    // made by ip tuntap: we open it
    ip(['tuntap', 'add', 'dev', 'tapip', 'mode', 'tap'], ns.name);
    const q = await h.link.tun.open('tapip');
    q.close();
    await h.link.tun.del('tap7');
    await h.link.tun.del('tun7');
    await h.link.tun.del('tapip');
    expect((ipJson(['link', 'show'], ns.name) as { ifname: string }[]).map((l) => l.ifname)).toEqual(['lo']);
  });

  it('leaves the fd count unchanged after 300 queue open/close cycles, 8 queues at a time', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    await h.link.tun.create({ name: 'mq0', type: 'tap', multiQueue: true });
    const before = fds();
    for (let round = 0; round < 300 / 8; round++) {
      const queues = await Promise.all(Array.from({ length: 8 }, () => h.link.tun.open('mq0')));
      expect((await h.link.get('mq0')).info).toMatchObject({ numQueues: 8 });
      for (const q of queues) q.close();
    }
    await new Promise((r) => setImmediate(r));
    expect(fds()).toBe(before);
    await h.link.tun.del('mq0');
  });

  it('a kernel-numbered name and a non-persistent device that lives as long as its queue', async () => {
    const q = await h.link.tun.create({ name: 'rtnltap%d', type: 'tap', persist: false });
    expect(q.name).toMatch(/^rtnltap\d+$/);
    expect((await h.link.get(q.name)).kind).toBe('tun');
    q.close();
    await new Promise((r) => setImmediate(r));
    await expect(h.link.get(q.name)).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('refuses bad input before any syscall, and reports the kernel in words', async () => {
    await expect(h.link.tun.create({ name: 'x', type: 'bogus' as 'tun' })).rejects.toBeInstanceOf(TypeError);
    await expect(h.link.tun.create({ name: 'a-very-long-name-indeed', type: 'tun' })).rejects.toBeInstanceOf(TypeError);
    await expect(h.link.tun.create({ name: 'x', type: 'tun', owner: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(h.link.tun.create({ name: 'x', type: 'tun', queues: 2 } as never)).rejects.toBeInstanceOf(TypeError);
    await expect(h.link.tun.open('nothere0')).rejects.toMatchObject({ code: 'ENODEV' });
    await h.link.add({ kind: 'bridge', name: 'notatun' });
    await expect(h.link.tun.open('notatun')).rejects.toMatchObject({ code: 'EINVAL' });
    await h.link.del('notatun');
    // a single-queue device is open already: EBUSY
    await h.link.tun.create({ name: 'busy0', type: 'tun' });
    const first = await h.link.tun.open('busy0');
    await expect(h.link.tun.open('busy0')).rejects.toMatchObject({ code: 'EBUSY' });
    first.close();
    await h.link.tun.del('busy0');
  });

  it('tun: a packet written by the program reaches a UDP socket, and one the stack sends is read', async () => {
    await h.link.tun.create({ name: 'tun0', type: 'tun' });
    await h.addr.add('tun0', { address: '10.204.0.1', prefixLength: 24 });
    await h.link.set('tun0', { up: true });
    const q = await h.link.tun.open('tun0');
    // carrier comes with the attached queue; under load it can lag the open
    await h.link.waitFor('tun0', { carrier: true }, { timeout: 5000 });
    const server = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => server.bind({ fd: nl.netns.socketFd(ns.name, 'udp4', { port: 9100 }) }, r));
      const got = new Promise<string>((resolve) => server.once('message', (m) => resolve(String(m))));
      q.write(udpPacket('10.204.0.2', '10.204.0.1', 5555, 9100, 'into the stack'));
      expect(await got).toBe('into the stack');
      // and out: the stack routes 10.204.0.0/24 through tun0, so the program reads it
      const out = nextPacket(q, (p) => p[9] === 17 && p.readUInt16BE(22) === 9200);
      server.send('out of the stack', 9200, '10.204.0.2');
      const packet = await out;
      expect(packet.subarray(16, 20)).toEqual(Buffer.from([10, 204, 0, 2]));
      expect(packet.subarray(28).toString()).toBe('out of the stack');
    } finally {
      server.close();
      q.close();
      await h.link.tun.del('tun0');
    }
  });

  it('tap bridged with a veth: a frame the program writes is received on the other side, and replies come back', async () => {
    const peerNs = `${ns.name}-peer`;
    ip(['netns', 'add', peerNs]);
    const server = dgram.createSocket('udp4');
    let q: TunQueue | undefined;
    try {
      await h.link.tun.create({ name: 'tap0', type: 'tap' });
      await h.link.add({ kind: 'bridge', name: 'br0', up: true });
      await h.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb', netns: peerNs }, master: 'br0', up: true });
      await h.link.set('tap0', { master: 'br0', up: true });
      const hp = await nl.open({ netns: peerNs });
      await hp.addr.add('vb', '10.203.0.2/24');
      await hp.link.set('vb', { up: true });
      const vbMac = (await hp.link.get('vb')).mac!;
      await hp.close();
      q = await h.link.tun.open('tap0');
      await new Promise<void>((r) => server.bind({ fd: nl.netns.socketFd(peerNs, 'udp4', { port: 9300 }) }, r));
      const got = new Promise<{ text: string; from: string }>((resolve) =>
        server.once('message', (m, rinfo) => resolve({ text: String(m), from: rinfo.address })),
      );
      const ourMac = '02:00:00:00:00:09';
      const frame = Buffer.concat([
        macBytes(vbMac),
        macBytes(ourMac),
        Buffer.from([0x08, 0x00]),
        udpPacket('10.203.0.9', '10.203.0.2', 4444, 9300, 'through the bridge'),
      ]);
      // the peer answers to 10.203.0.9: it asks by ARP first, which comes to us through the bridge
      const arp = nextPacket(
        q!,
        (f) => f.readUInt16BE(12) === 0x0806 && f.subarray(38, 42).equals(Buffer.from([10, 203, 0, 9])),
      );
      // the bridge has to learn; STP is off and forwarding starts at once
      q!.write(frame);
      expect(await got).toEqual({ text: 'through the bridge', from: '10.203.0.9' });
      server.send('reply', 4444, '10.203.0.9');
      const request = await arp;
      expect(request.subarray(0, 6)).toEqual(Buffer.alloc(6, 0xff)); // broadcast who-has
      expect(request.subarray(6, 12)).toEqual(macBytes(vbMac));
    } finally {
      server.close();
      q?.close();
      ip(['netns', 'del', peerNs]);
    }
  });
});
