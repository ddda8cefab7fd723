/**
 * Every link kind this kernel has, both ways, with iproute2 as the oracle:
 * the same device made by `ip link add` and by link.add() must look the
 * same to `ip -j -d link show` (kind, options, master, mtu, mac), and the
 * library must decode both alike, with the expected option values.
 */
import * as nl from '../../lib';
import { describeIf, ip, ipJson, loadProbe, missing, useNetns } from '../harness/env';

const probe = loadProbe();
const root = probe.root && probe.ipNetns;

interface KindCase {
  title: string;
  kind: string;
  /** `ip link add NAME` + these (NAME is replaced). */
  ipArgs: string[];
  /** link.add() spec without name. */
  spec: Record<string, unknown>;
  /** What the library decodes into link.info (a subset). */
  info?: Record<string, unknown>;
}

const cases: KindCase[] = [
  {
    title: 'bridge with STP, forward delay, ageing, priority, multicast snooping off',
    kind: 'bridge',
    ipArgs: [
      'type',
      'bridge',
      'stp_state',
      '1',
      'forward_delay',
      '400',
      'ageing_time',
      '6000',
      'priority',
      '100',
      'mcast_snooping',
      '0',
    ],
    spec: { kind: 'bridge', stpState: 1, forwardDelay: 400, ageingTime: 6000, priority: 100, mcastSnooping: 0 },
    info: { stpState: 1, forwardDelay: 400, ageingTime: 6000, priority: 100, mcastSnooping: 0 },
  },
  {
    title: 'vxlan to a unicast remote over a device, with port, ttl, learning off, port range',
    kind: 'vxlan',
    ipArgs: [
      'type',
      'vxlan',
      'id',
      '42',
      'remote',
      '10.1.1.1',
      'local',
      '10.1.1.2',
      'dev',
      'lower0',
      'dstport',
      '4789',
      'ttl',
      '5',
      'nolearning',
      'srcport',
      '1000',
      '2000',
    ],
    spec: {
      kind: 'vxlan',
      vni: 42,
      remote: '10.1.1.1',
      local: '10.1.1.2',
      dev: 'lower0',
      port: 4789,
      ttl: 5,
      learning: 0,
      portRange: { low: 1000, high: 2000 },
    },
    info: {
      vni: 42,
      remote: '10.1.1.1',
      local: '10.1.1.2',
      port: 4789,
      ttl: 5,
      learning: 0,
      portRange: { low: 1000, high: 2000 },
    },
  },
  {
    title: 'vxlan in an IPv6 multicast group with GBP and ageing',
    kind: 'vxlan',
    ipArgs: [
      'type',
      'vxlan',
      'id',
      '7',
      'group',
      'ff05::9',
      'dev',
      'lower0',
      'dstport',
      '8472',
      'gbp',
      'ageing',
      '100',
    ],
    spec: { kind: 'vxlan', vni: 7, group: 'ff05::9', dev: 'lower0', port: 8472, gbp: true, ageing: 100 },
    info: { vni: 7, group: 'ff05::9', port: 8472, gbp: true, ageing: 100 },
  },
  {
    title: 'vxlan with external (collect metadata) and an IPv4 group',
    kind: 'vxlan',
    ipArgs: ['type', 'vxlan', 'id', '9', 'group', '239.1.1.1', 'dev', 'lower0', 'dstport', '4789', 'tos', '0x10'],
    spec: { kind: 'vxlan', vni: 9, group: '239.1.1.1', dev: 'lower0', port: 4789, tos: 16 },
    info: { vni: 9, group: '239.1.1.1', tos: 16 },
  },
  {
    title: 'macvlan in bridge mode',
    kind: 'macvlan',
    ipArgs: ['link', 'lower0', 'type', 'macvlan', 'mode', 'bridge'],
    spec: { kind: 'macvlan', link: 'lower0', mode: 'bridge' },
    info: { mode: 'bridge', flags: [] },
  },
  {
    title: 'macvlan in passthru mode with nopromisc',
    kind: 'macvlan',
    ipArgs: ['link', 'lower0', 'type', 'macvlan', 'mode', 'passthru', 'nopromisc'],
    spec: { kind: 'macvlan', link: 'lower0', mode: 'passthru', flags: ['nopromisc'] },
    info: { mode: 'passthru', flags: ['nopromisc'] },
  },
  {
    title: 'macvlan in private mode',
    kind: 'macvlan',
    ipArgs: ['link', 'lower0', 'type', 'macvlan', 'mode', 'private'],
    spec: { kind: 'macvlan', link: 'lower0', mode: 'private' },
    info: { mode: 'private', flags: [] },
  },
  {
    title: 'macvtap in vepa mode',
    kind: 'macvtap',
    ipArgs: ['link', 'lower0', 'type', 'macvtap', 'mode', 'vepa'],
    spec: { kind: 'macvtap', link: 'lower0', mode: 'vepa' },
    info: { mode: 'vepa' },
  },
  {
    title: 'macvlan in source mode with allowed sources',
    kind: 'macvlan',
    ipArgs: ['link', 'lower0', 'type', 'macvlan', 'mode', 'source', 'macaddr', 'add', '02:00:00:00:00:01'],
    spec: { kind: 'macvlan', link: 'lower0', mode: 'source', macaddrMode: 'add', macaddr: '02:00:00:00:00:01' },
    info: { mode: 'source', macaddrCount: 1, macaddrData: { macaddr: ['02:00:00:00:00:01'] } },
  },
  { title: 'ifb', kind: 'ifb', ipArgs: ['type', 'ifb'], spec: { kind: 'ifb' } },
  {
    title: 'veth with mtu, mac and a master',
    kind: 'veth',
    ipArgs: ['mtu', '1400', 'address', '02:11:22:33:44:55', 'master', 'br0', 'type', 'veth', 'peer', 'name', 'PEER'],
    spec: { kind: 'veth', mtu: 1400, mac: '02:11:22:33:44:55', master: 'br0', peer: { name: 'PEER' } },
  },
  { title: 'dummy', kind: 'dummy', ipArgs: ['type', 'dummy'], spec: { kind: 'dummy' } },
  {
    title: 'vlan 100 with protocol 802.1ad',
    kind: 'vlan',
    ipArgs: ['link', 'lower0', 'type', 'vlan', 'id', '100', 'protocol', '802.1ad'],
    spec: { kind: 'vlan', link: 'lower0', id: 100, protocol: '8021ad' },
    info: { id: 100, protocol: '8021ad' },
  },
  {
    title: 'ipvlan in l3 mode',
    kind: 'ipvlan',
    ipArgs: ['link', 'lower0', 'type', 'ipvlan', 'mode', 'l3'],
    spec: { kind: 'ipvlan', link: 'lower0', mode: 'l3' },
    info: { mode: 'l3' },
  },
  {
    title: 'vrf on table 10',
    kind: 'vrf',
    ipArgs: ['type', 'vrf', 'table', '10'],
    spec: { kind: 'vrf', table: 10 },
    info: { table: 10 },
  },
];

