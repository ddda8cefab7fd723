/**
 * Traffic control against the live kernel, in two namespaces the tests
 * create (veth a0 in A <-> b0 in B), with iproute2's tc as the oracle both
 * ways, and the real effect of what the library installs: a TBF or HTB
 * limit slows a TCP transfer to at least what the rate implies, and a u32
 * filter with a mirred action moves packets from one veth to another.
 * Kinds this kernel lacks (see the probe) are skipped with the reason.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import * as nl from '../../lib';
import { NetlinkError } from '../../lib';
import { describeIf, ip, ipJson, itIf, loadProbe, missing, randomName, tcJson } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');
const has = {
  htb: probe.qdiscs.htb,
  tbf: probe.qdiscs.tbf,
  clsact: probe.qdiscs.clsact,
  u32: probe.classifiers.u32,
  mirred: probe.actions.mirred,
};

function tc(args: string[], netns: string): void {
  execFileSync('tc', ['-n', netns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function tcText(args: string[], netns: string): string {
  return execFileSync('tc', ['-n', netns, ...args], { encoding: 'utf8' });
}

/** tc's printed sizes and rates ('1600b', '4Kb', '10Mbit') in bytes and bytes/s. */
function tcBytes(text: string): number {
  const m = /^([\d.]+)([KMG]?)(b|bit)$/.exec(text);
  if (!m) throw new Error(`unexpected tc size ${text}`);
  const n = Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]]!;
  return m[3] === 'bit' ? (Number(m[1]) * { '': 1, K: 1e3, M: 1e6, G: 1e9 }[m[2]]!) / 8 : n;
}

