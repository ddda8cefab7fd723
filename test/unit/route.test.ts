/**
 * Routes without a kernel: decoding bytes the kernel sent (test/fixtures/
 * routes.json, captured beside `ip -j -d route show`), building requests
 * byte for byte (MPLS, which this kernel lacks, included), and bad input
 * refused before any syscall.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinkApi } from '../../lib/link';
import { forEachMessage } from '../../lib/netlink/message';
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_DELROUTE,
  RTM_NEWROUTE,
} from '../../lib/netlink/constants';
import {
  buildRouteGetMessage,
  buildRouteMessage,
  decodeRoute,
  RouteApi,
  type Route,
  type RouteSpec,
} from '../../lib/route';
import { comparable, routeFromIp } from '../harness/ip-route';

interface Fixture {
  links: Record<string, number>;
  messages: { ip: Record<string, unknown>; hex: string }[];
}
const fixture: Fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'routes.json'), 'utf8'));
const indexOf = (name: string) => fixture.links[name];

const hex = (...parts: string[]) => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
const ADD = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
const byIndex = (ref: string | number) => {
  if (typeof ref !== 'number') throw new Error(`unexpected name ${ref}`);
  return ref;
};

function decodeOne(message: Buffer): Route | undefined {
  return decodeRoute(message, 0, message.length);
}

/** A request decoded as if the kernel had sent it back (same rtmsg + attributes). */
function roundTrip(spec: RouteSpec): Route {
  return decodeOne(buildRouteMessage(RTM_NEWROUTE, ADD, spec, byIndex))!;
}

describe('route fixtures from the live kernel', () => {
  it('has every kind it was captured with', () => {
    const types = new Set(fixture.messages.map((m) => m.ip.type));
    for (const t of ['unicast', 'local', 'broadcast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw']) {
      expect(types).toContain(t);
    }
    expect(fixture.messages.some((m) => m.ip.nexthops)).toBe(true);
    expect(fixture.messages.some((m) => m.ip.encap === 'seg6' && m.ip.hmac)).toBe(true);
  });

  it.each(fixture.messages.map((m) => [`${m.ip.type} ${m.ip.dst} (${m.ip.table})`, m] as const))(
    'decodes %s as ip -j -d printed it',
    (_name, m) => {
      const bytes = Buffer.from(m.hex, 'hex');
      const route = decodeOne(bytes)!;
      expect(route).toBeDefined();
      expect(comparable(route)).toEqual(comparable(routeFromIp(m.ip, route.family, indexOf)));
    },
  );

  it('decodes what ip cannot show in JSON: locked metrics, full table ids', () => {
    const routes = fixture.messages.map((m) => decodeOne(Buffer.from(m.hex, 'hex'))!);
    expect(routes.find((r) => r.dst === '10.4.0.0/24')!.metrics).toEqual({
      lock: ['mtu'],
      mtu: 1400,
      advmss: 1300,
      rtt: 80,
      rttvar: 20,
    });
    expect(routes.find((r) => r.dst === '10.3.0.0/24')!.table).toBe(1000000);
    expect(routes.find((r) => r.dst === '10.66.0.0/16')!.table).toBe(300);
  });

  it('accepts a listed Route wherever a RouteSpec goes (type-level)', () => {
    const listed: Route = {
      family: 4,
      dst: '10.9.0.0/24',
      table: 254,
      type: 'unicast',
      protocol: 'boot',
      scope: 'global',
      flags: [],
    };
    const spec: RouteSpec = listed;
    expect(spec.dst).toBe('10.9.0.0/24');
  });

  it('rebuilds every user route into a request that decodes to the same route', () => {
    for (const m of fixture.messages) {
      const listed = decodeOne(Buffer.from(m.hex, 'hex'))!;
      if (listed.protocol === 'kernel') continue;
      // A route on a nexthop object lists the object's gateway and dev, but is added by id alone.
      const spec = { ...listed };
      if (spec.nhid !== undefined) {
        delete spec.gateway;
        delete spec.dev;
      }
      const rebuilt = roundTrip(spec);
      const { expires: _e, pref: _p, flags: _f, ...core } = spec;
      expect(rebuilt).toMatchObject(core);
    }
  });
});

