/**
 * The nexthop codec on exact bytes, both ways, and input validation.
 *
 * Requests are compared with what iproute2 6.1 sends for the same command
 * (captured with `strace -xx ip nexthop ...`, interface index 3), and
 * replies are bytes a 6.18 kernel sent, so neither side is checked against
 * the code under test.
 */
import {
  NexthopApi,
  buildNexthopDump,
  buildNexthopIdMessage,
  buildNexthopMessage,
  checkNexthopSpec,
  decodeNexthop,
  decodeNexthopBucket,
  type NexthopSpec,
} from '../../lib/nexthop';
import { LinkApi } from '../../lib/link';
import {
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_ECHO,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  RTM_DELNEXTHOP,
  RTM_GETNEXTHOP,
  RTM_GETNEXTHOPBUCKET,
  RTM_NEWNEXTHOP,
  RTM_NEWNEXTHOPBUCKET,
} from '../../lib/netlink/constants';
import { NLMSG_HDRLEN, buildMessage } from '../../lib/netlink/message';
import { findDecoder } from '../../lib/registry';

/** A whole message around a payload given in hex, as the kernel would send it. */
const message = (type: number, hex: string) => buildMessage(type, 0, Buffer.from(hex, 'hex'));
const payload = (m: Buffer) => m.subarray(NLMSG_HDRLEN).toString('hex');
const decode = (hex: string) => {
  const m = message(RTM_NEWNEXTHOP, hex);
  return decodeNexthop(m, 0, m.length);
};

describe('decoding what the kernel sends', () => {
  it.each<[string, string, object]>([
    [
      'gateway and device',
      '02fd00000000000008000100010000000800050003000000080006000a010002',
      { id: 1, family: 4, scope: 'link', protocol: 'unspec', flags: [], gateway: '10.1.0.2', dev: 3 },
    ],
    [
      'onlink, protocol bgp',
      '02fdba000400000008000100020000000800050003000000080006000a010003',
      {
        id: 2,
        family: 4,
        scope: 'link',
        protocol: 'bgp',
        flags: ['onlink'],
        gateway: '10.1.0.3',
        dev: 3,
        onlink: true,
      },
    ],
    [
      'blackhole',
      '0200000000000000080001000300000004000400',
      { id: 3, family: 4, scope: 'global', protocol: 'unspec', flags: [], blackhole: true },
    ],
    [
      'device only',
      '02fe00000000000008000100040000000800050003000000',
      { id: 4, family: 4, scope: 'host', protocol: 'unspec', flags: [], dev: 3 },
    ],
    [
      'IPv6 gateway',
      '0afd000000000000080001000500000008000500030000001400060020010db8000000000000000000000002',
      { id: 5, family: 6, scope: 'link', protocol: 'unspec', flags: [], gateway: '2001:db8::2', dev: 3 },
    ],
    [
      'fdb',
      '02fd000000000000080001000600000004000b00080006000a010009',
      { id: 6, family: 4, scope: 'link', protocol: 'unspec', flags: [], gateway: '10.1.0.9', fdb: true },
    ],
    [
      'IPv6 blackhole',
      '0a00000000000000080001000700000004000400',
      { id: 7, family: 6, scope: 'global', protocol: 'unspec', flags: [], blackhole: true },
    ],
    [
      // NHA_OP_FLAGS (14, newer than these headers) rides along and is ignored.
      'multipath group, weight 256',
      '0000000000000000080001000a00000006000300000000000c00020001000000ff00000008000e0000000080',
      {
        id: 10,
        scope: 'global',
        protocol: 'unspec',
        flags: [],
        group: [{ id: 1, weight: 256 }],
        groupType: 'mpath',
      },
    ],
    [
      'resilient group',
      '0000000000000000080001000b0000000600030001000000140002000100000002000000040000000400000028000c80' +
        '0600010008000000080002001027000008000300204e00000c000400000000000000000008000e0000000080',
      {
        id: 11,
        scope: 'global',
        protocol: 'unspec',
        flags: [],
        group: [
          { id: 1, weight: 3 },
          { id: 4, weight: 5 },
        ],
        groupType: 'resilient',
        resilient: { buckets: 8, idleTimer: 100, unbalancedTimer: 200, unbalancedTime: 0 },
      },
    ],
    [
      'fdb group',
      '0000000000000000080001000c00000004000b0006000300000000000c000200060000000000000008000e0000000080',
      {
        id: 12,
        scope: 'global',
        protocol: 'unspec',
        flags: [],
        fdb: true,
        group: [{ id: 6, weight: 1 }],
        groupType: 'mpath',
      },
    ],
  ])('%s', (_what, hex, expected) => {
    const nh = decode(hex);
    expect(nh).toEqual(expected);
    expect(JSON.parse(JSON.stringify(nh))).toEqual(nh);
  });

  it('reads weights above 256 from weight_high (kernels since 6.12)', () => {
    // Member 5 with weight 1000: (1000 - 1) = 0x03e7, low byte e7, high byte 03.
    const nh = decode('0000000000000000080001000a0000000c00020005000000e7030000');
    expect(nh.group).toEqual([{ id: 5, weight: 1000 }]);
  });

  it('decodes a resilient bucket', () => {
    // As captured, but with the idle time (clock_t u64) changed from 0 to 10 ticks.
    const m = message(
      RTM_NEWNEXTHOPBUCKET,
      '0000000000000000080001000b00000020000d80060001000100000008000300010000000c0002000a00000000000000',
    );
    expect(decodeNexthopBucket(m, 0, m.length)).toEqual({ id: 11, index: 1, idleTime: 0.1, nhid: 1, flags: [] });
  });

  it('registers decoders for the monitor and the escape hatch', () => {
    expect(findDecoder(NETLINK_ROUTE, RTM_NEWNEXTHOP)).toMatchObject({ object: 'nexthop', event: 'new' });
    expect(findDecoder(NETLINK_ROUTE, RTM_DELNEXTHOP)).toMatchObject({ object: 'nexthop', event: 'del' });
    expect(findDecoder(NETLINK_ROUTE, RTM_NEWNEXTHOPBUCKET)).toMatchObject({ object: 'nexthop-bucket' });
  });
});

