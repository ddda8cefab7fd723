/**
 * The examples of ../shared/API.md, as written there (the contract), in a
 * namespace with an `eth0`: traffic control, nftables, batches, monitor.
 */
import * as nl from '../../lib';
import { describeIf, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const ready = probe.root && probe.ipNetns && probe.nftables === true && probe.qdiscs.htb === true;
const describeRoot = describeIf(ready, probe.reason ?? 'needs root, ip netns, nftables and htb');

describeRoot('API.md examples, verbatim', () => {
  const ns = useNetns();
  let h: nl.Handle;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'veth', name: 'eth0', peer: { name: 'eth1' }, up: true });
    await h.addr.add('eth0', '10.0.0.1/24');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('traffic control, by example', async () => {
    await h.tc.qdisc.add({ dev: 'eth0', parent: 'root', handle: '1:', kind: 'htb', options: { defaultClass: '1:10' } });
    await h.tc.class.add({
      dev: 'eth0',
      parent: '1:',
      classid: '1:10',
      kind: 'htb',
      options: { rate: '10mbit', ceil: '20mbit' },
    });
    await h.tc.filter.add({
      dev: 'eth0',
      parent: '1:',
      protocol: 'ip',
      priority: 1,
      kind: 'u32',
      options: { match: [{ ip: { dst: '10.0.0.0/24' } }], classid: '1:10' },
    });
    const qdiscs = await h.tc.qdisc.list({ dev: 'eth0' });
    expect(qdiscs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          dev: 'eth0',
          kind: 'htb',
          handle: '1:',
          parent: 'root',
          options: expect.any(Object),
          stats: expect.any(Object),
        }),
      ]),
    );
  });

  it('nftables, by example', async () => {
    await h.nft.apply([
      { add: 'table', family: 'inet', name: 'fw' },
      {
        add: 'chain',
        family: 'inet',
        table: 'fw',
        name: 'input',
        type: 'filter',
        hook: 'input',
        priority: 0,
        policy: 'accept',
      },
      {
        add: 'rule',
        family: 'inet',
        table: 'fw',
        chain: 'input',
        match: { l4proto: 'tcp', dport: 7777, saddr: '10.0.0.0/8' },
        counter: true,
        verdict: 'drop',
      },
    ]);
    const ruleset = await h.nft.list();
    expect(ruleset).toMatchObject({
      tables: expect.any(Array),
      chains: expect.any(Array),
      rules: expect.any(Array),
      sets: expect.any(Array),
    });
    expect(ruleset.rules).toEqual([
      expect.objectContaining({
        table: 'fw',
        chain: 'input',
        match: expect.objectContaining({ dport: 7777 }),
        verdict: 'drop',
      }),
    ]);
    await h.nft.apply([{ delete: 'table', family: 'inet', name: 'fw' }]);
    expect((await h.nft.list()).tables).toEqual([]);
  });

  it('batches, by example', async () => {
    const prefixes = ['10.10.0.0/16', '10.11.0.0/16', '10.12.0.0/16'];
    const results = await h.batch(
      (b) => {
        for (const p of prefixes) b.route.add({ dst: p, gateway: '10.0.0.2' });
      },
      { stopOnError: false },
    );
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  it('monitor, by example: AsyncIterable and EventEmitter, events shaped { type, object, data }', async () => {
    const ac = new AbortController();
    const m = h.monitor({ groups: ['link', 'addr'], signal: ac.signal });
    const seen = new Promise((resolve) =>
      m.on('event', (ev) => ev.type === 'new' && ev.object === 'addr' && resolve(ev)),
    );
    await h.addr.add('eth0', '10.0.1.1/24');
    expect(await seen).toMatchObject({ type: 'new', object: 'addr', data: { address: '10.0.1.1', prefixLength: 24 } });
    ac.abort();
    expect(m.isClosed).toBe(true);
  });
});