describeRoot('tc in namespaces', () => {
  let A = '';
  let B = '';
  let ha: nl.Handle;
  let hb: nl.Handle;

  beforeAll(async () => {
    A = randomName();
    B = randomName();
    ip(['netns', 'add', A]);
    ip(['netns', 'add', B]);
    ip(['link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', B], A);
    ip(['link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'c1'], B);
    ip(['addr', 'add', '10.77.0.1/24', 'dev', 'a0'], A);
    ip(['addr', 'add', '10.77.0.2/24', 'dev', 'b0'], B);
    for (const [ns, dev] of [
      [A, 'lo'],
      [A, 'a0'],
      [B, 'lo'],
      [B, 'b0'],
      [B, 'c0'],
      [B, 'c1'],
    ]) {
      ip(['link', 'set', dev, 'up'], ns);
    }
    // No ARP in the way of the timed transfers.
    const bmac = ipJson<{ address: string }[]>(['link', 'show', 'b0'], B)[0].address;
    const amac = ipJson<{ address: string }[]>(['link', 'show', 'a0'], A)[0].address;
    ip(['neigh', 'add', '10.77.0.2', 'lladdr', bmac, 'dev', 'a0', 'nud', 'permanent'], A);
    ip(['neigh', 'add', '10.77.0.1', 'lladdr', amac, 'dev', 'b0', 'nud', 'permanent'], B);
    ha = await nl.open({ netns: A });
    hb = await nl.open({ netns: B });
  });

  afterAll(async () => {
    await ha?.close();
    await hb?.close();
    if (A) ip(['netns', 'del', A]);
    if (B) ip(['netns', 'del', B]);
  });

  afterEach(() => {
    for (const [ns, dev] of [
      [A, 'a0'],
      [B, 'b0'],
      [B, 'c0'],
    ]) {
      for (const where of ['root', 'clsact', 'ingress']) {
        try {
          tc(['qdisc', 'del', 'dev', dev, where], ns);
        } catch {
          // nothing there
        }
      }
    }
  });

  /** Sends `bytes` over TCP from A to B and resolves the seconds it took and the bytes B received. */
  async function transfer(bytes: number, port: number): Promise<{ seconds: number; received: number }> {
    const received = new Promise<{ seconds: number; received: number }>((resolve, reject) => {
      let got = 0;
      let start = 0;
      const server = net.createServer((sock) => {
        sock.on('data', (d) => {
          got += d.length;
          if (got >= bytes) {
            const seconds = (Date.now() - start) / 1000;
            sock.destroy();
            server.close();
            resolve({ seconds, received: got });
          }
        });
        sock.on('error', reject);
      });
      server.listen({ fd: nl.netns.socketFd(B, 'tcp4', { port, address: '10.77.0.2' }) }, () => {
        const client = new net.Socket({ fd: nl.netns.socketFd(A, 'tcp4') });
        client.on('error', reject);
        client.connect(port, '10.77.0.2', () => {
          start = Date.now();
          client.end(Buffer.alloc(bytes, 0x5a));
        });
      });
    });
    return received;
  }

  describe('what the library installs, tc -j reports', () => {
    itIf(has.htb, missing(probe, 'qdiscs', 'htb'))('htb qdisc, classes and a u32 filter', async () => {
      await ha.tc.qdisc.add({
        dev: 'a0',
        parent: 'root',
        handle: '1:',
        kind: 'htb',
        options: { defaultClass: '1:10' },
      });
      await ha.tc.class.add({
        dev: 'a0',
        parent: '1:',
        classid: '1:10',
        kind: 'htb',
        options: { rate: '10mbit', ceil: '20mbit' },
      });
      await ha.tc.class.add({
        dev: 'a0',
        parent: '1:',
        classid: '1:20',
        kind: 'htb',
        options: { rate: '1mbit', burst: '15k', prio: 2, quantum: 1500 },
      });
      await ha.tc.filter.add({
        dev: 'a0',
        parent: '1:',
        protocol: 'ip',
        priority: 1,
        kind: 'u32',
        options: { match: [{ ip: { dst: '10.0.0.0/24' } }], classid: '1:10' },
      });
      const [q] = tcJson(['qdisc', 'show', 'dev', 'a0'], A);
      expect(q).toMatchObject({ kind: 'htb', handle: '1:', root: true, options: { r2q: 10, default: '0x10' } });

      // tc 6.1 prints htb classes as text only, even with -j.
      const text = tcText(['class', 'show', 'dev', 'a0'], A);
      const m = /class htb 1:20 root prio 2 rate (\S+) ceil (\S+) burst (\S+) cburst (\S+)/.exec(text);
      expect(m).not.toBeNull();
      expect([tcBytes(m![1]), tcBytes(m![2]), tcBytes(m![3])]).toEqual([125000, 125000, 15360]);
      const mine = await ha.tc.class.list({ dev: 'a0' });
      expect(mine.find((c) => c.classid === '1:20')).toMatchObject({
        dev: 'a0',
        kind: 'htb',
        parent: 'root',
        options: { rate: 125000, ceil: 125000, burst: 15360, prio: 2, quantum: 1500 },
      });

      const f = tcJson(['filter', 'show', 'dev', 'a0', 'parent', '1:'], A).find(
        (x: { options?: { match?: unknown } }) => x.options?.match,
      );
      expect(f).toMatchObject({
        protocol: 'ip',
        pref: 1,
        kind: 'u32',
        options: { flowid: '1:10', match: { value: 'a000000', mask: 'ffffff00', off: 16 } },
      });
    });

    itIf(has.tbf, missing(probe, 'qdiscs', 'tbf'))('tbf, pfifo, bfifo, pfifo_fast, ingress and clsact', async () => {
      await ha.tc.qdisc.add({
        dev: 'a0',
        handle: '5:',
        kind: 'tbf',
        options: { rate: '1mbit', burst: '32kbit', latency: '400ms' },
      });
      expect(tcJson(['-d', 'qdisc', 'show', 'dev', 'a0'], A)[0]).toMatchObject({
        kind: 'tbf',
        handle: '5:',
        options: { rate: 125000, lat: 400000, mpu: 0, linklayer: 'ethernet' },
      });
      for (const [kind, options, expected] of [
        ['pfifo', { limit: 77 }, { limit: 77 }],
        ['bfifo', { limit: '64kb' }, { limit: 65536 }],
      ] as const) {
        await ha.tc.qdisc.del({ dev: 'a0' });
        await ha.tc.qdisc.add({ dev: 'a0', handle: '6:', kind, options });
        expect(tcJson(['qdisc', 'show', 'dev', 'a0'], A)[0]).toMatchObject({ kind, handle: '6:', options: expected });
      }
      await ha.tc.qdisc.del({ dev: 'a0' });
      await ha.tc.qdisc.add({ dev: 'a0', handle: '7:', kind: 'pfifo_fast' });
      expect(tcJson(['qdisc', 'show', 'dev', 'a0'], A)[0]).toMatchObject({ kind: 'pfifo_fast', handle: '7:' });
      const [fast] = await ha.tc.qdisc.list({ dev: 'a0', kind: 'pfifo_fast' });
      expect(fast.options).toEqual({ bands: 3, priomap: [1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1] });

      await hb.tc.qdisc.add({ dev: 'c0', kind: 'ingress' });
      await hb.tc.qdisc.add({ dev: 'b0', kind: 'clsact' });
      const oracle = tcJson(['qdisc', 'show'], B).filter(
        (q: { kind: string }) => q.kind === 'ingress' || q.kind === 'clsact',
      );
      const mine = (await hb.tc.qdisc.list()).filter((q) => q.kind === 'ingress' || q.kind === 'clsact');
      expect(mine.map((q) => ({ dev: q.dev, kind: q.kind, handle: q.handle, parent: q.parent }))).toEqual(
        oracle.map((q: { dev: string; kind: string; handle: string; parent: string }) => ({
          dev: q.dev,
          kind: q.kind,
          handle: q.handle,
          parent: q.parent,
        })),
      );
      await hb.tc.qdisc.del({ dev: 'b0', kind: 'clsact' });
      expect(tcJson(['qdisc', 'show', 'dev', 'b0'], B).some((q: { kind: string }) => q.kind === 'clsact')).toBe(false);
    });
  });

  describe('what tc installs, the library decodes identically', () => {
    itIf(has.htb && has.tbf, missing(probe, 'qdiscs', 'tbf'))('qdiscs and classes', async () => {
      tc(
        ['qdisc', 'add', 'dev', 'a0', 'root', 'handle', '1:', 'htb', 'default', '20', 'r2q', '5', 'direct_qlen', '50'],
        A,
      );
      tc(
        [
          'class',
          'add',
          'dev',
          'a0',
          'parent',
          '1:',
          'classid',
          '1:20',
          'htb',
          'rate',
          '3mbit',
          'ceil',
          '6mbit',
          'prio',
          '1',
        ],
        A,
      );
      tc(
        [
          'qdisc',
          'add',
          'dev',
          'a0',
          'parent',
          '1:20',
          'handle',
          '20:',
          'tbf',
          'rate',
          '2mbit',
          'burst',
          '10kb',
          'latency',
          '50ms',
        ],
        A,
      );
      const oracle = tcJson(['-s', '-d', 'qdisc', 'show', 'dev', 'a0'], A);
      const mine = await ha.tc.qdisc.list({ dev: 'a0' });
      expect(mine.map((q) => ({ kind: q.kind, handle: q.handle, parent: q.parent, dev: q.dev }))).toEqual(
        oracle.map((q: { kind: string; handle: string; parent?: string; root?: boolean; dev: string }) => ({
          kind: q.kind,
          handle: q.handle,
          parent: q.root ? 'root' : q.parent,
          dev: q.dev ?? 'a0', // tc -j leaves dev out when asked for one device
        })),
      );
      const htb = mine.find((q) => q.kind === 'htb')!;
      const htbOracle = oracle.find((q: { kind: string }) => q.kind === 'htb');
      expect(htb.options).toMatchObject({
        r2q: htbOracle.options.r2q,
        defaultClass: `1:${htbOracle.options.default.replace(/^0x/, '')}`,
        directQlen: htbOracle.options.direct_qlen,
        version: htbOracle.options.ver,
      });
      const tbf = mine.find((q) => q.kind === 'tbf')!;
      const tbfOracle = oracle.find((q: { kind: string }) => q.kind === 'tbf');
      expect(tbf.options).toMatchObject({
        rate: tbfOracle.options.rate,
        latency: tbfOracle.options.lat,
        mpu: tbfOracle.options.mpu,
        linklayer: tbfOracle.options.linklayer,
        burst: 10240,
      });
      // Counters only grow, and the kernel's own IPv6 chatter (DAD, router solicitations) may
      // pass between tc's read and ours, which came second: equal, or a little more.
      const ours = tbf.stats as { bytes: number; packets: number; drops: number };
      expect(ours.bytes).toBeGreaterThanOrEqual(tbfOracle.bytes);
      expect(ours.bytes - tbfOracle.bytes).toBeLessThan(1500);
      expect(ours.packets).toBeGreaterThanOrEqual(tbfOracle.packets);
      expect(ours.packets - tbfOracle.packets).toBeLessThanOrEqual(4);
      expect(ours.drops).toBe(tbfOracle.drops);
      const [cls] = (await ha.tc.class.list({ dev: 'a0' })).filter((c) => c.classid === '1:20');
      const text = tcText(['class', 'show', 'dev', 'a0'], A);
      const m = /class htb 1:20 root leaf 20: prio 1 rate (\S+) ceil (\S+) burst (\S+) cburst (\S+)/.exec(text)!;
      expect(cls).toMatchObject({
        leaf: '20:',
        options: { prio: 1, rate: tcBytes(m[1]), ceil: tcBytes(m[2]), burst: tcBytes(m[3]), cburst: tcBytes(m[4]) },
      });
      expect(cls.xstats).toEqual(expect.objectContaining({ lends: expect.any(Number), tokens: expect.any(Number) }));
    });

    itIf(has.clsact && has.u32 && has.mirred, missing(probe, 'actions', 'mirred'))(
      'u32 filters with mirred',
      async () => {
        tc(['qdisc', 'add', 'dev', 'b0', 'clsact'], B);
        tc(
          [
            'filter',
            'add',
            'dev',
            'b0',
            'ingress',
            'protocol',
            'ip',
            'prio',
            '3',
            'u32',
            'match',
            'ip',
            'dst',
            '10.9.0.0/16',
            'match',
            'ip',
            'dport',
            '53',
            '0xffff',
            'action',
            'mirred',
            'egress',
            'redirect',
            'dev',
            'c0',
          ],
          B,
        );
        const oracle = tcJson(['filter', 'show', 'dev', 'b0', 'ingress'], B);
        const mine = await hb.tc.filter.list({ dev: 'b0', parent: 'ingress' });
        expect(mine.map((f) => [f.kind, f.protocol, f.priority, f.handle])).toEqual(
          oracle.map((f: { kind: string; protocol: string; pref: number; options?: { fh?: string } }) => [
            f.kind,
            f.protocol,
            f.pref,
            f.options?.fh ?? ':',
          ]),
        );
        const real = mine.find((f) => Array.isArray(f.options.match))!;
        const realOracle = oracle.find((f: { options?: { match?: unknown } }) => f.options?.match);
        // tc -j prints one "match" key per u32 key, so JSON keeps only the last one.
        const last = realOracle.options.match as { value: string; mask: string; off: number };
        expect(real.options.match).toHaveLength(2);
        expect((real.options.match as unknown[]).at(-1)).toEqual({
          u32: { value: parseInt(last.value, 16), mask: parseInt(last.mask, 16), at: last.off },
        });
        expect((real.options.match as unknown[])[0]).toEqual({ u32: { value: 0x0a090000, mask: 0xffff0000, at: 16 } });
        const [action] = real.options.actions as nl.TcActionInfo[];
        const actionOracle = realOracle.options.actions[0];
        expect(action).toMatchObject({
          kind: actionOracle.kind,
          direction: 'egress',
          action: 'redirect',
          dev: actionOracle.to_dev,
          control: actionOracle.control_action.type,
          index: actionOracle.index,
          refcnt: actionOracle.ref,
          bindcnt: actionOracle.bind,
        });
      },
    );
  });

  describe('real effect', () => {
    itIf(has.tbf, missing(probe, 'qdiscs', 'tbf'))(
      'a tbf limit slows a TCP transfer and counts its bytes',
      async () => {
        const rate = 125000; // 1mbit
        const burst = 16384;
        await ha.tc.qdisc.add({ dev: 'a0', handle: '1:', kind: 'tbf', options: { rate, burst, latency: '200ms' } });
        const bytes = 200000;
        const { seconds, received } = await transfer(bytes, 7701);
        expect(received).toBe(bytes);
        // A lower bound only: the bucket lets `burst` through at once, everything else waits for tokens.
        expect(seconds).toBeGreaterThanOrEqual(((bytes - burst) / rate) * 0.95);
        const [q] = await ha.tc.qdisc.list({ dev: 'a0', kind: 'tbf' });
        expect(q.stats!.bytes).toBeGreaterThanOrEqual(bytes);
        expect(q.stats!.packets).toBeGreaterThan(bytes / 65536);
        const oracle = tcJson(['-s', 'qdisc', 'show', 'dev', 'a0'], A)[0];
        expect(q.stats!.bytes).toBeLessThanOrEqual(oracle.bytes);
      },
      30000,
    );

    itIf(has.htb, missing(probe, 'qdiscs', 'htb'))(
      'an htb class limit slows a TCP transfer',
      async () => {
        await ha.tc.qdisc.add({ dev: 'a0', handle: '1:', kind: 'htb', options: { defaultClass: '1:10' } });
        await ha.tc.class.add({
          dev: 'a0',
          parent: '1:',
          classid: '1:10',
          kind: 'htb',
          options: { rate: '2mbit', burst: '8kb' },
        });
        const rate = 250000;
        const bytes = 400000;
        const { seconds } = await transfer(bytes, 7702);
        // HTB lets a packet out while tokens last, so one GSO packet (64 KiB on veth) may overdraw the bucket.
        expect(seconds).toBeGreaterThanOrEqual(((bytes - 8192 - 65536) / rate) * 0.95);
        const [c] = await ha.tc.class.list({ dev: 'a0' });
        expect(c.stats!.bytes).toBeGreaterThanOrEqual(bytes);
      },
      30000,
    );

    itIf(has.clsact && has.u32 && has.mirred, missing(probe, 'actions', 'mirred'))(
      'a u32 filter with mirred redirects packets from one veth to another',
      async () => {
        await hb.tc.qdisc.add({ dev: 'b0', kind: 'clsact' });
        await hb.tc.filter.add({
          dev: 'b0',
          parent: 'ingress',
          protocol: 'ip',
          priority: 1,
          kind: 'u32',
          options: {
            match: [{ ip: { dst: '10.77.0.2/32', protocol: 'udp', dport: 9999 } }],
            actions: [{ kind: 'mirred', direction: 'egress', action: 'redirect', dev: 'c0' }],
          },
        });
        const rx = () =>
          ipJson<{ stats64: { rx: { packets: number } } }[]>(['-s', 'link', 'show', 'c1'], B)[0].stats64.rx.packets;
        const before = rx();
        const sock = dgram.createSocket({ type: 'udp4' });
        await new Promise<void>((r) => sock.bind({ fd: nl.netns.socketFd(A, 'udp4', { port: 0 }) }, () => r()));
        for (let i = 0; i < 10; i++) await new Promise((r) => sock.send(Buffer.from('x'), 9999, '10.77.0.2', r));
        sock.close();
        await new Promise((r) => setTimeout(r, 200));
        expect(rx() - before).toBeGreaterThanOrEqual(10);
        const [f] = (await hb.tc.filter.list({ dev: 'b0', parent: 'ingress' })).filter((x) => x.options.actions);
        const [action] = f.options.actions as nl.TcActionInfo[];
        expect(action).toMatchObject({ kind: 'mirred', dev: 'c0', control: 'stolen' });
        expect(action.stats!.packets).toBeGreaterThanOrEqual(10);
      },
    );
  });

  describe('errors', () => {
    itIf(has.htb, missing(probe, 'qdiscs', 'htb'))('kernel refusals carry the extended ACK', async () => {
      await ha.tc.qdisc.add({ dev: 'a0', handle: '1:', kind: 'pfifo' });
      const error = await ha.tc.qdisc
        .add({ dev: 'a0', parent: '1:1', handle: '2:', kind: 'pfifo' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetlinkError);
      expect(error).toMatchObject({ operation: 'RTM_NEWQDISC', extack: expect.stringMatching(/not classful/) });
      const again = await ha.tc.qdisc.add({ dev: 'a0', handle: '1:', kind: 'pfifo' }).catch((e: unknown) => e);
      expect(again).toMatchObject({ code: 'EEXIST', extack: expect.any(String) });
      const gone = await ha.tc.class.del({ dev: 'a0', classid: '7:7' }).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(NetlinkError);
    });

    itIf(!probe.qdiscs.netem, 'netem is available here: the refusal cannot be shown')(
      'a kind the kernel lacks is refused with its extack text',
      async () => {
        const error = await ha.tc.qdisc
          .add({ dev: 'a0', kind: 'netem', options: { delay: '10ms' } })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'ENOENT', extack: expect.stringMatching(/unknown/i) });
      },
    );
  });

  describe('standalone actions', () => {
    itIf(has.mirred, missing(probe, 'actions', 'mirred'))('add, list, get, del against tc actions ls', async () => {
      await hb.tc.action.add({ kind: 'mirred', direction: 'egress', action: 'mirror', dev: 'c0', index: 42 });
      const oracle = tcJson(['actions', 'ls', 'action', 'mirred'], B);
      const mine = await hb.tc.action.list('mirred');
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        kind: 'mirred',
        index: 42,
        direction: 'egress',
        action: 'mirror',
        dev: 'c0',
        control: 'pipe',
      });
      expect(JSON.stringify(oracle)).toContain('"index":42');
      expect(await hb.tc.action.get({ kind: 'mirred', index: 42 })).toMatchObject({ index: 42, dev: 'c0' });
      await hb.tc.action.del({ kind: 'mirred', index: 42 });
      expect(await hb.tc.action.list('mirred')).toEqual([]);
    });
  });

  describe('kinds this kernel lacks', () => {
    itIf(probe.qdiscs.netem, missing(probe, 'qdiscs', 'netem'))('netem round trip', async () => {
      await ha.tc.qdisc.add({ dev: 'a0', kind: 'netem', options: { delay: '20ms', jitter: '5ms', loss: 1 } });
      const [q] = tcJson(['qdisc', 'show', 'dev', 'a0'], A);
      expect(q.kind).toBe('netem');
      expect((await ha.tc.qdisc.list({ dev: 'a0' }))[0].options).toMatchObject({ delay: 20000, jitter: 5000, loss: 1 });
    });
    itIf(probe.qdiscs.fq_codel, missing(probe, 'qdiscs', 'fq_codel'))('fq_codel round trip', async () => {
      await ha.tc.qdisc.add({ dev: 'a0', kind: 'fq_codel', options: { limit: 1000, target: '5ms', ecn: true } });
      expect((await ha.tc.qdisc.list({ dev: 'a0' }))[0].options).toMatchObject({
        limit: 1000,
        target: 5000,
        ecn: true,
      });
    });
    itIf(probe.classifiers.flower && probe.actions.gact, missing(probe, 'classifiers', 'flower'))(
      'flower with gact',
      async () => {
        await ha.tc.qdisc.add({ dev: 'a0', kind: 'clsact' });
        await ha.tc.filter.add({
          dev: 'a0',
          parent: 'ingress',
          protocol: 'ip',
          kind: 'flower',
          options: { ipProto: 'tcp', dstPort: 80, actions: [{ kind: 'gact', action: 'drop' }] },
        });
        const [f] = await ha.tc.filter.list({ dev: 'a0', parent: 'ingress', kind: 'flower' });
        expect(f.options).toMatchObject({ ipProto: 'tcp', dstPort: 80, actions: [{ kind: 'gact', action: 'drop' }] });
      },
    );
  });
});