// Identities and running timers differ between two otherwise equal devices.
const VOLATILE = /(^|_)(id|timer)$/;

/** Decoded options without running timers and MAC-derived ids. */
function stable(info: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return info && Object.fromEntries(Object.entries(info).filter(([k]) => !/Timer$|^(bridgeId|rootId)$/.test(k)));
}

/** What `ip -j -d link show` says of a device, without what differs between two equal devices. */
function ipView(name: string, ns: string, withMac: boolean): Record<string, unknown> {
  const [l] = ipJson(['-d', 'link', 'show', 'dev', name], ns) as Record<string, unknown>[];
  const linkinfo = (l.linkinfo ?? {}) as Record<string, unknown>;
  const data = linkinfo.info_data as Record<string, unknown> | undefined;
  return {
    kind: (linkinfo as { info_kind?: string }).info_kind,
    data: data && Object.fromEntries(Object.entries(data).filter(([k]) => !VOLATILE.test(k) || k === 'id')),
    master: l.master,
    mac: withMac ? l.address : undefined,
    link: l.link,
    mtu: l.mtu,
    flags: l.flags,
  };
}

for (const c of cases) {
  const present = probe.linkKinds[c.kind] === true;
  describeIf(root && present, root ? missing(probe, 'linkKinds', c.kind) : (probe.reason ?? 'needs root'))(
    `link kind ${c.title}`,
    () => {
      const ns = useNetns();
      let h: nl.Handle;
      beforeAll(async () => {
        h = await nl.open({ netns: ns.name });
        ip(['link', 'add', 'lower0', 'type', 'veth', 'peer', 'name', 'lower1'], ns.name);
        ip(['link', 'add', 'br0', 'type', 'bridge'], ns.name);
      });
      afterAll(async () => {
        await h?.close();
      });

      // One at a time under the same name: some kinds refuse a twin (a vxlan's VNI and port).
      it('link.add makes what ip link add makes, and both decode alike', async () => {
        ip(['link', 'add', 'dev0', ...c.ipArgs.map((a) => (a === 'PEER' ? 'dev0-p' : a))], ns.name);
        const theirs = ipView('dev0', ns.name, c.spec.mac !== undefined);
        const theirsDecoded = await h.link.get('dev0');
        ip(['link', 'del', 'dev0'], ns.name);
        const spec = { ...c.spec, name: 'dev0' } as nl.LinkSpec;
        if (spec.peer) spec.peer = { ...spec.peer, name: 'dev0-p' };
        await h.link.add(spec);
        const ours = ipView('dev0', ns.name, c.spec.mac !== undefined);
        expect(ours).toEqual(theirs);
        expect(ours.kind).toBe(c.kind);
        const oursDecoded = await h.link.get('dev0');
        expect(oursDecoded.kind).toBe(c.kind);
        expect(stable(oursDecoded.info)).toEqual(stable(theirsDecoded.info));
        expect(oursDecoded.mtu).toBe(theirsDecoded.mtu);
        if (c.info) expect(oursDecoded.info).toMatchObject(c.info);
        if (c.spec.mac) expect(oursDecoded.mac).toBe(c.spec.mac);
        if (c.spec.master) expect(oursDecoded.master).toBe((await h.link.get('br0')).index);
        // and the listing agrees with the direct lookup
        const listed = await h.link.list({ kind: c.kind });
        const comparable = (l: nl.Link | undefined) => l && { ...l, info: stable(l.info), stats: undefined };
        expect(comparable(listed.find((l) => l.name === 'dev0'))).toEqual(comparable(oursDecoded));
        await h.link.del('dev0');
      });
    },
  );
}