describe('route requests byte for byte', () => {
  it('MPLS encapsulation: label stack with bottom-of-stack bit, ttl, RTA_ENCAP_TYPE after RTA_ENCAP', () => {
    const spec: RouteSpec = {
      dst: '10.9.0.0/24',
      gateway: '10.1.0.2',
      encap: { type: 'mpls', labels: [100, 200], ttl: 5 },
    };
    const expected = hex(
      '54000000 1800 0506 00000000 00000000', // nlmsghdr: 84 bytes, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE
      '02 18 00 00 fe 03 00 01 00000000', // rtmsg: inet /24, main, boot, universe, unicast
      '0800 0100 0a090000', // RTA_DST
      '0800 0f00 fe000000', // RTA_TABLE
      '0800 0500 0a010002', // RTA_GATEWAY
      '1800 1600', // RTA_ENCAP
      '0c00 0100 00064000 000c8100', //   MPLS_IPTUNNEL_DST: 100, 200|S
      '0500 0200 05000000', //   MPLS_IPTUNNEL_TTL
      '0600 1500 0100 0000', // RTA_ENCAP_TYPE: LWTUNNEL_ENCAP_MPLS
    );
    const built = buildRouteMessage(RTM_NEWROUTE, ADD, spec, byIndex);
    expect(built.toString('hex')).toBe(expected.toString('hex'));
    expect(decodeOne(expected)).toEqual({
      family: 4,
      dst: '10.9.0.0/24',
      table: 254,
      type: 'unicast',
      protocol: 'boot',
      scope: 'global',
      flags: [],
      gateway: '10.1.0.2',
      encap: { type: 'mpls', labels: [100, 200], ttl: 5 },
    });
  });

  it('multipath: weights, per-hop onlink, an IPv6 hop as RTA_VIA, a table beyond 8 bits', () => {
    const spec: RouteSpec = {
      dst: '10.5.0.0/24',
      table: 1000000,
      protocol: 'static',
      priority: 10,
      nexthops: [
        { gateway: '10.1.0.2', dev: 3, weight: 3 },
        { gateway: '2001:db8::2', dev: 3, onlink: true },
      ],
    };
    const expected = hex(
      '68000000 1800 0506 00000000 00000000',
      '02 18 00 00 fc 04 00 01 00000000', // rtm_table RT_TABLE_COMPAT: the id is in RTA_TABLE
      '0800 0100 0a050000',
      '0800 0f00 40420f00', // RTA_TABLE 1000000
      '0800 0600 0a000000', // RTA_PRIORITY 10
      '3400 0900', // RTA_MULTIPATH
      '1000 00 02 03000000 0800 0500 0a010002', //   weight 3 (hops 2), dev 3, RTA_GATEWAY
      '2000 04 00 03000000 1600 1200 0a00 20010db8000000000000000000000002 0000', //   onlink, RTA_VIA inet6
    );
    expect(buildRouteMessage(RTM_NEWROUTE, ADD, spec, byIndex).toString('hex')).toBe(expected.toString('hex'));
    expect(decodeOne(expected)).toMatchObject({
      table: 1000000,
      protocol: 'static',
      priority: 10,
      nexthops: [
        { gateway: '10.1.0.2', dev: 3, weight: 3, flags: [] },
        { gateway: '2001:db8::2', dev: 3, weight: 1, flags: ['onlink'] },
      ],
    });
  });

  it('seg6: segments stored last-first, the HMAC TLV, and the slot inline mode reserves', () => {
    const spec: RouteSpec = {
      dst: '2001:db8:9::/64',
      dev: 3,
      encap: { type: 'seg6', mode: 'encap', segments: ['2001:db8::5', '2001:db8::6'], hmac: 42 },
    };
    const built = buildRouteMessage(RTM_NEWROUTE, ADD, spec, byIndex);
    const encap = built.indexOf(hex('5c00 1600')); // RTA_ENCAP of 92 bytes
    expect(encap).toBeGreaterThan(0);
    expect(built.subarray(encap, encap + 100).toString('hex')).toBe(
      hex(
        '5c00 1600 5800 0100', // RTA_ENCAP, SEG6_IPTUNNEL_SRH (88)
        '01000000', // mode encap
        '00 09 04 01 01 08 0000', // nexthdr, hdrlen 9 (80 bytes), type 4, segments_left, last entry, HMAC flag, tag
        '20010db8000000000000000000000006', // segments[0]: the last one visited
        '20010db8000000000000000000000005',
        '05 26 0000 0000002a', // HMAC TLV: type 5, len 38, reserved, key id 42
        '00'.repeat(32),
        '0600 1500 0500 0000', // RTA_ENCAP_TYPE seg6
      ).toString('hex'),
    );
    expect(decodeOne(built)!.encap).toEqual(spec.encap);

    const inline = roundTrip({
      dst: '2001:db8:9::/64',
      dev: 3,
      encap: { type: 'seg6', mode: 'inline', segments: ['2001:db8::7'] },
    });
    expect(inline.encap).toEqual({ type: 'seg6', mode: 'inline', segments: ['2001:db8::7'] });
    const inlineBytes = buildRouteMessage(
      RTM_NEWROUTE,
      ADD,
      { dst: '2001:db8:9::/64', encap: { type: 'seg6', mode: 'inline', segments: ['2001:db8::7'] } },
      byIndex,
    );
    // Two entries: the reserved zero one first, then the segment; hdrlen 4 (40 bytes).
    expect(inlineBytes.toString('hex')).toContain(
      hex('00000000 00 04 04 01 01 00 0000', '00'.repeat(16), '20010db8000000000000000000000007').toString('hex'),
    );
  });

  it('del sends only what identifies the route: scope nowhere, protocol and type unset', () => {
    const built = buildRouteMessage(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, { dst: '10.9.0.0/24' }, byIndex);
    expect(built.subarray(16, 28).toString('hex')).toBe('02180000fe00ff0000000000');
    // A listed route's nexthop object is enough to find it; its gateway and dev are not sent.
    const byNhid = buildRouteMessage(
      RTM_DELROUTE,
      NLM_F_REQUEST | NLM_F_ACK,
      { dst: '10.7.0.0/24', nhid: 5, gateway: '10.1.0.2', dev: 3 },
      byIndex,
    );
    expect(byNhid.includes(hex('0800 1e00 05000000'))).toBe(true);
    expect(byNhid.includes(hex('0800 0500 0a010002'))).toBe(false);
  });

  it('local, broadcast and nat routes default to the local table and their scope, as ip does', () => {
    expect(roundTrip({ dst: '10.1.0.9', type: 'local', dev: 3 })).toMatchObject({ table: 255, scope: 'host' });
    expect(roundTrip({ dst: '10.1.0.255', type: 'broadcast', dev: 3 })).toMatchObject({ table: 255, scope: 'link' });
    expect(roundTrip({ dst: '10.6.0.0/24', type: 'nat', gateway: '10.1.0.3' })).toMatchObject({
      table: 255,
      scope: 'host',
      type: 'nat',
    });
    expect(roundTrip({ dst: '10.1.2.0/24', dev: 3 })).toMatchObject({ table: 254, scope: 'link' });
    expect(roundTrip({ dst: 'default', gateway: '2001:db8::1' })).toMatchObject({ family: 6, dst: 'default' });
    expect(roundTrip({ dst: 'default', family: 4, gateway: '2001:db8::1' })).toMatchObject({
      family: 4,
      gateway: '2001:db8::1',
    });
  });

  it('route.get asks like ip route get: full-length prefixes, LOOKUP_TABLE, FIB_MATCH on request', () => {
    const built = buildRouteGetMessage(
      '10.5.0.9',
      { src: '10.1.0.1', iif: 3, mark: 7, uid: 1000, fibmatch: true, ipProto: 6, dport: 443 },
      byIndex,
    );
    expect(built.toString('hex')).toBe(
      hex(
        '54000000 1a00 0100 00000000 00000000', // RTM_GETROUTE, REQUEST
        '02 20 20 00 00 00 00 00 00300000', // /32 from /32, LOOKUP_TABLE|FIB_MATCH
        '0800 0100 0a050009', // RTA_DST
        '0800 0200 0a010001', // RTA_SRC
        '0800 0300 03000000', // RTA_IIF
        '0800 1000 07000000', // RTA_MARK
        '0800 1900 e8030000', // RTA_UID
        '0500 1b00 06000000', // RTA_IP_PROTO
        '0600 1d40 01bb 0000', // RTA_DPORT, big-endian (NLA_F_NET_BYTEORDER)
      ).toString('hex'),
    );
  });

  it('decodes a nat route (which this kernel refuses to add) and skips non-IP families', () => {
    const nat = hex(
      '34000000 1800 0000 00000000 00000000',
      '02 18 00 00 ff 03 fe 0a 00000000', // local table, boot, host, nat
      '0800 0100 0a060000',
      '0800 0f00 ff000000',
      '0800 0500 0a010003',
    );
    expect(decodeOne(nat)).toEqual({
      family: 4,
      dst: '10.6.0.0/24',
      table: 255,
      type: 'nat',
      protocol: 'boot',
      scope: 'host',
      flags: [],
      gateway: '10.1.0.3',
    });
    const mpls = Buffer.from(nat);
    mpls[16] = 28; // AF_MPLS
    expect(decodeOne(mpls)).toBeUndefined();
    mpls[16] = 128; // RTNL_FAMILY_IPMR
    expect(decodeOne(mpls)).toBeUndefined();
  });

  it('keeps an unknown encapsulation raw, and sends it back unchanged', () => {
    const spec: RouteSpec = { dst: '10.9.0.0/24', dev: 3, encap: { type: 'ip', data: '08000200c0000201' } };
    const route = roundTrip(spec);
    expect(route.encap).toEqual({ type: 'ip', data: '08000200c0000201' });
  });

  it('walks a whole dump datagram', () => {
    const datagram = Buffer.concat(fixture.messages.map((m) => Buffer.from(m.hex, 'hex')));
    const routes: Route[] = [];
    forEachMessage(datagram, 0, datagram.length, (off, _t, _f, _s, len) =>
      routes.push(decodeRoute(datagram, off, len)!),
    );
    expect(routes).toHaveLength(fixture.messages.length);
  });
});

