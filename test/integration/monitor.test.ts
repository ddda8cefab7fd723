/**
 * Kernel notifications as typed events, with iproute2 as the actor: the
 * exact events in order, snapshots, overruns with resync, every namespace,
 * and no leaks.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nl from '../../lib';
import type { Address, Link, MonitorEvent, ObjectEvent, Route } from '../../lib';
import { describeIf, ip, loadProbe, randomName, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

/** Collects events until `until` matches one (or the timeout passes). */
function collect(m: nl.Monitor, until: (ev: MonitorEvent) => boolean, ms = 5000): Promise<MonitorEvent[]> {
  return new Promise((resolve, reject) => {
    const out: MonitorEvent[] = [];
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(out.map(label))}`)), ms);
    const onEvent = (ev: MonitorEvent) => {
      out.push(ev);
      if (until(ev)) {
        clearTimeout(timer);
        m.off('event', onEvent);
        resolve(out);
      }
    };
    m.on('event', onEvent);
  });
}

function label(ev: MonitorEvent): string {
  if (ev.type === 'snapshot') return `snapshot ${ev.state}`;
  if (ev.type === 'overrun') return `overrun ${ev.reason}`;
  const d = ev.data as Partial<Link & Address & Route>;
  const what =
    ev.object === 'link'
      ? d.name
      : ev.object === 'addr'
        ? `${d.address}/${d.prefixLength}`
        : ev.object === 'route'
          ? d.dst
          : ev.object === 'neigh'
            ? (d as { address?: string }).address
            : '';
  return `${ev.type} ${ev.object} ${what}`;
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describeRoot('monitor', () => {
  const ns = useNetns();
  let h: nl.Handle;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('receives exactly the expected typed events, in order, for changes made by ip', async () => {
    const m = h.monitor({ groups: ['link', 'addr4', 'route4', 'neigh'] });
    try {
      const events = collect(m, (ev) => ev.type === 'del' && ev.object === 'link' && (ev.data as Link).name === 'm0');
      await settle();
      ip(['link', 'add', 'm0', 'type', 'veth', 'peer', 'name', 'm1'], ns.name);
      ip(['link', 'set', 'm0', 'mtu', '1400'], ns.name);
      ip(['addr', 'add', '10.77.0.1/24', 'dev', 'm0'], ns.name);
      ip(['link', 'set', 'm0', 'up'], ns.name);
      ip(['route', 'add', '10.78.0.0/16', 'via', '10.77.0.2'], ns.name);
      ip(['neigh', 'add', '10.77.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'm0'], ns.name);
      ip(['route', 'del', '10.78.0.0/16'], ns.name);
      ip(['addr', 'del', '10.77.0.1/24', 'dev', 'm0'], ns.name);
      ip(['link', 'del', 'm0'], ns.name);
      const got = (await events).filter((ev): ev is ObjectEvent => ev.type === 'new' || ev.type === 'del');
      const labels = got.map(label);
      // the steps appear in the order they were made (other events, e.g. the peer's, may interleave)
      const expected = [
        'new link m0',
        'new addr 10.77.0.1/24',
        'new route 10.78.0.0/16',
        'new neigh 10.77.0.2',
        'del route 10.78.0.0/16',
        'del addr 10.77.0.1/24',
        'del link m0',
      ];
      let at = -1;
      for (const e of expected) {
        const i = labels.indexOf(e, at + 1);
        expect({ e, found: i > at }).toEqual({ e, found: true });
        at = i;
      }
      // typed by the same codec as dumps
      const link = got.find((ev) => label(ev) === 'new link m0')!.data as Link;
      expect(link).toMatchObject({ name: 'm0', kind: 'veth' });
      expect(
        got.some((ev) => ev.object === 'link' && (ev.data as Link).name === 'm0' && (ev.data as Link).mtu === 1400),
      ).toBe(true);
      const addr = got.find((ev) => label(ev) === 'new addr 10.77.0.1/24')!.data as Address;
      expect(addr).toMatchObject({ family: 4, prefixLength: 24, index: link.index });
      const route = got.find((ev) => label(ev) === 'new route 10.78.0.0/16')!.data as Route;
      expect(route).toMatchObject({ gateway: '10.77.0.2', dev: link.index });
    } finally {
      m.close();
    }
  });

  it('listExisting: a snapshot bracketed by begin/end, then live events; nothing in between is lost', async () => {
    ip(['link', 'add', 'snap0', 'type', 'bridge'], ns.name);
    const m = h.monitor({ groups: ['link'], listExisting: true });
    // made while the snapshot may be running: it must show up (in it, or after it)
    ip(['link', 'add', 'snap1', 'type', 'bridge'], ns.name);
    try {
      const events = await collect(m, (ev) => ev.type === 'snapshot' && ev.state === 'end');
      expect(events[0]).toEqual({ type: 'snapshot', state: 'begin' });
      const names = events.filter((ev) => ev.type === 'new').map((ev) => ((ev as ObjectEvent).data as Link).name);
      expect(names).toEqual(expect.arrayContaining(['lo', 'snap0']));
      if (!names.includes('snap1')) {
        const later = await collect(m, (ev) => ev.type === 'new' && (ev.data as Link).name === 'snap1');
        expect(later.length).toBeGreaterThan(0);
      }
      // the snapshot equals a dump
      expect(names.sort()).toEqual(
        expect.arrayContaining((await h.link.list()).map((l) => l.name).filter((n) => n !== 'snap1')),
      );
    } finally {
      m.close();
      ip(['link', 'del', 'snap0'], ns.name);
      ip(['link', 'del', 'snap1'], ns.name);
    }
  });

  it('an overrun (ENOBUFS on a tiny buffer) is reported, and the resync snapshot equals a fresh dump', async () => {
    ip(['link', 'add', 'fl0', 'type', 'bridge'], ns.name);
    const m = h.monitor({ groups: ['addr4'], listExisting: true, receiveBufferSize: 4096 });
    try {
      await collect(m, (ev) => ev.type === 'snapshot' && ev.state === 'end');
      const after = collect(
        m,
        (() => {
          let overrun = false;
          return (ev: MonitorEvent) => {
            if (ev.type === 'overrun') overrun = true;
            return overrun && ev.type === 'snapshot' && ev.state === 'end';
          };
        })(),
        20000,
      );
      // thousands of changes while the event loop is blocked: the kernel must drop some
      const batch = Array.from({ length: 2000 }, (_, i) => `addr add 10.90.${i >> 8}.${i & 255}/32 dev fl0`).join('\n');
      execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: batch });
      const events = await after;
      expect(events.some((ev) => ev.type === 'overrun' && ev.reason === 'kernel')).toBe(true);
      const begin = events.map((ev) => ev.type === 'snapshot' && ev.state).lastIndexOf('begin');
      const snapshot = events
        .slice(begin + 1, -1)
        .filter((ev): ev is ObjectEvent => ev.type === 'new')
        .map((ev) => (ev.data as Address).address)
        .sort();
      const fresh = (await h.addr.list({ family: 4 })).map((a) => a.address).sort();
      expect(snapshot).toEqual(fresh);
      expect(snapshot.length).toBeGreaterThanOrEqual(2001); // 127.0.0.1 and the 2000
    } finally {
      m.close();
      ip(['link', 'del', 'fl0'], ns.name);
    }
  });

  it('a consumer that does not read is bounded: the queue overflows as an overrun', async () => {
    ip(['link', 'add', 'q0', 'type', 'bridge'], ns.name);
    const m = h.monitor({ groups: ['addr4'], maxQueue: 10 });
    const it = m[Symbol.asyncIterator]();
    try {
      const first = it.next(); // iterating, but then not reading on
      const batch = Array.from({ length: 50 }, (_, i) => `addr add 10.91.0.${i + 1}/32 dev q0`).join('\n');
      execFileSync('ip', ['-n', ns.name, '-batch', '-'], { input: batch });
      const overrun = await new Promise((resolve) => m.once('overrun', resolve));
      expect(overrun).toEqual({ type: 'overrun', reason: 'queue' });
      expect((await first).done).toBe(false);
    } finally {
      await it.return?.();
      expect(m.isClosed).toBe(true);
      ip(['link', 'del', 'q0'], ns.name);
    }
  });

  it('abort and break release the socket; 1000 start/stop cycles leave the fd count unchanged', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 1000; i++) h.monitor({ groups: ['link', 'addr'] }).close();
    const ac = new AbortController();
    const m = h.monitor({ groups: ['link'], signal: ac.signal });
    const loop = (async () => {
      for await (const ev of m) void ev;
    })();
    ac.abort();
    await expect(loop).rejects.toMatchObject({ name: 'AbortError' });
    const m2 = h.monitor({ groups: ['link'], listExisting: true });
    for await (const ev of m2) if (ev.type === 'snapshot' && ev.state === 'end') break;
    expect(m2.isClosed).toBe(true);
    await settle();
    expect(fds()).toBe(before);
    expect(() => h.monitor({ groups: ['bogus' as 'link'] })).toThrow(TypeError);
    expect(() => h.monitor({ maxQueue: 0 })).toThrow(RangeError);
  });
});

describeRoot('monitor of all namespaces', () => {
  it('sees events from two namespaces, each with its nsid and name', async () => {
    const [a, b, c] = [randomName(), randomName(), randomName()];
    for (const n of [a, b, c]) ip(['netns', 'add', n]);
    const h = await nl.open({ netns: a });
    let m: nl.Monitor | undefined;
    try {
      m = h.monitor({ groups: ['link', 'addr4'], allNamespaces: true });
      const events = collect(
        m,
        (() => {
          const seen = new Set<string>();
          return (ev) => {
            if (ev.type === 'new' && ['inb', 'inc'].includes((ev.data as Link).name)) seen.add((ev.data as Link).name);
            return seen.size === 2;
          };
        })(),
      );
      await new Promise((r) => setTimeout(r, 200)); // ids assigned, names learnt
      ip(['link', 'add', 'inb', 'type', 'bridge'], b);
      ip(['link', 'add', 'inc', 'type', 'bridge'], c);
      const got = (await events).filter((ev): ev is ObjectEvent => ev.type === 'new');
      const idB = await h.nsid.get(b);
      const idC = await h.nsid.get(c);
      expect(typeof idB).toBe('number');
      expect(idB).not.toBe(idC);
      expect(got.find((ev) => (ev.data as Link).name === 'inb')).toMatchObject({ nsid: idB, netns: b });
      expect(got.find((ev) => (ev.data as Link).name === 'inc')).toMatchObject({ nsid: idC, netns: c });
      // A change made by this same process through a handle in b: that socket's port id
      // there can equal the monitor's here (ids are per namespace); still an event, not a "reply".
      // (other tests, running alongside, add addresses in namespaces of their own: this one's is in b)
      const addrEvent = collect(m!, (ev) => ev.type === 'new' && ev.object === 'addr' && ev.netns === b);
      const hb = await nl.open({ netns: b });
      await hb.link.add({ kind: 'bridge', name: 'inb2' });
      await hb.addr.add('inb2', '10.61.0.1/24');
      await hb.close();
      const addrs = (await addrEvent).filter((ev): ev is ObjectEvent => ev.type === 'new' && ev.object === 'addr');
      expect(addrs.at(-1)).toMatchObject({ nsid: idB, netns: b, data: { address: '10.61.0.1', prefixLength: 24 } });
    } finally {
      m?.close(); // an open monitor keeps the process alive
      await h.close();
      for (const n of [a, b, c]) ip(['netns', 'del', n]);
    }
  });
});

describeRoot('waiting for kernel state', () => {
  const ns = useNetns();
  let h: nl.Handle;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('link.waitFor: present, up with carrier, gone; at once when already so; timeout and abort', async () => {
    const appears = h.link.waitFor('w0');
    setTimeout(() => ip(['link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1'], ns.name), 30);
    expect((await appears)?.name).toBe('w0');
    const upWithCarrier = h.link.waitFor('w0', { up: true, carrier: true }, { timeout: 5000 });
    ip(['link', 'set', 'w0', 'up'], ns.name);
    // no carrier until the peer is up too
    await expect(
      Promise.race([upWithCarrier, new Promise((r) => setTimeout(() => r('still waiting'), 100))]),
    ).resolves.toBe('still waiting');
    ip(['link', 'set', 'w1', 'up'], ns.name);
    expect(await upWithCarrier).toMatchObject({ name: 'w0', up: true, carrier: true });
    expect((await h.link.waitFor('w0', { up: true }))?.up).toBe(true); // already so
    await expect(h.link.waitFor('w0', { up: false }, { timeout: 50 })).rejects.toMatchObject({
      code: 'ERR_RTNL_TIMEOUT',
    });
    const ac = new AbortController();
    const aborted = h.link.waitFor('nothere', {}, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    const gone = h.link.waitFor('w0', { present: false });
    ip(['link', 'del', 'w0'], ns.name);
    await expect(gone).resolves.toBeUndefined();
  });

  it('addr.waitFor: an IPv6 address past duplicate address detection', async () => {
    ip(['link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'], ns.name);
    ip(['link', 'set', 'd0', 'up'], ns.name);
    ip(['link', 'set', 'd1', 'up'], ns.name);
    await h.link.waitFor('d0', { carrier: true }, { timeout: 5000 });
    await h.addr.add('d0', '2001:db8:77::1/64');
    const now = (await h.addr.list({ link: 'd0', family: 6 })).find((a) => a.address === '2001:db8:77::1');
    expect(now?.flags).toContain('tentative'); // DAD takes about a second
    const ready = await h.addr.waitFor('d0', '2001:db8:77::1', {}, { timeout: 10_000 });
    expect(ready?.flags).not.toContain('tentative');
    // and the address can be bound now
    const fd = nl.netns.socketFd(ns.name, 'tcp6', { address: '2001:db8:77::1', port: 0 });
    fs.closeSync(fd);
    ip(['link', 'del', 'd0'], ns.name);
  });

  it('route.waitFor: a route appears and goes', async () => {
    ip(['link', 'add', 'r0', 'type', 'bridge'], ns.name);
    ip(['link', 'set', 'r0', 'up'], ns.name);
    const appears = h.route.waitFor({ dst: '10.66.0.0/16', family: 4 }, { timeout: 5000 });
    setTimeout(() => ip(['route', 'add', '10.66.0.0/16', 'dev', 'r0'], ns.name), 30);
    expect(await appears).toMatchObject({ dst: '10.66.0.0/16' });
    const gone = h.route.waitFor({ dst: '10.66.0.0/16', family: 4, present: false }, { timeout: 5000 });
    ip(['route', 'del', '10.66.0.0/16'], ns.name);
    await expect(gone).resolves.toBeUndefined();
    ip(['link', 'del', 'r0'], ns.name);
  });
});
