/**
 * Links against the live kernel, inside namespaces the tests create, with
 * iproute2 as the independent oracle.
 */
import * as nl from '../../lib';
import { NetlinkError } from '../../lib';
import { Writer } from '../../lib/netlink/attributes';
import { rtLinkSchemas } from '../../lib/families';
import { describeIf, ip, ipJson, loadProbe, randomIfName, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

describeRoot('links in a namespace', () => {
  const ns = useNetns();
  let h: nl.Handle;

  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    ip(['link', 'add', 'va', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'vb'], ns.name);
    ip(['link', 'add', 'br0', 'type', 'bridge'], ns.name);
    ip(['link', 'set', 'vb', 'master', 'br0'], ns.name);
    ip(['link', 'set', 'va', 'alias', 'uplink'], ns.name);
    ip(['link', 'property', 'add', 'dev', 'va', 'altname', 'the-uplink-altname'], ns.name);
    ip(['link', 'set', 'va', 'up'], ns.name);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists what ip -j -d link reports, field for field', async () => {
    const ours = await h.link.list();
    const theirs = ipJson(['-d', 'link', 'show'], ns.name) as Record<string, unknown>[];
    expect(ours.map((l) => l.name).sort()).toEqual(theirs.map((l) => l.ifname).sort());
    for (const t of theirs) {
      const l = ours.find((o) => o.index === t.ifindex)!;
      expect(l.name).toBe(t.ifname);
      expect(l.mtu).toBe(t.mtu);
      // M-DOWN is iproute2's note that the parent is down, not a flag of this link.
      expect(l.flags).toEqual((t.flags as string[]).filter((f) => f !== 'M-DOWN'));
      expect(l.operstate).toBe(t.operstate);
      expect(l.mac).toBe(t.address);
      expect(l.txQueueLen).toBe(t.txqlen);
      expect(l.kind).toBe((t.linkinfo as { info_kind?: string } | undefined)?.info_kind);
      expect(l.alias).toBe(t.ifalias);
      expect(l.altNames).toEqual(t.altnames);
      expect(l.minMtu).toBe(t.min_mtu);
      expect(l.maxMtu).toBe(t.max_mtu);
      if (t.master !== undefined) expect(ours.find((o) => o.index === l.master)?.name).toBe(t.master);
    }
  });

  it('gets by name, altname and index without a dump, and agrees with list', async () => {
    const listed = (await h.link.list()).find((l) => l.name === 'va')!;
    const byName = await h.link.get('va');
    const byAlt = await h.link.get('the-uplink-altname');
    const byIndex = await h.link.get(listed.index);
    for (const l of [byName, byAlt, byIndex]) {
      expect({ ...l, stats: undefined }).toEqual({ ...listed, stats: undefined });
    }
    expect(byName.stats?.rxPackets).toEqual(expect.any(Number));
  });

  it('filters by kind, master and up, kernel-side and client-side alike', async () => {
    expect((await h.link.list({ kind: 'veth' })).map((l) => l.name).sort()).toEqual(['va', 'vb']);
    expect((await h.link.list({ master: 'br0' })).map((l) => l.name)).toEqual(['vb']);
    expect((await h.link.list({ up: true })).map((l) => l.name).sort()).toEqual(['lo', 'va']);
    const unfiltered = await nl.open({ netns: ns.name, strictCheck: false });
    try {
      expect((await unfiltered.link.list({ kind: 'veth' })).map((l) => l.name).sort()).toEqual(['va', 'vb']);
    } finally {
      await unfiltered.close();
    }
  });

  it('streams the same links as list()', async () => {
    const streamed: string[] = [];
    for await (const l of h.link.stream()) streamed.push(l.name);
    expect(streamed.sort()).toEqual((await h.link.list()).map((l) => l.name).sort());
  });

  it('adds, changes and deletes links; ip sees each step', async () => {
    const a = randomIfName('a');
    const b = randomIfName('b');
    await h.link.add({ kind: 'veth', name: a, mtu: 1300, txQueueLen: 500, peer: { name: b } });
    const [ipA] = ipJson(['-d', 'link', 'show', 'dev', a], ns.name);
    const [ipB] = ipJson(['-d', 'link', 'show', 'dev', b], ns.name);
    expect(ipA.mtu).toBe(1300);
    expect(ipB.mtu).toBe(1300); // the peer inherits mtu and queue length
    expect(ipB.txqlen).toBe(500);
    await h.link.set(a, { up: true, mac: '02:00:00:aa:bb:cc', alias: 'x', master: 'br0', mtu: 1280 });
    let [now] = ipJson(['-d', 'link', 'show', 'dev', a], ns.name);
    expect(now).toMatchObject({ address: '02:00:00:aa:bb:cc', ifalias: 'x', master: 'br0', mtu: 1280 });
    expect(now.flags).toContain('UP');
    const renamed = randomIfName('r');
    await h.link.set(a, { name: renamed, master: null, up: false });
    [now] = ipJson(['-d', 'link', 'show', 'dev', renamed], ns.name);
    expect(now.master).toBeUndefined();
    expect(now.flags).not.toContain('UP');
    await h.link.del(renamed);
    expect(ipJson(['link', 'show'], ns.name).map((l: { ifname: string }) => l.ifname)).not.toContain(b);
  });

  it('creates a bridge with kind options, decoded back under info', async () => {
    const name = randomIfName('br');
    await h.link.add({ kind: 'bridge', name, forwardDelay: 500, stpState: 1, up: true });
    const link = await h.link.get(name);
    expect(link.kind).toBe('bridge');
    expect(link.info).toMatchObject({ forwardDelay: 500, stpState: 1 });
    const [t] = ipJson(['-d', 'link', 'show', 'dev', name], ns.name);
    expect(t.linkinfo.info_data).toMatchObject({ forward_delay: 500, stp_state: 1 });
    await h.link.del(name);
  });

  it('rejects an existing name with EEXIST from the kernel', async () => {
    const err = await h.link.add({ kind: 'bridge', name: 'br0' }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'EEXIST', errno: 17, operation: 'RTM_NEWLINK' });
  });

  it('rejects an MTU the device refuses with the kernel extended ACK', async () => {
    const err = await h.link.set('va', { mtu: 70000 }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.code).toBe('EINVAL');
    expect(err.errno).toBe(22);
    expect(err.extack).toMatch(/mtu greater than device maximum/i);
    expect(err.message).toContain(err.extack);
    expect(ipJson(['link', 'show', 'dev', 'va'], ns.name)[0].mtu).toBe(1400);
  });

  it('sends a raw RTM_NEWLINK with an unknown kind through the escape hatch', async () => {
    const w = new Writer();
    rtLinkSchemas.struct('ifinfomsg').encode(w, {});
    rtLinkSchemas.attributeSet('link-attrs').encode(w, { ifname: 'nope0', linkinfo: { kind: 'nosuchkind' } });
    const err = await h.request({ type: 'RTM_NEWLINK', flags: ['create', 'excl'], payload: w.take() }).catch((e) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'EOPNOTSUPP', errno: 95, operation: 'RTM_NEWLINK' });
    expect(err.extack).toMatch(/Unknown device type/);
  });

  it('answers a missing link with ENODEV', async () => {
    await expect(h.link.get('nosuch0')).rejects.toMatchObject({ code: 'ENODEV', operation: 'RTM_GETLINK' });
    await expect(h.link.del(99999)).rejects.toMatchObject({ code: 'ENODEV' });
  });

  it('resolves 1000 concurrent gets interleaved with dumps, each to the right link', async () => {
    const links = await h.link.list();
    const calls: Promise<unknown>[] = [];
    const expected: (string | number)[] = [];
    for (let i = 0; i < 1000; i++) {
      const l = links[i % links.length];
      calls.push(i % 2 ? h.link.get(l.name) : h.link.get(l.index));
      expected.push(l.name);
      if (i % 100 === 0) {
        calls.push(h.link.list());
        expected.push(links.length);
      }
    }
    const results = await Promise.all(calls);
    expect(results.map((r) => (Array.isArray(r) ? r.length : (r as nl.Link).name))).toEqual(expected);
  });

  it('gets every reply for 100k requests sent as fast as the engine allows', async () => {
    const lo = await h.link.get('lo');
    const w = new Writer();
    rtLinkSchemas.struct('ifinfomsg').encode(w, { ifiIndex: lo.index });
    const payload = w.take();
    const n = 100_000;
    const calls: Promise<unknown>[] = [];
    // RTM_NEWLINK on an existing link with no change: one ACK each.
    for (let i = 0; i < n; i++) calls.push(h.request({ type: 'RTM_NEWLINK', payload }));
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(n);
  }, 120_000);

  it('rejects every call on a closed handle, and nothing crashes', async () => {
    const h2 = await nl.open({ netns: ns.name });
    const pending = h2.link.list();
    await h2.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_RTNL_CLOSED' });
    await expect(h2.link.get('lo')).rejects.toMatchObject({ code: 'ERR_RTNL_CLOSED' });
    await expect(h2.link.list()).rejects.toMatchObject({ code: 'ERR_RTNL_CLOSED' });
    await expect(h2.request({ type: 'RTM_GETLINK', flags: ['dump'] })).rejects.toMatchObject({
      code: 'ERR_RTNL_CLOSED',
    });
    await h2.close(); // idempotent
  });

  it('aborts a queued request with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(h.link.get('lo', { signal: ac.signal })).rejects.toMatchObject({
      name: 'AbortError',
      code: 'ABORT_ERR',
    });
    const ac2 = new AbortController();
    const p = h.link.list({}, { signal: ac2.signal });
    ac2.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect((await h.link.get('lo')).name).toBe('lo'); // the socket stays usable
  });
});