const noSocket = () => {
  throw new Error('reached the socket');
};
const link = new LinkApi(() => ({ route: noSocket }));
const route = new RouteApi(() => ({ route: noSocket, link }));
const typeError = (code = 'ERR_INVALID_ARG_VALUE') => expect.objectContaining({ name: 'TypeError', code });
const rangeError = () => expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });

describe('route input validation before any syscall', () => {
  // Names like 'eth0' would need a lookup: they prove the check comes before it.
  it.each([
    ['a bad address', { dst: '10.0.0.300/24' }],
    ['a word', { dst: 'somewhere' }],
    ['a bad gateway', { dst: '10.9.0.0/24', gateway: '10.1.0', dev: 'eth0' }],
    ['an IPv4 gateway on an IPv6 route', { dst: '2001:db8::/64', gateway: '10.0.0.1', dev: 'eth0' }],
    ['an IPv6 prefSrc on an IPv4 route', { dst: '10.9.0.0/24', prefSrc: '2001:db8::1', dev: 'eth0' }],
    ['an IPv6 src prefix on an IPv4 route', { dst: '10.9.0.0/24', src: '2001:db8::/64', dev: 'eth0' }],
    ['family 6 with an IPv4 dst', { dst: '10.9.0.0/24', family: 6 }],
    ['family 5', { dst: 'default', family: 5 }],
    ['an IPv4 hop on an IPv6 route', { dst: '2001:db8::/64', nexthops: [{ gateway: '10.0.0.1', dev: 'eth0' }] }],
    ['an unknown type', { dst: '10.9.0.0/24', type: 'wormhole' }],
    ['an unknown scope', { dst: '10.9.0.0/24', scope: 'galaxy', dev: 'eth0' }],
    ['an unknown protocol', { dst: '10.9.0.0/24', protocol: 'carrier-pigeon', dev: 'eth0' }],
    ['an unknown table name', { dst: '10.9.0.0/24', table: 'mine', dev: 'eth0' }],
    ['a table beyond 32 bits', { dst: '10.9.0.0/24', table: 2 ** 32, dev: 'eth0' }],
    ['an unknown flag', { dst: '10.9.0.0/24', flags: ['fast'], dev: 'eth0' }],
    ['an unknown metric', { dst: '10.9.0.0/24', metrics: { speed: 1 }, dev: 'eth0' }],
    ['a lock on an unknown metric', { dst: '10.9.0.0/24', metrics: { lock: ['speed'] }, dev: 'eth0' }],
    ['nhid with a gateway', { dst: '10.9.0.0/24', nhid: 5, gateway: '10.0.0.1' }],
    ['gateway beside nexthops', { dst: '10.9.0.0/24', gateway: '10.0.0.1', nexthops: [{ gateway: '10.0.0.2' }] }],
    ['an empty nexthops list', { dst: '10.9.0.0/24', nexthops: [] }],
    ['a hop with neither gateway nor dev', { dst: '10.9.0.0/24', nexthops: [{ weight: 2 }] }],
    ['a bad dev name', { dst: '10.9.0.0/24', dev: 'a/b' }],
    ['an empty MPLS stack', { dst: '10.9.0.0/24', dev: 'eth0', encap: { type: 'mpls', labels: [] } }],
    [
      'an IPv4 seg6 segment',
      { dst: '10.9.0.0/24', dev: 'eth0', encap: { type: 'seg6', mode: 'encap', segments: ['10.0.0.1'] } },
    ],
    [
      'an unknown seg6 mode',
      { dst: '10.9.0.0/24', dev: 'eth0', encap: { type: 'seg6', mode: 'fast', segments: ['::1'] } },
    ],
    ['an unknown encap type', { dst: '10.9.0.0/24', dev: 'eth0', encap: { type: 'warp', data: '' } }],
    ['a bad pref', { dst: '2001:db8::/64', dev: 'eth0', pref: 'highest' }],
  ])('route.add rejects %s with a TypeError', async (_what, spec) => {
    await expect(route.add(spec as RouteSpec)).rejects.toEqual(expect.objectContaining({ name: 'TypeError' }));
  });

  it.each([
    ['an IPv4 prefix longer than 32', { dst: '10.0.0.0/33' }],
    ['an IPv6 prefix longer than 128', { dst: '2001:db8::/129' }],
    ['table 0', { dst: '10.9.0.0/24', table: 0, dev: 'eth0' }],
    ['weight 0', { dst: '10.9.0.0/24', nexthops: [{ gateway: '10.0.0.1', weight: 0 }] }],
    ['weight 257', { dst: '10.9.0.0/24', nexthops: [{ gateway: '10.0.0.1', dev: 'eth0', weight: 257 }] }],
    ['a fractional weight', { dst: '10.9.0.0/24', nexthops: [{ gateway: '10.0.0.1', weight: 1.5 }] }],
    ['a negative metric', { dst: '10.9.0.0/24', priority: -1, dev: 'eth0' }],
    ['an mtu beyond 32 bits', { dst: '10.9.0.0/24', metrics: { mtu: 2 ** 32 }, dev: 'eth0' }],
    ['an MPLS label beyond 20 bits', { dst: '10.9.0.0/24', dev: 'eth0', encap: { type: 'mpls', labels: [2 ** 20] } }],
    ['dev index 0', { dst: '10.9.0.0/24', dev: 0 }],
    ['nhid 0', { dst: '10.9.0.0/24', nhid: 0 }],
  ])('route.add rejects %s with a RangeError', async (_what, spec) => {
    await expect(route.add(spec as RouteSpec)).rejects.toEqual(rangeError());
  });

  it('applies the same checks to replace, append, change and del', async () => {
    const bad = { dst: '10.0.0.0/33' };
    for (const call of [route.replace, route.append, route.change, route.del]) {
      await expect(call.call(route, bad)).rejects.toEqual(rangeError());
    }
    await expect(route.add(null as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(route.add({ dst: 42 } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
  });

  it('checks route.get and list filters', async () => {
    await expect(route.get('10.0.0.300')).rejects.toEqual(typeError());
    await expect(route.get('10.0.0.0/24')).rejects.toEqual(typeError());
    await expect(route.get('10.0.0.1', { src: '2001:db8::1' })).rejects.toEqual(typeError());
    await expect(route.get('10.0.0.1', { iif: 'a b' })).rejects.toEqual(typeError());
    await expect(route.get('10.0.0.1', { mark: -1, oif: 'eth0' })).rejects.toEqual(rangeError());
    await expect(route.get('10.0.0.1', { dport: 70000 })).rejects.toEqual(rangeError());
    await expect(route.list({ family: 5 as never })).rejects.toEqual(typeError());
    await expect(route.list({ table: 0, dev: 'eth0' })).rejects.toEqual(rangeError());
    await expect(route.list({ dst: '10.0.0.0/40', dev: 'eth0' })).rejects.toEqual(rangeError());
    await expect(route.list({ family: 6, dst: '10.0.0.0/8' })).rejects.toEqual(typeError());
    await expect(route.list({ protocol: 'nope', dev: 'eth0' })).rejects.toEqual(typeError());
    await expect(route.flush({ type: 'nope' as never })).rejects.toEqual(typeError());
  });
});