describe('encoding what iproute2 sends', () => {
  const NEW = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_CREATE | NLM_F_EXCL;
  it.each<[string, NexthopSpec, string]>([
    [
      'id 1 via 10.1.0.2 dev va',
      { id: 1, gateway: '10.1.0.2', dev: 3 },
      '02000000000000000800010001000000080006000a0100020800050003000000',
    ],
    [
      'id 2 via 10.1.0.3 dev va onlink proto bgp',
      { id: 2, gateway: '10.1.0.3', dev: 3, onlink: true, protocol: 'bgp' },
      '0200ba00040000000800010002000000080006000a0100030800050003000000',
    ],
    ['id 3 blackhole', { id: 3, blackhole: true }, '0200000000000000080001000300000004000400'],
    ['-6 id 7 blackhole', { id: 7, family: 6, blackhole: true }, '0a00000000000000080001000700000004000400'],
    ['id 4 dev va', { id: 4, dev: 3 }, '020000000000000008000100040000000800050003000000'],
    [
      'id 5 via 2001:db8::2 dev va',
      { id: 5, gateway: '2001:db8::2', dev: 3 },
      '0a0000000000000008000100050000001400060020010db80000000000000000000000020800050003000000',
    ],
    [
      'id 6 via 10.1.0.9 fdb',
      { id: 6, gateway: '10.1.0.9', fdb: true },
      '02000000000000000800010006000000080006000a01000904000b00',
    ],
    [
      'id 10 group 1/3,7',
      { id: 10, group: [1, { id: 3, weight: 7 }] },
      '0000000000000000080001000a0000001400020001000000000000000300000006000000',
    ],
    [
      'id 11 group 1,3 type resilient buckets 8 idle_timer 100 unbalanced_timer 200',
      { id: 11, group: [{ id: 1, weight: 3 }], resilient: { buckets: 8, idleTimer: 100, unbalancedTimer: 200 } },
      '0000000000000000080001000b0000000c00020001000000020000001c000c800600010008000000080002001027000008000300204e00000600030001000000',
    ],
    [
      'id 12 group 6 fdb',
      { id: 12, group: [6], fdb: true },
      '0000000000000000080001000c0000000c000200060000000000000004000b00',
    ],
  ])('ip nexthop add %s', (_what, spec, hex) => {
    const checked = checkNexthopSpec(spec);
    const m = buildNexthopMessage(NEW, checked, spec.dev as number | undefined);
    expect(m.readUInt16LE(4)).toBe(RTM_NEWNEXTHOP);
    expect(m.readUInt16LE(6)).toBe(NEW);
    expect(m.readUInt32LE(0)).toBe(m.length);
    expect(payload(m)).toBe(hex);
  });

  it('a weight of 256 fills the weight byte; the reserved bytes stay zero', () => {
    const m = buildNexthopMessage(NEW, checkNexthopSpec({ id: 10, group: [{ id: 1, weight: 256 }] }));
    expect(payload(m)).toBe('0000000000000000080001000a0000000c00020001000000ff000000');
  });

  it('omits the id when the kernel is to pick one', () => {
    const m = buildNexthopMessage(NEW, checkNexthopSpec({ blackhole: true }));
    expect(payload(m)).toBe('020000000000000004000400');
  });

  it('ip nexthop del / get by id', () => {
    const del = buildNexthopIdMessage(RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_ACK, 10);
    expect(payload(del)).toBe('0000000000000000080001000a000000');
    const get = buildNexthopIdMessage(RTM_GETNEXTHOP, NLM_F_REQUEST, 1);
    expect(payload(get)).toBe('00000000000000000800010001000000');
  });

  it.each<[string, number, Parameters<typeof buildNexthopDump>[1], string]>([
    ['nexthop show dev va', RTM_GETNEXTHOP, { dev: 3 }, '00000000000000000800050003000000'],
    ['nexthop show groups', RTM_GETNEXTHOP, { groups: true }, '000000000000000004000900'],
    ['nexthop show fdb', RTM_GETNEXTHOP, { fdb: true }, '000000000000000004000b00'],
    ['-6 nexthop show', RTM_GETNEXTHOP, { family: 6 }, '0a00000000000000'],
    ['nexthop show master br0', RTM_GETNEXTHOP, { master: 4 }, '000000000000000008000a0004000000'],
    ['nexthop bucket show id 11', RTM_GETNEXTHOPBUCKET, { id: 11 }, '0000000000000000080001000b000000'],
    ['nexthop bucket show nhid 2', RTM_GETNEXTHOPBUCKET, { nhid: 2 }, '00000000000000000c000d800800030002000000'],
  ])('ip %s', (_what, type, filter, hex) => {
    const m = buildNexthopDump(type, filter);
    expect(m.readUInt16LE(4)).toBe(type);
    expect(m.readUInt16LE(6)).toBe(NLM_F_REQUEST | NLM_F_DUMP);
    expect(payload(m)).toBe(hex);
  });

  it('replace sets NLM_F_REPLACE instead of NLM_F_EXCL', async () => {
    const sent: Buffer[] = [];
    const client = {
      send: (bytes: Buffer) => {
        sent.push(bytes);
        return Promise.reject(new Error('stop here'));
      },
    };
    const api = new NexthopApi(() => ({
      route: () => client as never,
      link: new LinkApi(() => ({ route: () => client as never })),
    }));
    await expect(api.replace({ id: 10, group: [1, 3] })).rejects.toThrow('stop here');
    expect(sent[0].readUInt16LE(6)).toBe(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_CREATE | NLM_F_REPLACE);
    expect(payload(sent[0])).toBe('0000000000000000080001000a0000001400020001000000000000000300000000000000');
  });
});

