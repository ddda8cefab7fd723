/**
 * The native socket and the engine below the API: multicast groups (also
 * above 31), the nsid of each datagram, fds, and worker_threads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as nl from '../../lib';
import { NetlinkClient } from '../../lib/engine/client';
import { decodeLink } from '../../lib/link';
import {
  NETLINK_ADD_MEMBERSHIP,
  NETLINK_DROP_MEMBERSHIP,
  NETLINK_LISTEN_ALL_NSID,
  NETLINK_ROUTE,
  NLMSG_NOOP,
  NLM_F_REQUEST,
  RTM_NEWLINK,
  RTNLGRP_LINK,
  RTNLGRP_NEXTHOP,
  SOL_NETLINK,
} from '../../lib/netlink/constants';
import { acquireNetnsFd } from '../../lib/netns';
import { describeIf, ip, ipJson, loadProbe, randomIfName, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function until<T>(check: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = check();
      if (v !== undefined) return resolve(v);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describeRoot('native socket and engine', () => {
  const ns = useNetns();

  it('delivers notifications of joined groups, including groups above 31, and stops after leaving', async () => {
    const nsFd = acquireNetnsFd(ns.name);
    const seen: string[] = [];
    const client = new NetlinkClient({
      protocol: NETLINK_ROUTE,
      netnsFd: nsFd.fd,
      onNotification: (buf, off, len, type) => {
        if (type === RTM_NEWLINK) seen.push(decodeLink(buf, off, len).name);
      },
    });
    nsFd.release();
    try {
      client.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_NEXTHOP); // 32: needs setsockopt, not bind
      client.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
      client.hold();
      const name = randomIfName('n');
      ip(['link', 'add', name, 'type', 'bridge'], ns.name);
      await until(() => (seen.includes(name) ? true : undefined), `RTM_NEWLINK for ${name}`);
      client.setOption(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, RTNLGRP_LINK);
      const other = randomIfName('o');
      ip(['link', 'add', other, 'type', 'bridge'], ns.name);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).not.toContain(other);
    } finally {
      client.close();
    }
  });

  it('passes the nsid of each datagram with NETLINK_LISTEN_ALL_NSID', async () => {
    ip(['netns', 'set', ns.name, 'auto']);
    const [entry] = (ipJson(['netns', 'list-id']) as { nsid: number; name?: string }[]).filter(
      (e) => e.name === ns.name,
    );
    expect(entry?.nsid).toEqual(expect.any(Number));
    const got: { name: string; nsid: number }[] = [];
    const client = new NetlinkClient({
      protocol: NETLINK_ROUTE,
      onNotification: (buf, off, len, type, _flags, nsid) => {
        if (type === RTM_NEWLINK) got.push({ name: decodeLink(buf, off, len).name, nsid });
      },
    });
    try {
      client.setOption(SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1);
      client.setOption(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK);
      client.hold();
      const name = randomIfName('a');
      ip(['link', 'add', name, 'type', 'bridge'], ns.name);
      const event = await until(() => got.find((g) => g.name === name), `the event for ${name}`);
      expect(event.nsid).toBe(entry.nsid);
    } finally {
      client.close();
    }
  });

  it('sendBulk: a datagram the kernel refuses outright (too big) fails its messages with the sendmsg error', async () => {
    const nsFd = acquireNetnsFd(ns.name);
    const client = new NetlinkClient({ protocol: NETLINK_ROUTE, netnsFd: nsFd.fd });
    nsFd.release();
    try {
      // 10 MiB of no-ops: past the send buffer (4 MiB asked, 8 MiB granted), so sendmsg (on the sender thread) says EMSGSIZE.
      const count = (10 * 1024 * 1024) / 16;
      const bytes = Buffer.alloc(count * 16);
      for (let off = 0; off < bytes.length; off += 16) {
        bytes.writeUInt32LE(16, off);
        bytes.writeUInt16LE(NLMSG_NOOP, off + 4);
        bytes.writeUInt16LE(NLM_F_REQUEST, off + 6);
      }
      await expect(client.sendBulk(bytes, count)).rejects.toMatchObject({ code: 'EMSGSIZE', syscall: 'sendmsg' });
      // and the socket still works, in order, from the same thread
      const small = Buffer.from(bytes.subarray(0, 32));
      const outcome = await client.sendBulk(small, 2);
      expect([...outcome.answered]).toEqual([1, 1]);
      expect(outcome.errors.size).toBe(0);
      await expect(client.sendBulk(bytes.subarray(0, 20), 1)).rejects.toThrow(TypeError);
    } finally {
      client.close();
    }
  });

  it('close() during a bulk send settles everything and leaves no thread or fd behind', async () => {
    const before = openFds();
    for (let round = 0; round < 20; round++) {
      const nsFd = acquireNetnsFd(ns.name);
      const client = new NetlinkClient({ protocol: NETLINK_ROUTE, netnsFd: nsFd.fd });
      nsFd.release();
      const bytes = Buffer.alloc(20000 * 16);
      for (let off = 0; off < bytes.length; off += 16) {
        bytes.writeUInt32LE(16, off);
        bytes.writeUInt16LE(NLMSG_NOOP, off + 4);
        bytes.writeUInt16LE(NLM_F_REQUEST, off + 6);
      }
      const sends = [0, 1, 2, 3].map(() =>
        client.sendBulk(Buffer.from(bytes), 20000).then(
          () => 'done',
          (e: Error) => e.message,
        ),
      );
      await new Promise((r) => setImmediate(r));
      client.close();
      for (const outcome of await Promise.all(sends))
        expect(['done', expect.stringMatching(/closed/)]).toContainEqual(outcome);
    }
    expect(openFds()).toBe(before);
    const threads = Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
    expect(threads).toBeLessThan(40);
  });

  it('replies read right after the send still let the event loop run during a loop of awaited requests', async () => {
    const h = await nl.open({ netns: ns.name });
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      let immediates = 0;
      let stop = false;
      const spin = () => {
        immediates++;
        if (!stop) setImmediate(spin);
      };
      setImmediate(spin);
      for (let i = 0; i < 2000; i++) await h.link.get('lo');
      stop = true;
      clearInterval(timer);
      expect(immediates).toBeGreaterThan(10);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });

  it('leaves the fd count unchanged after 1000 handle open/close cycles in a namespace', async () => {
    const h0 = await nl.open({ netns: ns.name });
    await h0.link.list();
    await h0.close();
    const before = openFds();
    for (let i = 0; i < 1000; i++) {
      const h = await nl.open({ netns: ns.name });
      if (i % 100 === 0) await h.link.get('lo');
      await h.close();
    }
    expect(openFds()).toBe(before);
  });

  it('creates sockets with CLOEXEC, so children do not inherit them', async () => {
    const h = await nl.open({ netns: ns.name });
    try {
      await h.link.list();
      const fds = fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
        } catch {
          return false;
        }
      });
      for (const fd of fds) {
        const flags = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/flags:\s+(\d+)/)?.[1];
        if (flags) expect(parseInt(flags, 8) & 0o2000000).not.toBe(0); // O_CLOEXEC
      }
    } finally {
      await h.close();
    }
  });

  it('works in worker_threads, and a worker terminated mid-request does not crash the process', async () => {
    const script = path.join(__dirname, 'fixtures', 'worker-list-links.js');
    const worker = new Worker(script, { workerData: { netns: ns.name, loop: false } });
    const names = await new Promise<string[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(names).toContain('lo');
    await worker.terminate();

    for (let i = 0; i < 5; i++) {
      const busy = new Worker(script, { workerData: { netns: ns.name, loop: true } });
      await new Promise((resolve) => busy.once('message', resolve)); // it is mid-flight now
      await busy.terminate();
    }
    // ... also while its sender thread sends a batch or reads a dump ahead
    for (let i = 0; i < 6; i++) {
      const busy = new Worker(script, { workerData: { netns: ns.name, loop: true, bulk: true } });
      await new Promise((resolve) => busy.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 40 * i));
      await busy.terminate();
    }
    expect((await nl.link.get('lo')).name).toBe('lo'); // and we are still here
    await nl.close();
  });
});

describeRoot('dumps read by the sender thread (read-ahead)', () => {
  const ns = useNetns();
  let h: nl.Handle;
  const N = 20_000;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'veth', name: 'ra0', peer: { name: 'ra1' }, up: true });
    const added = await h.batch((b) => {
      for (let i = 0; i < N; i++)
        b.route.add({ dst: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`, dev: 'ra0' });
    });
    expect(added.every((r) => r.ok)).toBe(true);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Counts the dumps the handle's socket hands to the sender thread to read. */
  function spyReadAhead(): { count: () => number; restore: () => void } {
    const client = (h as unknown as { context: { route(): NetlinkClient } }).context.route();
    const socket = (client as unknown as { socket: { sendInBackground(b: Buffer[], seq?: number): void } }).socket;
    const original = socket.sendInBackground.bind(socket);
    let n = 0;
    // The native method is a read-only property of the prototype: shadow it on the instance.
    Object.defineProperty(socket, 'sendInBackground', {
      configurable: true,
      value: (buffers: Buffer[], seq?: number) => {
        if (seq) n++;
        original(buffers, seq);
      },
    });
    return { count: () => n, restore: () => delete (socket as { sendInBackground?: unknown }).sendInBackground };
  }

  it('a big dump, once seen, is read by the thread: the same routes as ip sees, again and again', async () => {
    const spy = spyReadAhead();
    try {
      const first = await h.route.list({ table: 'main' });
      const theirs = new Set(
        (ipJson(['route', 'show', 'table', 'main'], ns.name) as { dst: string }[]).map((r) => r.dst),
      );
      expect(first.length).toBe(theirs.size);
      for (let round = 0; round < 3; round++) {
        const again = await h.route.list({ table: 'main' });
        expect(again.map((r) => r.dst).sort()).toEqual(first.map((r) => r.dst).sort());
      }
      expect(spy.count()).toBeGreaterThanOrEqual(3); // the first was small-or-unknown, then all three read ahead
    } finally {
      spy.restore();
    }
  });

  it('requests made while the thread reads a dump are answered, in order with it', async () => {
    await h.route.list({ table: 'main' }); // known big
    const spy = spyReadAhead();
    try {
      const [routes, lo, link, addrs] = await Promise.all([
        h.route.list({ table: 'main' }),
        h.link.get('lo'),
        h.link.get('ra0'),
        h.addr.list(),
      ]);
      expect(routes.length).toBeGreaterThanOrEqual(N);
      expect(lo.name).toBe('lo');
      expect(link.name).toBe('ra0');
      expect(Array.isArray(addrs)).toBe(true);
      // a kernel refusal in the middle of it
      const refused = h.route.add({ dst: '10.100.0.0/32', dev: 'ra0' });
      const more = h.route.list({ table: 'main' });
      await expect(refused).rejects.toMatchObject({ code: 'EEXIST' });
      expect((await more).length).toBe(routes.length);
      expect(spy.count()).toBeGreaterThanOrEqual(2);
    } finally {
      spy.restore();
    }
  });

  it('a datagram refused while a dump is read ahead fails with its send error, not as unanswered', async () => {
    const client = (h as unknown as { context: { route(): NetlinkClient } }).context.route();
    await h.route.list({ table: 'main' }); // known big: the next one is read ahead
    const count = (10 * 1024 * 1024) / 16; // past the send buffer: EMSGSIZE from the thread
    const noops = Buffer.alloc(count * 16);
    for (let off = 0; off < noops.length; off += 16) {
      noops.writeUInt32LE(16, off);
      noops.writeUInt16LE(NLMSG_NOOP, off + 4);
      noops.writeUInt16LE(NLM_F_REQUEST, off + 6);
    }
    for (let round = 0; round < 5; round++) {
      const dump = h.route.list({ table: 'main' });
      const refused = client.sendBulk(Buffer.from(noops), count);
      await expect(refused).rejects.toMatchObject({ code: 'EMSGSIZE', syscall: 'sendmsg' });
      expect((await dump).length).toBeGreaterThanOrEqual(N);
    }
  });

  it('closing a handle while the thread reads a dump settles it and keeps the process sound', async () => {
    for (let round = 0; round < 10; round++) {
      const h2 = await nl.open({ netns: ns.name });
      await h2.route.list({ table: 'main' }); // known big for this socket
      const pending = h2.route.list({ table: 'main' }).then(
        (r) => r.length,
        (e: Error) => e.message,
      );
      await new Promise((r) => setTimeout(r, round)); // somewhere in the middle, or before, or after
      await h2.close();
      const outcome = await pending;
      expect([expect.any(Number), expect.stringMatching(/closed/)]).toContainEqual(outcome);
    }
  });
});
