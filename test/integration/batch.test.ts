/**
 * batch(): many requests pipelined, results in call order, whichever path a
 * request takes (built ahead and sent in chunks, or made as a call).
 */
import * as nl from '../../lib';
import { describeIf, ipJson, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

describeRoot('batch', () => {
  const ns = useNetns();
  let h: nl.Handle;
  let dev: number;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'veth', name: 'b0', peer: { name: 'b1' }, up: true });
    await h.link.set('b1', { up: true });
    await h.addr.add('b0', '10.50.0.1/24');
    dev = (await h.link.get('b0')).index;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('10k routes in one batch: all there, as ip sees them; results in call order', async () => {
    const prefixes = Array.from({ length: 10_000 }, (_, i) => `10.${51 + (i >> 8)}.${i & 255}.0/24`);
    const results = await h.batch((b) => {
      for (const dst of prefixes) b.route.add({ dst, gateway: '10.50.0.2', dev });
    });
    expect(results).toHaveLength(10_000);
    expect(results.every((r) => r.ok)).toBe(true);
    const theirs = new Set(
      (ipJson(['route', 'show', 'via', '10.50.0.2'], ns.name) as { dst: string }[]).map((r) => r.dst),
    );
    expect(prefixes.filter((p) => !theirs.has(p))).toEqual([]);
    // and away again, by name this time (the call path, names looked up once per round trip)
    const gone = await h.batch((b) => {
      for (const dst of prefixes) b.route.del({ dst, gateway: '10.50.0.2', dev: 'b0' });
    });
    expect(gone.every((r) => r.ok)).toBe(true);
    expect(ipJson(['route', 'show', 'via', '10.50.0.2'], ns.name)).toEqual([]);
  });

  it('30k routes (datagrams sent from the sender thread): refusals land in their slots across datagrams', async () => {
    const prefixes = Array.from({ length: 30_000 }, (_, i) => `10.${120 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    // Every 997th is already there: its add must fail, wherever it falls in a datagram.
    const taken = new Set(prefixes.filter((_, i) => i % 997 === 5));
    const pre = await h.batch((b) => {
      for (const dst of taken) b.route.add({ dst, gateway: '10.50.0.2', dev });
    });
    expect(pre.every((r) => r.ok)).toBe(true);
    const results = await h.batch((b) => {
      for (const dst of prefixes) b.route.add({ dst, gateway: '10.50.0.2', dev: 'b0' });
    });
    const failed = results.flatMap((r, i) => (r.ok ? [] : [i]));
    expect(failed).toEqual(prefixes.flatMap((p, i) => (taken.has(p) ? [i] : [])));
    for (const i of failed) expect(results[i]).toMatchObject({ ok: false, error: { code: 'EEXIST' } });
    const theirs = ipJson(['route', 'show', 'via', '10.50.0.2', 'root', '10.120.0.0/15'], ns.name) as unknown[];
    expect(theirs).toHaveLength(30_000);
    const gone = await h.batch((b) => {
      for (const dst of prefixes) b.route.del({ dst, gateway: '10.50.0.2', dev });
    });
    expect(gone.every((r) => r.ok)).toBe(true);
    expect(ipJson(['route', 'show', 'root', '10.120.0.0/15'], ns.name)).toEqual([]);
  });

  it('requests with big replies made while a big batch is in flight are answered whole', async () => {
    // While only a batch's ACKs are owed, they are read many per syscall into small slots;
    // a lookup or dump made meanwhile must switch that off for its big replies.
    const prefixes = Array.from({ length: 20_000 }, (_, i) => `10.${130 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
    const batch = h.batch((b) => {
      for (const dst of prefixes) b.route.add({ dst, gateway: '10.50.0.2', dev });
    });
    const lookups: Promise<unknown>[] = [];
    for (let k = 0; k < 20; k++) {
      await new Promise((r) => setImmediate(r));
      lookups.push(h.link.get('b0'), h.link.list(), h.addr.list({ link: 'b0' }));
    }
    const [results, ...answers] = await Promise.all([batch, ...lookups]);
    expect((results as nl.BatchResult[]).every((r) => r.ok)).toBe(true);
    for (const a of answers) expect(a).toBeTruthy();
    expect(answers.filter((a) => (a as nl.Link).name === 'b0')).toHaveLength(20);
    const gone = await h.batch((b) => {
      for (const dst of prefixes) b.route.del({ dst, gateway: '10.50.0.2', dev });
    });
    expect(gone.every((r) => r.ok)).toBe(true);
  });

  it('a call may depend on earlier ones: links, their addresses, state and routes in one batch', async () => {
    const results = await h.batch((b) => {
      for (let i = 0; i < 20; i++) b.link.add({ kind: 'veth', name: `o${i}a`, peer: { name: `o${i}b` } }); // bulk
      for (let i = 0; i < 20; i++) b.addr.add(`o${i}a`, `10.60.${i}.1/24`); // bulk, by the names just made
      for (let i = 0; i < 20; i++) b.link.set(`o${i}a`, { up: true }); // calls, after the adds are answered
      for (let i = 0; i < 20; i++) b.link.set(`o${i}b`, { up: true });
      for (let i = 0; i < 20; i++) b.route.add({ dst: `10.61.${i}.0/24`, gateway: `10.60.${i}.2` }); // bulk, needs the links up
      b.link.add({ kind: 'bridge', name: 'obr' }); // bulk again
      b.link.set('o0b', { master: 'obr' }); // a call that needs the bridge
    });
    const bad = results.flatMap((r, i) => (r.ok ? [] : [`${i}: ${r.error.message}`]));
    expect(bad).toEqual([]);
    const routes = ipJson(['route', 'show', 'root', '10.61.0.0/16'], ns.name) as { dst: string; gateway: string }[];
    expect(routes.map((r) => r.dst).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `10.61.${i}.0/24`).sort());
    expect(ipJson(['-d', 'link', 'show', 'o0b'], ns.name)[0]).toMatchObject({ master: 'obr' });
    const cleanup = await h.batch((b) => {
      for (let i = 0; i < 20; i++) b.link.del(`o${i}a`);
      b.link.del('obr');
    });
    expect(cleanup.every((r) => r.ok)).toBe(true);
  });

  it('mixed outcomes land in their slots: kernel refusals, bad input, other groups, both paths', async () => {
    const results = await h.batch((b) => {
      b.route.add({ dst: '10.90.0.0/16', gateway: '10.50.0.2', dev }); // 0 ok
      b.route.add({ dst: '10.90.0.0/16', gateway: '10.50.0.2', dev }); // 1 EEXIST
      b.route.add({ dst: '10.91.0.0/33' }); // 2 bad input
      b.route.add({ dst: '10.92.0.0/16', gateway: '10.50.0.2', dev: 'b0' }); // 3 ok, by name
      b.addr.add(dev, '10.50.1.1/24'); // 4 ok
      b.addr.add(dev, '10.50.1.1/24'); // 5 EEXIST
      b.link.set('b0', { mtu: 1400 }); // 6 ok (a call)
      b.route.add({ dst: '10.93.0.0/16', gateway: '10.99.0.1', dev }); // 7 unreachable gateway
      b.route.add({ dst: '10.97.0.0/16', gateway: '10.50.0.2', dev: 'nosuchdev' }); // 8 the name's lookup fails
      b.addr.add('b0', '10.50.2.1/24'); // 9 ok, link by name
    });
    expect(results.map((r) => (r.ok ? 'ok' : ((r.error as { code?: string }).code ?? r.error.name)))).toEqual([
      'ok',
      'EEXIST',
      'ERR_INVALID_ARG_VALUE',
      'ok',
      'ok',
      'EEXIST',
      'ok',
      'ENETUNREACH',
      'ENODEV',
      'ok',
    ]);
    expect(results[1]).toMatchObject({ ok: false, error: { operation: 'RTM_NEWROUTE' } });
    expect((await h.link.get('b0')).mtu).toBe(1400);
  });

  it('stopOnError: after the first failure nothing more is sent', async () => {
    const results = await h.batch(
      (b) => {
        b.route.add({ dst: '10.94.0.0/16', gateway: '10.50.0.2', dev });
        b.route.add({ dst: '10.94.0.0/16', gateway: '10.50.0.2', dev });
        b.route.add({ dst: '10.95.0.0/16', gateway: '10.50.0.2', dev });
      },
      { stopOnError: true, inFlight: 1 },
    );
    expect(results.map((r) => (r.ok ? 'ok' : (r.error as { code?: string }).code))).toEqual([
      'ok',
      'EEXIST',
      'ERR_RTNL_BATCH_STOPPED',
    ]);
    expect(ipJson(['route', 'show', '10.95.0.0/16'], ns.name)).toEqual([]);
  });

  it('refuses a bad callback or options, an already aborted signal, and a builder used late', async () => {
    await expect(h.batch(42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(h.batch(() => undefined, { inFlight: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(h.batch(() => undefined, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    let kept: Parameters<Parameters<nl.Handle['batch']>[0]>[0] | undefined;
    expect(await h.batch((b) => void (kept = b))).toEqual([]);
    expect(() => kept!.route.add({ dst: '10.96.0.0/16', dev })).toThrow(/after the batch callback returned/);
  });
});