describe('input validation before any syscall', () => {
  const noSocket = () => {
    throw new Error('reached the socket');
  };
  const link = new LinkApi(() => ({ route: noSocket }));
  const nexthop = new NexthopApi(() => ({ route: noSocket, link }));
  const typeError = (code = 'ERR_INVALID_ARG_VALUE') => expect.objectContaining({ name: 'TypeError', code });
  const rangeError = expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });

  it.each<[string, unknown]>([
    ['a bad gateway', { id: 1, gateway: '10.0.0.300', dev: 1 }],
    ['a prefix as gateway', { id: 1, gateway: '10.0.0.1/24', dev: 1 }],
    ['an IPv6 gateway with family 4', { id: 1, family: 4, gateway: '2001:db8::1', dev: 1 }],
    ['an IPv4 gateway with family 6', { id: 1, family: 6, gateway: '10.0.0.1', dev: 1 }],
    ['family 5', { id: 1, family: 5, blackhole: true }],
    ['nothing to go to', { id: 1 }],
    ['blackhole with a gateway', { id: 1, blackhole: true, gateway: '10.0.0.1' }],
    ['blackhole with a device', { id: 1, blackhole: true, dev: 1 }],
    ['fdb with a device', { id: 1, fdb: true, gateway: '10.0.0.1', dev: 1 }],
    ['a group with a gateway', { id: 1, group: [2], gateway: '10.0.0.1' }],
    ['a group with a device', { id: 1, group: [2], dev: 1 }],
    ['a group with a family', { id: 1, group: [2], family: 4 }],
    ['an empty group', { id: 1, group: [] }],
    ['a member twice', { id: 1, group: [2, { id: 2, weight: 3 }] }],
    ['an unknown group type', { id: 1, group: [2], groupType: 'random' }],
    ['resilient options on an mpath group', { id: 1, group: [2], groupType: 'mpath', resilient: { buckets: 8 } }],
    ['resilient options without a group', { id: 1, blackhole: true, resilient: {} }],
    ['an unknown option', { id: 1, blackhole: true, via: '10.0.0.1' }],
    ['an unknown resilient option', { id: 1, group: [2], resilient: { bucket: 8 } }],
    ['an unknown protocol', { id: 1, blackhole: true, protocol: 'carrier-pigeon' }],
    // rt-names tables report numbers out of range as invalid values, like names.
    ['protocol 256', { id: 1, blackhole: true, protocol: 256 }],
  ])('add rejects %s with a TypeError', async (_what, spec) => {
    await expect(nexthop.add(spec as NexthopSpec)).rejects.toEqual(typeError());
  });

  it.each<[string, unknown]>([
    ['weight 0', { id: 1, group: [{ id: 2, weight: 0 }] }],
    ['weight 257', { id: 1, group: [{ id: 2, weight: 257 }] }],
    ['weight 1.5', { id: 1, group: [{ id: 2, weight: 1.5 }] }],
    ['id 0', { id: 0, blackhole: true }],
    ['id 2^32', { id: 2 ** 32, blackhole: true }],
    ['member id 0', { id: 1, group: [0] }],
    ['0 buckets', { id: 1, group: [2], resilient: { buckets: 0 } }],
    ['65536 buckets', { id: 1, group: [2], resilient: { buckets: 65536 } }],
    ['a negative idle timer', { id: 1, group: [2], resilient: { idleTimer: -1 } }],
    ['an idle timer past a u32 of ticks', { id: 1, group: [2], resilient: { idleTimer: 2 ** 32 } }],
  ])('add rejects %s with a RangeError', async (_what, spec) => {
    await expect(nexthop.add(spec as NexthopSpec)).rejects.toEqual(rangeError);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'id 1 blackhole'],
    ['a string gateway', { id: 1, gateway: 10, dev: 1 }],
    ['a string weight', { id: 1, group: [{ id: 2, weight: '3' }] }],
    ['a group that is not an array', { id: 1, group: 2 }],
    ['a non-boolean blackhole', { id: 1, blackhole: 1 }],
    ['a device object', { id: 1, dev: { index: 1 } }],
  ])('add rejects %s with ERR_INVALID_ARG_TYPE', async (_what, spec) => {
    await expect(nexthop.add(spec as NexthopSpec)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
  });

  it('replace needs an id', async () => {
    await expect(nexthop.replace({ blackhole: true })).rejects.toEqual(typeError());
  });

  it('del, get, list and buckets check their arguments', async () => {
    await expect(nexthop.del(0)).rejects.toEqual(rangeError);
    await expect(nexthop.del('7' as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(nexthop.get(-1)).rejects.toEqual(rangeError);
    await expect(nexthop.list({ family: 5 } as never)).rejects.toEqual(typeError());
    await expect(nexthop.list({ group: true } as never)).rejects.toEqual(typeError());
    await expect(nexthop.list({ groups: 'yes' } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(nexthop.list({ id: 1.5 })).rejects.toEqual(rangeError);
    await expect(nexthop.buckets({ nhid: 0 })).rejects.toEqual(rangeError);
    await expect(nexthop.list(null as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
  });
});