describeRoot('the default handle', () => {
  it('lists the host links without keeping the process alive', async () => {
    const ours = await nl.link.list();
    const theirs = ipJson(['link', 'show']) as { ifname: string }[];
    expect(ours.map((l) => l.name).sort()).toEqual(theirs.map((t) => t.ifname).sort());
    await nl.close();
    expect((await nl.link.get('lo')).index).toBe(1); // reopens lazily
    await nl.close();
  });

  it('probes the kernel in a namespace of its own, agreeing with iproute2', async () => {
    const result = await nl.probe();
    for (const kind of ['veth', 'bridge', 'vxlan', 'macvlan', 'dummy', 'vlan', 'bond']) {
      expect(result.linkKinds[kind]).toBe(probe.linkKinds[kind]);
    }
    for (const q of ['htb', 'tbf', 'netem', 'fq_codel', 'clsact']) expect(result.qdiscs[q]).toBe(probe.qdiscs[q]);
    expect(result.nftables).toBe(probe.nftables);
  });
});

describeRoot('link management: altnames, port options, address generation, other namespaces by id', () => {
  const ns = useNetns();
  let h: nl.Handle;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'bridge', name: 'br0' });
    await h.link.add({ kind: 'veth', name: 'pa', peer: { name: 'pb' }, master: 'br0' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('alternative names: added, listed, used for lookup, deleted, as ip sees them', async () => {
    const long = 'a-rather-long-alternative-name-for-pa';
    await h.link.altNames.add('pa', [long, 'pa-alt']);
    expect(await h.link.altNames.list('pa')).toEqual([long, 'pa-alt']);
    const [l] = ipJson(['link', 'show', 'dev', 'pa'], ns.name);
    expect(l.altnames).toEqual([long, 'pa-alt']);
    expect((await h.link.get(long)).name).toBe('pa');
    await expect(h.link.altNames.add('pb', long)).rejects.toMatchObject({ code: 'EEXIST' });
    await h.link.altNames.del(long, 'pa-alt');
    expect((await h.link.get('pa')).altNames).toEqual([long]);
    ip(['link', 'property', 'del', 'dev', 'pa', 'altname', long], ns.name);
    expect(await h.link.altNames.list('pa')).toEqual([]);
    await expect(h.link.altNames.add('pa', 'x'.repeat(128))).rejects.toBeInstanceOf(TypeError);
    await expect(h.link.altNames.add('pa', [])).rejects.toBeInstanceOf(TypeError);
  });

  it('bridge port options: set by link.set({ portInfo }), as ip -d shows them, and decoded back', async () => {
    // hairpin is IFLA_BRPORT_MODE: the kernel's name, 'mode'
    await h.link.set('pa', { portInfo: { learning: 0, cost: 10, priority: 5, mode: 1, isolated: 1 } });
    const [l] = ipJson(['-d', 'link', 'show', 'dev', 'pa'], ns.name);
    expect(l.linkinfo.info_slave_kind).toBe('bridge');
    expect(l.linkinfo.info_slave_data).toMatchObject({
      learning: false,
      cost: 10,
      priority: 5,
      hairpin: true,
      isolated: true,
    });
    const ours = await h.link.get('pa');
    expect(ours.portKind).toBe('bridge');
    expect(ours.portInfo).toMatchObject({ learning: 0, cost: 10, priority: 5, mode: 1, isolated: 1 });
    // set by ip, read by us
    ip(['link', 'set', 'dev', 'pa', 'type', 'bridge_slave', 'learning', 'on', 'cost', '20'], ns.name);
    expect((await h.link.get('pa')).portInfo).toMatchObject({ learning: 1, cost: 20 });
    await expect(h.link.set('br0', { portInfo: { cost: 1 } })).rejects.toBeInstanceOf(TypeError);
  });

  it('address generation mode, both ways', async () => {
    await h.link.set('pb', { addrGenMode: 'none' });
    expect(
      (ipJson(['-d', 'link', 'show', 'dev', 'pb'], ns.name)[0] as { inet6_addr_gen_mode: string }).inet6_addr_gen_mode,
    ).toBe('none');
    expect((await h.link.get('pb')).addrGenMode).toBe('none');
    ip(['link', 'set', 'dev', 'pb', 'addrgenmode', 'random'], ns.name);
    expect((await h.link.get('pb')).addrGenMode).toBe('random');
    await expect(h.link.set('pb', { addrGenMode: 'bogus' as 'none' })).rejects.toBeInstanceOf(TypeError);
  });

  it('reads another namespace through its nsid (IFLA_TARGET_NETNSID), the same links as a handle there', async () => {
    const other = `${ns.name}-other`;
    ip(['netns', 'add', other]);
    try {
      ip(['link', 'add', 'seen0', 'type', 'bridge'], other);
      await h.nsid.set(other, 31);
      const viaId = await h.link.list({ nsid: 31 });
      await using there = await nl.open({ netns: other });
      const direct = await there.link.list();
      expect(viaId.map((l) => [l.index, l.name])).toEqual(direct.map((l) => [l.index, l.name]));
      expect((await h.link.get('seen0', { nsid: 31 })).kind).toBe('bridge');
      await expect(h.link.get('seen0')).rejects.toMatchObject({ code: 'ENODEV' });
      await expect(h.link.list({ nsid: 99 })).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(h.link.list({ nsid: -1 })).rejects.toBeInstanceOf(TypeError);
    } finally {
      ip(['netns', 'del', other]);
    }
  });
});