describeRoot('bpf filters by pinned path', () => {
  it('opens the pin (bpf BPF_OBJ_GET) before sending: a missing pin is ENOENT naming the path; bad shapes fail first', async () => {
    const ns = randomName();
    ip(['netns', 'add', ns]);
    const h = await nl.open({ netns: ns });
    try {
      await h.link.add({ kind: 'bridge', name: 'd0' });
      await h.tc.qdisc.add({ dev: 'd0', parent: 'clsact', kind: 'clsact' });
      const spec = { dev: 'd0', parent: 'ingress', protocol: 'all', kind: 'bpf' } as const;
      await expect(
        h.tc.filter.add({ ...spec, options: { pinned: '/sys/fs/bpf/rtnl-no-such-pin', directAction: true } }),
      ).rejects.toMatchObject({ code: 'ENOENT', path: '/sys/fs/bpf/rtnl-no-such-pin' });
      await expect(h.tc.filter.add({ ...spec, options: { pinned: 'relative/pin' } })).rejects.toBeInstanceOf(TypeError);
      await expect(h.tc.filter.add({ ...spec, options: { pinned: '/p', fd: 3 } })).rejects.toBeInstanceOf(TypeError);
      expect(await h.tc.filter.list({ dev: 'd0', parent: 'ingress' })).toEqual([]);
    } finally {
      await h.close();
      ip(['netns', 'del', ns]);
    }
  });
});
