/**
 * decodeLink (fixed-shape) against decodeLinkGeneric (the schema walk it
 * replaced) on RTM_NEWLINK messages the live kernel sends for many kinds
 * and states: a dump and per-link replies from a namespace holding veths
 * (one up with an alias, an altname and no IPv6 link-local, one down, one
 * with its peer in another namespace), a bridge (with vlan filtering where
 * the kernel has it) with ports, and vxlan, macvlan, ifb, tun and tap where the kernel has them.
 * Same output, key order included, and the same DecodeErrors on mutations.
 */
import * as nl from '../../lib';
import { dump, request } from '../../lib/engine/requests';
import { buildGetLink, buildLinkMessage, decodeLink, decodeLinkGeneric, type Link } from '../../lib/link';
import { NLM_F_DUMP, NLM_F_REQUEST, RTM_GETLINK } from '../../lib/netlink/constants';
import { describeIf, ip, ipJson, loadProbe, useNetns } from '../harness/env';
import { disagreement, mutate, prng } from '../harness/link-decode';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

const copy = (buf: Buffer, off: number, len: number) => Buffer.from(buf.subarray(off, off + len));

describeRoot('decodeLink = decodeLinkGeneric on live links', () => {
  const ns = useNetns();
  const peerNs = useNetns();
  let h: nl.Handle;
  let messages: Buffer[] = [];
  const made: string[] = ['va', 'vb', 'vc', 'br0', 'vx'];

  beforeAll(async () => {
    const run = (args: string[]) => ip(args, ns.name);
    run(['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    run(['link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'vd']);
    run([
      'link',
      'add',
      'br0',
      'type',
      'bridge',
      ...(probe.features.bridgeVlanFiltering ? ['vlan_filtering', '1'] : []),
    ]);
    run(['link', 'set', 'vb', 'master', 'br0']);
    run(['link', 'set', 'vc', 'master', 'br0']);
    run(['link', 'set', 'va', 'alias', 'the uplink']);
    run(['link', 'property', 'add', 'dev', 'va', 'altname', 'uplink-with-a-long-altname']);
    run(['link', 'set', 'dev', 'va', 'addrgenmode', 'none']);
    run(['link', 'set', 'va', 'up']);
    run(['link', 'set', 'br0', 'up']);
    run(['link', 'set', 'vb', 'up']); // vd stays down: vc is up without carrier
    run(['link', 'set', 'vc', 'up']);
    run(['link', 'add', 'vx', 'type', 'veth', 'peer', 'name', 'vy', 'netns', peerNs.name]);
    if (probe.linkKinds.vxlan) {
      run(['link', 'add', 'vxl0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '192.0.2.1']);
      made.push('vxl0');
    }
    if (probe.linkKinds.macvlan) {
      run(['link', 'add', 'link', 'va', 'name', 'mv0', 'type', 'macvlan', 'mode', 'bridge']);
      made.push('mv0');
    }
    if (probe.linkKinds.ifb) {
      run(['link', 'add', 'ifb0', 'type', 'ifb']);
      made.push('ifb0');
    }
    if (probe.linkKinds.tun) {
      run(['tuntap', 'add', 'mode', 'tun', 'name', 'tun0']);
      run(['tuntap', 'add', 'mode', 'tap', 'name', 'tap0']);
      made.push('tun0', 'tap0');
    }
    h = await nl.open({ netns: ns.name });
    const client = h.context.route();
    messages = await dump(client, buildLinkMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, {}, {}), copy);
    for (const name of made) messages.push(...(await request(client, buildGetLink(name), copy)));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('dumps every link ip -j shows, in the states and kinds the test made', () => {
    const generic = messages.map((m) => decodeLinkGeneric(m, 0, m.length));
    const names = ipJson<{ ifname: string }[]>(['link', 'show'], ns.name).map((l) => l.ifname);
    expect([...new Set(generic.map((l) => l.name))].sort()).toEqual(names.sort());
    const some = (what: string, test: (l: Link) => boolean) => expect([what, generic.some(test)]).toEqual([what, true]);
    some('a port with port options', (l) => l.portKind === 'bridge' && l.portInfo !== undefined);
    some('kind options', (l) => l.kind === 'bridge' && l.info !== undefined);
    some('an alias and altnames', (l) => l.alias === 'the uplink' && l.altNames?.length === 1);
    some('a peer in another namespace', (l) => l.name === 'vx' && l.netnsId !== undefined);
    some('an addrgenmode', (l) => l.addrGenMode === 'none');
    some('a down link', (l) => !l.up);
    some('up without carrier', (l) => l.flags.includes('NO-CARRIER'));
    some('counters', (l) => l.stats !== undefined);
    some('a parent', (l) => l.parentIndex !== undefined);
    if (probe.linkKinds.vxlan) some('vxlan options', (l) => l.kind === 'vxlan' && l.info !== undefined);
    if (probe.linkKinds.macvlan) some('macvlan options', (l) => l.kind === 'macvlan' && l.info !== undefined);
    if (probe.linkKinds.tun) some('a tap', (l) => l.name === 'tap0' && l.kind === 'tun');
  });

  it('decodes each message to the same Link, key order included', () => {
    expect(messages.length).toBeGreaterThanOrEqual(made.length * 2);
    for (const m of messages) {
      expect(disagreement(m)).toBeUndefined();
      expect(JSON.stringify(decodeLink(m, 0, m.length))).toBe(JSON.stringify(decodeLinkGeneric(m, 0, m.length)));
    }
  });

  it('agrees on mutated live messages: the same Link or the same DecodeError (6000 cases)', () => {
    const rand = prng(0x7e57);
    const failures: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const { bytes, len, mutation } = mutate(messages[Math.floor(rand() * messages.length)], rand, i);
      const why = disagreement(bytes, 0, len);
      if (why !== undefined) failures.push(`case ${i} (mutation ${mutation}): ${why}\n  ${bytes.toString('hex')}`);
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('link.list() returns what the generic decoder makes of the same dump', async () => {
    const listed = await h.link.list();
    const byIndex = new Map(messages.map((m) => decodeLinkGeneric(m, 0, m.length)).map((l) => [l.index, l]));
    expect(listed.length).toBe(byIndex.size);
    for (const l of listed) {
      const ref = byIndex.get(l.index)!;
      expect(Object.keys(l)).toEqual(Object.keys(ref));
      // Counters and a bridge's or port's timers move between the two dumps; the rest must not.
      const still = (x: Link) =>
        JSON.stringify({
          ...x,
          stats: undefined,
          info: Object.keys(x.info ?? {}),
          portInfo: Object.keys(x.portInfo ?? {}),
        });
      expect(still(l)).toBe(still(ref));
    }
  });
});
