/**
 * Neighbours and FDB entries without a kernel: decoding bytes this kernel sent
 * (test/fixtures/neighbours.json) against what `ip -j neigh` / `bridge -j fdb` printed for them,
 * building the bytes iproute2 sends (test/fixtures/requests.json, recorded with strace), hand-made
 * messages for what this kernel cannot make (VLAN FDB entries need bridge vlan filtering), and bad
 * input refused before any socket is touched. Regenerate with `node scripts/capture-rule-neigh-fixtures.js`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinkApi } from '../../lib/link';
import {
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  RTM_DELNEIGH,
  RTM_NEWNEIGH,
} from '../../lib/netlink/constants';
import { buildNeighbourMessage, decodeNeighbour, NeighApi, type ResolvedNeighbourSpec } from '../../lib/neigh';
import { findDecoder } from '../../lib/registry';
import {
  fdbComparable,
  fdbFromBridge,
  fdbStateMatches,
  neighbourComparable,
  neighbourFromIp,
  requestShape,
  type IpNeigh,
} from '../harness/rule-neigh-oracle';

interface NeighFixture {
  kind: 'neigh' | 'proxy' | 'fdb';
  hex: string;
  ip: IpNeigh | null;
}
const fixtures = path.join(__dirname, '..', 'fixtures');
const captured = JSON.parse(fs.readFileSync(path.join(fixtures, 'neighbours.json'), 'utf8')) as {
  links: Record<string, number>;
  messages: NeighFixture[];
};
const requests = JSON.parse(fs.readFileSync(path.join(fixtures, 'requests.json'), 'utf8')) as {
  links: Record<string, number>;
  messages: { command: string; hex: string }[];
};
const indexOf = (name: string) => captured.links[name];
const decodeHex = (hex: string) => {
  const buf = Buffer.from(hex, 'hex');
  return decodeNeighbour(buf, 0, buf.length);
};

describe('neighbour decoding: kernel bytes against ip -j neigh and bridge -j fdb', () => {
  const of = (kind: string) => captured.messages.filter((m) => m.kind === kind);

  it('every captured message has its iproute2 counterpart', () => {
    expect(captured.messages.filter((m) => m.ip === null)).toEqual([]);
    expect(of('neigh').length).toBeGreaterThanOrEqual(8);
    expect(of('proxy')).toHaveLength(2);
    expect(of('fdb').length).toBeGreaterThanOrEqual(15);
  });

  it.each(of('neigh').map((m) => [m.ip!.dst as string, m] as const))('ARP/NDP %s', (_dst, m) => {
    const n = decodeHex(m.hex);
    const family = (m.ip!.dst as string).includes(':') ? 6 : 4;
    expect(neighbourComparable(n)).toEqual(neighbourFromIp(m.ip!, family, indexOf));
  });

  it.each(of('proxy').map((m) => [m.ip!.dst as string, m] as const))('proxy %s', (_dst, m) => {
    const n = decodeHex(m.hex);
    const family = (m.ip!.dst as string).includes(':') ? 6 : 4;
    expect(neighbourComparable(n)).toEqual(neighbourFromIp(m.ip!, family, indexOf));
    expect(n.flags).toEqual(['proxy']);
    expect(n.state).toEqual([]);
  });

  it.each(of('fdb').map((m) => [`${m.ip!.ifname as string} ${m.ip!.mac as string} ${m.ip!.dst ?? ''}`, m] as const))(
    'FDB %s',
    (_what, m) => {
      const n = decodeHex(m.hex);
      expect(fdbComparable(n)).toEqual(fdbFromBridge(m.ip!, indexOf));
      expect({ word: m.ip!.state, state: n.state, ok: fdbStateMatches(m.ip!.state as string, n.state) }).toEqual({
        word: m.ip!.state,
        state: n.state,
        ok: true,
      });
    },
  );

  it('is registered for RTM_NEWNEIGH and RTM_DELNEIGH (monitor, escape hatch)', () => {
    expect(findDecoder(NETLINK_ROUTE, RTM_NEWNEIGH)).toMatchObject({ object: 'neigh', event: 'new' });
    expect(findDecoder(NETLINK_ROUTE, RTM_DELNEIGH)).toMatchObject({ object: 'neigh', event: 'del' });
  });

  it('decodes a VLAN FDB entry with offload and locked flags (no vlan filtering on this kernel)', () => {
    // As br_fdb_fill_info writes it: ndmsg, then NDA_LLADDR, NDA_VLAN, NDA_MASTER, NDA_FLAGS_EXT.
    const hex = [
      '40000000 1c00 0200 00000000 00000000', // nlmsghdr: 64 bytes, RTM_NEWNEIGH, NLM_F_MULTI
      '07 000000 02000000 0200 30 00', // AF_BRIDGE, ifindex 2, NUD_REACHABLE, NTF_EXT_LEARNED|NTF_OFFLOADED
      '0a00 0200 0200000000aa 0000', // NDA_LLADDR 02:00:00:00:00:aa
      '0600 0500 0a00 0000', // NDA_VLAN 10
      '0800 0900 04000000', // NDA_MASTER 4
      '0800 0f00 02000000', // NDA_FLAGS_EXT NTF_EXT_LOCKED
    ]
      .join('')
      .replace(/ /g, '');
    expect(decodeHex(hex)).toEqual({
      index: 2,
      family: 'bridge',
      state: ['REACHABLE'],
      flags: ['extern_learn', 'offload', 'locked'],
      mac: '02:00:00:00:00:aa',
      vlan: 10,
      master: 4,
    });
  });

  it('decodes a nexthop-group FDB entry and unknown state bits', () => {
    const hex = [
      '2c000000 1c00 0200 00000000 00000000',
      '07 000000 05000000 0101 02 00', // NUD_INCOMPLETE | 0x100 (no name), NTF_SELF
      '0a00 0200 020000000001 0000', // NDA_LLADDR
      '0800 0d00 0b000000', // NDA_NH_ID 11
    ]
      .join('')
      .replace(/ /g, '');
    expect(decodeHex(hex)).toEqual({
      index: 5,
      family: 'bridge',
      state: ['INCOMPLETE', '0x100'],
      flags: ['self'],
      mac: '02:00:00:00:00:01',
      nhId: 11,
    });
  });
});

describe('neighbour requests: the bytes iproute2 sends', () => {
  const NEW = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
  const links = requests.links;
  const specs: [string, number, number, ResolvedNeighbourSpec][] = [
    [
      'ip neigh add 10.9.0.20 lladdr 02:00:00:00:00:20 dev va',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.va, address: '10.9.0.20', mac: '02:00:00:00:00:20' },
    ],
    [
      'ip neigh replace 2001:db8::20 lladdr 02:00:00:00:00:21 dev va nud stale router',
      RTM_NEWNEIGH,
      NEW | NLM_F_REPLACE,
      { dev: links.va, address: '2001:db8::20', mac: '02:00:00:00:00:21', state: 'stale', flags: ['router'] },
    ],
    [
      'ip neigh add proxy 10.9.0.78 dev va',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.va, address: '10.9.0.78', flags: ['proxy'] },
    ],
    [
      'ip neigh add 10.9.0.21 dev va managed',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.va, address: '10.9.0.21', flags: ['managed'] },
    ],
    [
      'ip neigh add 10.9.0.22 lladdr 02:00:00:00:00:22 dev va nud noarp extern_learn protocol zebra',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      {
        dev: links.va,
        address: '10.9.0.22',
        mac: '02:00:00:00:00:22',
        state: ['NOARP'],
        flags: ['extern_learn'],
        protocol: 'zebra',
      },
    ],
    ['ip neigh del 10.9.0.20 dev va', RTM_DELNEIGH, 0, { dev: links.va, address: '10.9.0.20' }],
    ['ip neigh del proxy 10.9.0.78 dev va', RTM_DELNEIGH, 0, { dev: links.va, address: '10.9.0.78', flags: ['proxy'] }],
    [
      'bridge fdb add 02:00:00:00:02:01 dev vb master',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.vb, mac: '02:00:00:00:02:01', flags: ['master'] },
    ],
    [
      'bridge fdb add 02:00:00:00:02:02 dev vb master static sticky',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.vb, mac: '02:00:00:00:02:02', flags: ['master', 'sticky'], state: ['NOARP', 'REACHABLE'] },
    ],
    [
      'bridge fdb add 02:00:00:00:02:03 dev vb master dynamic vlan 5',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.vb, mac: '02:00:00:00:02:03', master: true, state: 'dynamic', vlan: 5 },
    ],
    [
      'bridge fdb add 00:00:00:00:00:00 dev vx0 dst 10.9.0.30 self permanent',
      RTM_NEWNEIGH,
      NEW | NLM_F_EXCL,
      { dev: links.vx0, mac: '00:00:00:00:00:00', dst: '10.9.0.30' },
    ],
    [
      'bridge fdb append 00:00:00:00:00:00 dev vx0 dst 10.9.0.31',
      RTM_NEWNEIGH,
      NEW | NLM_F_APPEND,
      { dev: links.vx0, mac: '00:00:00:00:00:00', dst: '10.9.0.31', family: 'bridge' },
    ],
    [
      'bridge fdb replace 02:00:00:00:02:04 dev vx0 dst 10.9.0.32 port 5000 vni 100 via va self permanent',
      RTM_NEWNEIGH,
      NEW | NLM_F_REPLACE,
      {
        dev: links.vx0,
        mac: '02:00:00:00:02:04',
        dst: '10.9.0.32',
        port: 5000,
        vni: 100,
        via: links.va,
        flags: ['self'],
        state: ['PERMANENT', 'NOARP'],
      },
    ],
    [
      'bridge fdb del 02:00:00:00:02:01 dev vb master',
      RTM_DELNEIGH,
      0,
      { dev: links.vb, mac: '02:00:00:00:02:01', flags: ['master'] },
    ],
    [
      'bridge fdb del 00:00:00:00:00:00 dev vx0 dst 10.9.0.31 self',
      RTM_DELNEIGH,
      0,
      { dev: links.vx0, mac: '00:00:00:00:00:00', dst: '10.9.0.31' },
    ],
  ];

  it.each(specs)('%s', (command, type, flags, spec) => {
    const theirs = requests.messages.find((m) => m.command === command);
    expect(theirs).toBeDefined();
    const ours = buildNeighbourMessage(type, NLM_F_REQUEST | NLM_F_ACK | flags, spec);
    // iproute2 sends a state on deletion too (ip: PERMANENT, bridge: NOARP|PERMANENT); the kernel
    // ignores it there, and the library sends none.
    const ignore = type === RTM_DELNEIGH ? { headerBytes: [8, 9] } : {};
    expect(requestShape(ours, 12, ignore)).toEqual(requestShape(Buffer.from(theirs!.hex, 'hex'), 12, ignore));
  });

  it('a decoded entry builds a deletion that names it (flush, del(list()[i]))', () => {
    for (const m of captured.messages) {
      const n = decodeHex(m.hex);
      const message = buildNeighbourMessage(RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, {
        ...n,
        dev: n.index,
        master: n.master !== undefined,
      });
      const back = decodeNeighbour(message, 0, message.length);
      expect(back.index).toBe(n.index);
      expect(back.family).toBe(n.family);
      expect(back.address).toBe(n.address);
      expect(back.dst).toBe(n.dst);
      expect(back.mac).toBe(n.family === 'bridge' ? n.mac : back.mac);
      expect(back.vlan).toBe(n.vlan);
      expect(back.via).toBe(n.via);
      if (n.family === 'bridge') {
        expect(back.flags).toEqual([n.flags.includes('self') || n.master === undefined ? 'self' : 'master']);
      } else {
        expect(back.flags).toEqual(n.flags.includes('proxy') ? ['proxy'] : []);
      }
    }
  });
});

describe('neighbour input validation before any syscall', () => {
  const noSocket = () => {
    throw new Error('reached the socket');
  };
  const link = new LinkApi(() => ({ route: noSocket }));
  const api = new NeighApi(() => ({ route: noSocket, link }));
  const typeError = (code = 'ERR_INVALID_ARG_VALUE') => expect.objectContaining({ name: 'TypeError', code });
  const rangeError = () => expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });

  it.each([
    ['a bad address', { dev: 'eth0', address: '10.0.0.256' }],
    ['an address with a prefix', { dev: 'eth0', address: '10.0.0.1/24' }],
    ['mixed families', { dev: 'eth0', family: 6, address: '10.0.0.1' }],
    ['an address on a bridge entry', { dev: 'eth0', family: 'bridge', address: '10.0.0.1', mac: '02:00:00:00:00:01' }],
    ['no address and no mac', { dev: 'eth0' }],
    ['a bridge entry without a mac', { dev: 'eth0', family: 'bridge' }],
    ['a bad mac', { dev: 'eth0', address: '10.0.0.1', mac: '02:00:00:00:00:zz' }],
    ['an unknown state', { dev: 'eth0', address: '10.0.0.1', state: 'sleepy' }],
    ['a bridge-only state on ARP', { dev: 'eth0', address: '10.0.0.1', state: 'static' }],
    ['an unknown flag', { dev: 'eth0', address: '10.0.0.1', flags: ['shiny'] }],
    ['proxy on the FDB', { dev: 'eth0', mac: '02:00:00:00:00:01', flags: ['proxy'] }],
    ['a vlan on an ARP entry', { dev: 'eth0', address: '10.0.0.1', vlan: 5 }],
    ['a bad vxlan remote', { dev: 'vx0', mac: '02:00:00:00:00:01', dst: 'example.com' }],
    ['family 5', { dev: 'eth0', family: 5, address: '10.0.0.1' }],
    ['a bad interface name', { dev: 'a/b', address: '10.0.0.1' }],
  ])('add rejects %s with a TypeError', async (_what, spec) => {
    await expect(api.add(spec as never)).rejects.toEqual(typeError());
  });

  it.each([
    ['vlan 0', { dev: 'eth0', mac: '02:00:00:00:00:01', vlan: 0 }],
    ['vlan 4095', { dev: 'eth0', mac: '02:00:00:00:00:01', vlan: 4095 }],
    ['a port above 65535', { dev: 'vx0', mac: '02:00:00:00:00:01', dst: '10.0.0.1', port: 65536 }],
    ['a vni above 24 bits', { dev: 'vx0', mac: '02:00:00:00:00:01', dst: '10.0.0.1', vni: 2 ** 24 }],
    ['an interface index of 0', { dev: 0, address: '10.0.0.1' }],
  ])('add rejects %s with a RangeError', async (_what, spec) => {
    await expect(api.add(spec as never)).rejects.toEqual(rangeError());
  });

  it('rejects wrong types with ERR_INVALID_ARG_TYPE', async () => {
    await expect(api.add(null as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.add({ address: '10.0.0.1' } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.add({ dev: 'eth0', address: 10 } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.add({ dev: 'eth0', address: '10.0.0.1', flags: 'router' } as never)).rejects.toEqual(
      typeError('ERR_INVALID_ARG_TYPE'),
    );
    await expect(api.del({ dev: 'eth0', address: '10.0.0.1', mac: 5 } as never)).rejects.toEqual(
      typeError('ERR_INVALID_ARG_TYPE'),
    );
    await expect(api.list({ proxy: 'yes' } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.list({ family: 'ipx' } as never)).rejects.toEqual(typeError());
    await expect(api.list({ state: ['SLEEPY'] })).rejects.toEqual(typeError());
    await expect(api.list({ family: 'bridge', proxy: true })).rejects.toEqual(typeError());
  });
});
