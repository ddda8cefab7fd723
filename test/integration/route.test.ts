/**
 * Routes against the live kernel, inside namespaces the tests create, with
 * iproute2 as the independent oracle: a route the library adds is what
 * `ip -j -d route show` reports and what `ip route add` makes of the same
 * request, a route ip adds decodes to what ip shows, and route.get agrees
 * with `ip route get` under policy rules, multipath and blackholes.
 */
import { execFileSync } from 'node:child_process';
import * as nl from '../../lib';
import { NetlinkError, type Route, type RouteSpec } from '../../lib';
import { describeIf, ip, ipJson, loadProbe, randomName, useNetns } from '../harness/env';
import { comparable, routeFromIp } from '../harness/ip-route';

const probe = loadProbe();
const rootReason = probe.reason ?? 'needs root and ip netns';
const describeRoot = describeIf(probe.root && probe.ipNetns, rootReason);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from ip
type IpEntry = Record<string, any>;

/** ip's error text on stderr, e.g. 'Error: Nexthop has invalid gateway.' or 'RTNETLINK answers: File exists'. */
function ipFails(args: string[], netns: string): string {
  try {
    ip(args, netns);
  } catch (error) {
    return String((error as { stderr?: string }).stderr).trim();
  }
  throw new Error(`ip ${args.join(' ')} succeeded`);
}

/** glibc's strerror text, as ip prints it after 'RTNETLINK answers: ', by errno name. */
const STRERROR: Record<string, string> = {
  EINVAL: 'Invalid argument',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  ESRCH: 'No such process',
  ENOENT: 'No such file or directory',
};

/** What ip printed for a refusal the library got as `error`: the kernel's extack text, else strerror. */
function expectSameRefusal(error: unknown, ipText: string): void {
  expect(error).toBeInstanceOf(NetlinkError);
  const e = error as NetlinkError;
  if (e.extack !== undefined) expect(ipText).toBe(`Error: ${e.extack}${e.extack.endsWith('.') ? '' : '.'}`);
  else expect(ipText).toBe(`RTNETLINK answers: ${STRERROR[e.code] ?? e.code}`);
}

/**
 * Which optional route features this kernel has, tried with ip in a throwaway namespace
 * at load time (the run's probe does not cover route encapsulations).
 */
function probeRouteFeatures(): Record<'mpls' | 'seg6' | 'seg6Hmac' | 'subtrees', string | undefined> {
  const none = { mpls: rootReason, seg6: rootReason, seg6Hmac: rootReason, subtrees: rootReason };
  if (!probe.root || !probe.ipNetns) return none;
  const ns = randomName();
  const attempt = (args: string[]) => {
    try {
      ip(args, ns);
      return undefined;
    } catch (error) {
      return `kernel lacks it: ${String((error as { stderr?: string }).stderr).trim()}`;
    }
  };
  ip(['netns', 'add', ns]);
  try {
    ip(['link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], ns);
    ip(['link', 'set', 'p0', 'up'], ns);
    return {
      mpls: attempt(['route', 'add', '10.9.0.0/24', 'encap', 'mpls', '100', 'dev', 'p0']),
      seg6: attempt([
        'route',
        'add',
        '10.9.1.0/24',
        'encap',
        'seg6',
        'mode',
        'encap',
        'segs',
        '2001:db8::5',
        'dev',
        'p0',
      ]),
      seg6Hmac: attempt([
        ...['route', 'add', '10.9.2.0/24', 'encap', 'seg6', 'mode', 'encap'],
        ...['segs', '2001:db8::5', 'hmac', '7', 'dev', 'p0'],
      ]),
      subtrees: attempt(['-6', 'route', 'add', '2001:db8:9::/64', 'from', '2001:db8:8::/64', 'dev', 'p0']),
    };
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
const features = probeRouteFeatures();

interface Case {
  name: string;
  spec: RouteSpec;
  /** The same route for `ip route add` (with -6 first for IPv6). */
  ipArgs: string[];
  /** Why the kernel cannot take it, when it cannot. */
  missing?: string;
  /** Also expected in `ip route show` text (what its JSON leaves out). */
  text?: string;
}

const CASES: Case[] = [
  {
    name: 'unicast via a gateway',
    spec: { dst: '10.20.0.0/24', gateway: '10.1.0.2' },
    ipArgs: ['10.20.0.0/24', 'via', '10.1.0.2'],
  },
  {
    name: 'dev, prefsrc, metric, numeric protocol, 32-bit table',
    spec: { dst: '10.21.0.0/24', dev: 'va', prefSrc: '10.1.0.1', priority: 55, protocol: 200, table: 1000000 },
    ipArgs: ['10.21.0.0/24', 'dev', 'va', 'src', '10.1.0.1', 'metric', '55', 'proto', '200', 'table', '1000000'],
  },
  {
    name: 'a table past 8 bits, named protocol, explicit scope',
    spec: { dst: '10.21.1.0/24', dev: 'va', table: 300, protocol: 'static', scope: 'link' },
    ipArgs: ['10.21.1.0/24', 'dev', 'va', 'table', '300', 'proto', 'static', 'scope', 'link'],
  },
  { name: 'blackhole', spec: { dst: '10.66.0.0/16', type: 'blackhole' }, ipArgs: ['blackhole', '10.66.0.0/16'] },
  { name: 'unreachable', spec: { dst: '10.67.0.0/16', type: 'unreachable' }, ipArgs: ['unreachable', '10.67.0.0/16'] },
  {
    name: 'prohibit',
    spec: { dst: '10.68.0.0/16', type: 'prohibit', priority: 9 },
    ipArgs: ['prohibit', '10.68.0.0/16', 'metric', '9'],
  },
  {
    name: 'throw',
    spec: { dst: '10.69.0.0/16', type: 'throw', table: 50 },
    ipArgs: ['throw', '10.69.0.0/16', 'table', '50'],
  },
  { name: 'local', spec: { dst: '10.1.0.9', type: 'local', dev: 'va' }, ipArgs: ['local', '10.1.0.9', 'dev', 'va'] },
  {
    name: 'broadcast',
    spec: { dst: '10.1.0.254', type: 'broadcast', dev: 'va' },
    ipArgs: ['broadcast', '10.1.0.254', 'dev', 'va'],
  },
  {
    name: 'multicast',
    spec: { dst: '224.3.0.0/16', type: 'multicast', dev: 'va' },
    ipArgs: ['multicast', '224.3.0.0/16', 'dev', 'va'],
  },
  {
    name: 'default route in its own table',
    spec: { dst: 'default', gateway: '10.1.0.2', table: 'default' },
    ipArgs: ['default', 'via', '10.1.0.2', 'table', 'default'],
  },
  {
    name: 'every metric, mtu locked',
    spec: {
      dst: '10.22.0.0/24',
      gateway: '10.1.0.2',
      metrics: {
        lock: ['mtu'],
        mtu: 1400,
        window: 1000,
        rtt: 80,
        rttvar: 20,
        ssthresh: 30,
        cwnd: 40,
        advmss: 1300,
        reordering: 5,
        hoplimit: 20,
        initcwnd: 10,
        features: 1,
        rtoMin: 20,
        initrwnd: 11,
        quickack: 1,
        ccAlgo: 'cubic',
        fastopenNoCookie: 1,
      },
    },
    ipArgs: [
      ...['10.22.0.0/24', 'via', '10.1.0.2', 'mtu', 'lock', '1400', 'window', '1000', 'rtt', '10ms', 'rttvar', '5ms'],
      ...['ssthresh', '30', 'cwnd', '40', 'advmss', '1300', 'reordering', '5', 'hoplimit', '20', 'initcwnd', '10'],
      ...['features', 'ecn', 'rto_min', '20ms', 'initrwnd', '11', 'quickack', '1', 'congctl', 'cubic'],
      ...['fastopen_no_cookie', '1'],
    ],
    text: 'mtu lock 1400',
  },
  {
    name: 'multipath with weights and a per-hop onlink',
    spec: {
      dst: '10.23.0.0/24',
      nexthops: [
        { gateway: '10.1.0.2', dev: 'va', weight: 3 },
        { gateway: '192.0.2.9', dev: 'va', onlink: true },
      ],
    },
    ipArgs: [
      '10.23.0.0/24',
      'nexthop',
      'via',
      '10.1.0.2',
      'dev',
      'va',
      'weight',
      '3',
      'nexthop',
      'via',
      '192.0.2.9',
      'dev',
      'va',
      'onlink',
    ],
  },
  {
    name: 'multipath with weight 256 and a hop via IPv6',
    spec: {
      dst: '10.23.1.0/24',
      nexthops: [
        { gateway: '2001:db8:1::2', dev: 'va', weight: 256 },
        { gateway: '10.1.0.3', dev: 'va' },
      ],
    },
    ipArgs: [
      ...['10.23.1.0/24', 'nexthop', 'via', 'inet6', '2001:db8:1::2', 'dev', 'va', 'weight', '256'],
      ...['nexthop', 'via', '10.1.0.3', 'dev', 'va'],
    ],
  },
  {
    name: 'an IPv6 gateway for an IPv4 prefix (RTA_VIA)',
    spec: { dst: '10.24.0.0/24', family: 4, gateway: '2001:db8:1::2', dev: 'va' },
    ipArgs: ['10.24.0.0/24', 'via', 'inet6', '2001:db8:1::2', 'dev', 'va'],
  },
  {
    name: 'an onlink gateway',
    spec: { dst: '10.26.0.0/24', gateway: '192.0.2.1', dev: 'va', onlink: true },
    ipArgs: ['10.26.0.0/24', 'via', '192.0.2.1', 'dev', 'va', 'onlink'],
  },
  {
    name: 'seg6 encapsulation of an IPv4 prefix',
    spec: {
      dst: '10.25.0.0/24',
      dev: 'va',
      encap: { type: 'seg6', mode: 'encap', segments: ['2001:db8::5', '2001:db8::6'] },
    },
    ipArgs: ['10.25.0.0/24', 'encap', 'seg6', 'mode', 'encap', 'segs', '2001:db8::5,2001:db8::6', 'dev', 'va'],
    missing: features.seg6,
  },
  {
    name: 'MPLS label push',
    spec: { dst: '10.28.0.0/24', gateway: '10.1.0.2', encap: { type: 'mpls', labels: [100, 200], ttl: 9 } },
    ipArgs: ['10.28.0.0/24', 'encap', 'mpls', '100/200', 'ttl', '9', 'via', '10.1.0.2'],
    missing: features.mpls,
  },
  {
    name: 'IPv6 with expiry and router preference',
    spec: { dst: '2001:db8:20::/64', gateway: '2001:db8:1::2', expires: 3000, pref: 'high' },
    ipArgs: ['-6', '2001:db8:20::/64', 'via', '2001:db8:1::2', 'expires', '3000', 'pref', 'high'],
  },
  {
    name: 'IPv6 multipath',
    spec: {
      dst: '2001:db8:22::/64',
      nexthops: [
        { gateway: '2001:db8:1::2', dev: 'va', weight: 2 },
        { gateway: '2001:db8:1::3', dev: 'va' },
      ],
    },
    ipArgs: [
      ...['-6', '2001:db8:22::/64', 'nexthop', 'via', '2001:db8:1::2', 'dev', 'va', 'weight', '2'],
      ...['nexthop', 'via', '2001:db8:1::3', 'dev', 'va'],
    ],
  },
  {
    name: 'IPv6 blackhole',
    spec: { dst: '2001:db8:66::/48', type: 'blackhole' },
    ipArgs: ['-6', 'blackhole', '2001:db8:66::/48'],
  },
  {
    name: 'IPv6 prohibit in a numbered table',
    spec: { dst: '2001:db8:68::/48', type: 'prohibit', table: 70000 },
    ipArgs: ['-6', 'prohibit', '2001:db8:68::/48', 'table', '70000'],
  },
  {
    name: 'IPv6 default with a metric',
    spec: { dst: 'default', family: 6, gateway: '2001:db8:1::2', priority: 7 },
    ipArgs: ['-6', 'default', 'via', '2001:db8:1::2', 'metric', '7'],
  },
  {
    name: 'IPv6 source-specific (from)',
    spec: { dst: '2001:db8:21::/64', src: '2001:db8:99::/64', dev: 'va' },
    ipArgs: ['-6', '2001:db8:21::/64', 'from', '2001:db8:99::/64', 'dev', 'va'],
    missing: features.subtrees,
  },
  {
    name: 'IPv6 seg6 inline',
    spec: { dst: '2001:db8:23::/64', dev: 'va', encap: { type: 'seg6', mode: 'inline', segments: ['2001:db8::7'] } },
    ipArgs: ['-6', '2001:db8:23::/64', 'encap', 'seg6', 'mode', 'inline', 'segs', '2001:db8::7', 'dev', 'va'],
    missing: features.seg6,
  },
  {
    name: 'IPv6 seg6 with an HMAC key id',
    spec: {
      dst: '2001:db8:24::/64',
      dev: 'va',
      encap: { type: 'seg6', mode: 'encap', segments: ['2001:db8::8'], hmac: 42 },
    },
    ipArgs: [
      '-6',
      '2001:db8:24::/64',
      'encap',
      'seg6',
      'mode',
      'encap',
      'segs',
      '2001:db8::8',
      'hmac',
      '42',
      'dev',
      'va',
    ],
    missing: features.seg6Hmac,
  },
  {
    name: 'a route on a nexthop object',
    spec: { dst: '10.29.0.0/24', nhid: 42 },
    ipArgs: ['10.29.0.0/24', 'nhid', '42'],
    missing: probe.features.nexthop ? undefined : 'kernel lacks nexthop objects',
  },
];

describeRoot('routes in a namespace', () => {
  const ns = useNetns();
  let h: nl.Handle;
  let links: Record<string, number>;
  const indexOf = (name: string) => links[name];

  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    ip(['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'], ns.name);
    ip(['link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'vd'], ns.name);
    for (const l of ['va', 'vb', 'vc', 'vd']) ip(['link', 'set', l, 'up'], ns.name);
    ip(['addr', 'add', '10.1.0.1/24', 'dev', 'va'], ns.name);
    ip(['addr', 'add', '10.3.0.1/24', 'dev', 'vc'], ns.name);
    ip(['addr', 'add', '2001:db8:1::1/64', 'dev', 'va', 'nodad'], ns.name);
    if (probe.features.nexthop) ip(['nexthop', 'add', 'id', '42', 'via', '10.1.0.2', 'dev', 'va'], ns.name);
    links = Object.fromEntries((await h.link.list()).map((l) => [l.name, l.index]));
  });
  afterAll(async () => {
    await h?.close();
  });

  const familyOf = (c: Case): 4 | 6 => (c.ipArgs[0] === '-6' ? 6 : 4);
  const ipRoutes = (family: 4 | 6): IpEntry[] =>
    ipJson(['-d', `-${family}`, 'route', 'show', 'table', 'all'], ns.name) as IpEntry[];

  /** The one entry ip shows for this case's prefix, as a Route. */
  function shownByIp(c: Case): Route {
    const family = familyOf(c);
    const dst = c.spec.dst;
    const full = (d: string) => (d === 'default' || d.includes('/') ? d : `${d}/${family === 4 ? 32 : 128}`);
    const matches = ipRoutes(family)
      .map((e) => routeFromIp(e, family, indexOf))
      .filter((r) => r.dst === full(dst) && r.type === (c.spec.type ?? 'unicast') && r.protocol !== 'kernel');
    expect(matches).toHaveLength(1);
    return matches[0];
  }

  async function listedByUs(c: Case): Promise<Route> {
    const family = familyOf(c);
    const mine = (await h.route.list({ family, dst: c.spec.dst })).filter(
      (r) => r.type === (c.spec.type ?? 'unicast') && r.protocol !== 'kernel',
    );
    expect(mine).toHaveLength(1);
    return mine[0];
  }

  describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const itKind = c.missing === undefined ? it : it.skip;
    const suffix = c.missing === undefined ? '' : ` [skipped: ${c.missing}]`;

    itKind(`added by the library is what ip shows, and what ip route add makes of the same${suffix}`, async () => {
      await h.route.add(c.spec);
      const oursAsIpSees = shownByIp(c);
      const oursListed = await listedByUs(c);
      expect(comparable(oursListed)).toEqual(comparable(oursAsIpSees));
      if (c.text) {
        const family = familyOf(c);
        expect(ip([`-${family}`, 'route', 'show', 'table', 'all'], ns.name)).toContain(c.text);
        expect(oursListed.metrics?.lock).toEqual(c.spec.metrics?.lock);
      }
      // A listed route deletes exactly itself.
      await h.route.del(oursListed);
      expect(() => shownByIp(c)).toThrow();

      const family = familyOf(c);
      ip([...(family === 6 ? ['-6'] : []), 'route', 'add', ...c.ipArgs.slice(family === 6 ? 1 : 0)], ns.name);
      const theirs = shownByIp(c);
      const theirsListed = await listedByUs(c);
      expect(comparable(theirsListed)).toEqual(comparable(theirs));
      expect(comparable(theirs)).toEqual(comparable(oursAsIpSees));
      await h.route.del(theirsListed);
    });
  });

  it('MPLS encapsulation: refused by this kernel exactly as it refuses ip', async () => {
    const spec: RouteSpec = { dst: '10.28.0.0/24', gateway: '10.1.0.2', encap: { type: 'mpls', labels: [100] } };
    if (features.mpls === undefined) {
      await h.route.add(spec);
      await h.route.del(spec);
      return;
    }
    const error = await h.route.add(spec).catch((e: unknown) => e);
    expectSameRefusal(
      error,
      ipFails(['route', 'add', '10.28.0.0/24', 'encap', 'mpls', '100', 'via', '10.1.0.2'], ns.name),
    );
  });

  it('kernel refusals carry the kernel text ip prints: unreachable gateway, nat, existing, missing', async () => {
    const refusals: [RouteSpec, string[]][] = [
      [{ dst: '10.40.0.0/24', gateway: '192.0.2.1' }, ['route', 'add', '10.40.0.0/24', 'via', '192.0.2.1']],
      [
        { dst: '10.41.0.0/24', type: 'nat', gateway: '10.1.0.3' },
        ['route', 'add', 'nat', '10.41.0.0/24', 'via', '10.1.0.3'],
      ],
      [
        { dst: '10.1.0.0/24', dev: 'va', protocol: 'kernel', scope: 'link', prefSrc: '10.1.0.1' },
        ['route', 'add', '10.1.0.0/24', 'dev', 'va', 'proto', 'kernel', 'scope', 'link', 'src', '10.1.0.1'],
      ],
      [{ dst: '10.42.0.1/24', dev: 'va' }, ['route', 'add', '10.42.0.1/24', 'dev', 'va']],
    ];
    for (const [spec, args] of refusals) {
      const error = await h.route.add(spec).catch((e: unknown) => e);
      expect(error).toMatchObject({ operation: 'RTM_NEWROUTE' });
      expectSameRefusal(error, ipFails(args, ns.name));
    }
    const missing = await h.route.del({ dst: '10.43.0.0/24' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ESRCH', operation: 'RTM_DELROUTE' });
    expectSameRefusal(missing, ipFails(['route', 'del', '10.43.0.0/24'], ns.name));
    const change = await h.route.change({ dst: '10.44.0.0/24', gateway: '10.1.0.2' }).catch((e: unknown) => e);
    expectSameRefusal(change, ipFails(['route', 'change', '10.44.0.0/24', 'via', '10.1.0.2'], ns.name));
  });

  describe('with a scene set up by ip', () => {
    beforeAll(() => {
      const add = (...args: string[]) => ip(['route', 'add', ...args], ns.name);
      add('10.50.0.0/16', 'via', '10.1.0.2', 'proto', 'static');
      add('10.60.0.0/24', 'nexthop', 'via', '10.1.0.2', 'nexthop', 'via', '10.3.0.2', 'weight', '2');
      add('blackhole', '10.70.0.0/16');
      add('unreachable', '10.71.0.0/16');
      add('prohibit', '10.72.0.0/16');
      add('10.50.0.0/16', 'via', '10.1.0.3', 'table', '101', 'proto', 'static');
      add('default', 'via', '10.3.0.2', 'table', '100');
      add('10.80.0.0/24', 'via', '10.3.0.2', 'table', '77');
      add('10.81.0.0/24', 'dev', 'vc', 'table', '77', 'proto', 'static');
      add('10.82.0.0/24', 'table', '77', 'nexthop', 'dev', 'vc', 'nexthop', 'dev', 'va');
      ip(
        [
          '-6',
          'route',
          'add',
          '2001:db8:60::/64',
          'nexthop',
          'via',
          '2001:db8:1::2',
          'dev',
          'va',
          'nexthop',
          'via',
          '2001:db8:1::3',
          'dev',
          'va',
        ],
        ns.name,
      );
      ip(['-6', 'route', 'add', 'blackhole', '2001:db8:70::/48'], ns.name);
      ip(['rule', 'add', 'from', '10.3.0.1', 'table', '100', 'pref', '100'], ns.name);
      ip(['rule', 'add', 'fwmark', '7', 'table', '101', 'pref', '101'], ns.name);
      ip(['rule', 'add', 'uidrange', '1000-1000', 'table', '101', 'pref', '102'], ns.name);
      ip(['rule', 'add', 'ipproto', 'tcp', 'dport', '443', 'table', '100', 'pref', '103'], ns.name);
      execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    });
    // Link-local addresses (and their local routes) appear when DAD ends: let the scene settle.
    beforeAll(async () => {
      for (let i = 0; i < 100 && ip(['-6', 'addr', 'show', 'tentative'], ns.name).trim() !== ''; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    it('lists every route of every table as ip -j -d route show table all does, field for field', async () => {
      for (const family of [4, 6] as const) {
        const theirs = ipRoutes(family).map((e) => comparable(routeFromIp(e, family, indexOf)));
        const ours = (await h.route.list({ family })).map(comparable);
        const key = (r: Record<string, unknown>) => JSON.stringify(r);
        expect(ours.map(key).sort()).toEqual(theirs.map(key).sort());
      }
      const all = await h.route.list();
      expect(all.length).toBe(ipRoutes(4).length + ipRoutes(6).length);
    });

    it('filters by table, family, type, protocol, dev and dst with the same result with and without strict checking', async () => {
      const loose = await nl.open({ netns: ns.name, strictCheck: false });
      try {
        const everything = await h.route.list();
        const filters: [nl.RouteFilter, (r: Route) => boolean][] = [
          [{ table: 77 }, (r) => r.table === 77],
          [{ table: 'main', family: 4 }, (r) => r.table === 254 && r.family === 4],
          [{ table: 'local' }, (r) => r.table === 255],
          [{ table: 101, family: 4 }, (r) => r.table === 101 && r.family === 4],
          [{ type: 'blackhole' }, (r) => r.type === 'blackhole'],
          [{ type: 'local', family: 6 }, (r) => r.type === 'local' && r.family === 6],
          [{ protocol: 'static' }, (r) => r.protocol === 'static'],
          [{ protocol: 'kernel', family: 4 }, (r) => r.protocol === 'kernel' && r.family === 4],
          [{ dev: 'vc' }, (r) => r.dev === links.vc || (r.nexthops ?? []).some((n) => n.dev === links.vc)],
          [
            { dev: links.va, table: 77 },
            (r) => r.table === 77 && (r.dev === links.va || (r.nexthops ?? []).some((n) => n.dev === links.va)),
          ],
          [{ dst: '10.50.0.0/16' }, (r) => r.dst === '10.50.0.0/16'],
          [{ dst: 'default', family: 4 }, (r) => r.dst === 'default' && r.family === 4],
          [{ dst: '2001:db8:60::/64' }, (r) => r.dst === '2001:db8:60::/64'],
        ];
        for (const [filter, keep] of filters) {
          const expected = everything.filter(keep).map(comparable);
          expect(expected.length).toBeGreaterThan(0);
          expect((await h.route.list(filter)).map(comparable)).toEqual(expected);
          expect((await loose.route.list(filter)).map(comparable)).toEqual(expected);
        }
        // ip's own filters agree where ip has them.
        const ipDst = (args: string[]) =>
          (ipJson(['-4', 'route', 'show', ...args], ns.name) as IpEntry[]).map((e) => e.dst).sort();
        const ourDst = async (f: nl.RouteFilter) =>
          (await h.route.list({ family: 4, ...f })).map((r) => r.dst.replace(/\/32$/, '')).sort();
        expect(await ourDst({ table: 77 })).toEqual(ipDst(['table', '77']));
        expect(await ourDst({ table: 'main', protocol: 'static' })).toEqual(ipDst(['proto', 'static']));
        expect(await ourDst({ table: 'main', type: 'unreachable' })).toEqual(ipDst(['type', 'unreachable']));
        // A table that does not exist is empty, not an error, either way.
        for (const handle of [h, loose]) {
          expect(await handle.route.list({ table: 4000, family: 4 })).toEqual([]);
          expect(await handle.route.list({ table: 4000, family: 6 })).toEqual([]);
          expect(await handle.route.list({ table: 4000 })).toEqual([]);
        }
      } finally {
        await loose.close();
      }
    });

    it('streams what list() returns', async () => {
      const streamed: Route[] = [];
      for await (const r of h.route.stream({ table: 77 })) streamed.push(r);
      expect(streamed).toEqual(await h.route.list({ table: 77 }));
    });

    it('streams nothing, and ends normally, for a table that does not exist', async () => {
      const streamed: Route[] = [];
      for await (const r of h.route.stream({ table: 4001, family: 4 })) streamed.push(r); // strict, one family: ENOENT
      expect(streamed).toEqual([]);
      // while another error of the dump still ends the stream with it
      const aborted = new AbortController();
      aborted.abort();
      await expect(
        (async () => {
          for await (const _ of h.route.stream({ table: 77 }, { signal: aborted.signal }));
        })(),
      ).rejects.toMatchObject({ name: 'AbortError' });
    });

    const lookups: [string, nl.RouteGetOptions, string[]][] = [
      ['10.50.1.1', {}, []],
      ['10.50.1.1', { mark: 7 }, ['mark', '7']],
      ['10.50.1.1', { uid: 1000 }, ['uid', '1000']],
      ['10.50.1.1', { src: '10.3.0.1' }, ['from', '10.3.0.1']],
      ['10.99.0.1', { src: '10.3.0.1' }, ['from', '10.3.0.1']],
      ['10.99.0.1', { ipProto: 6, dport: 443 }, ['ipproto', 'tcp', 'dport', '443']],
      ['10.99.0.1', { ipProto: 6, dport: 444 }, ['ipproto', 'tcp', 'dport', '444']],
      ['10.50.1.1', { oif: 'vc' }, ['oif', 'vc']],
      ['10.50.1.1', { iif: 'vd', src: '10.3.0.2' }, ['iif', 'vd', 'from', '10.3.0.2']],
      ['10.60.0.5', {}, []],
      ['10.60.0.6', { src: '10.1.0.1' }, ['from', '10.1.0.1']],
      ['10.60.0.7', { src: '10.3.0.1' }, ['from', '10.3.0.1']],
      ['10.60.0.5', { fibmatch: true }, ['fibmatch']],
      ['10.50.1.1', { fibmatch: true, mark: 7 }, ['fibmatch', 'mark', '7']],
      ['10.70.0.1', {}, []],
      ['10.70.0.1', { fibmatch: true }, ['fibmatch']],
      ['10.71.0.1', {}, []],
      ['10.72.0.1', {}, []],
      ['10.99.0.1', {}, []],
      ['10.1.0.1', {}, []],
      ['10.1.0.255', {}, []],
      ['2001:db8:60::5', {}, []],
      ['2001:db8:60::5', { fibmatch: true }, ['fibmatch']],
      ['2001:db8:70::1', {}, []],
      ['2001:db8:1::1', {}, []],
    ];

    it.each(lookups)('route.get(%s, %j) agrees with ip route get', async (dst, options, args) => {
      const family = dst.includes(':') ? 6 : 4;
      let ipEntry: IpEntry | undefined;
      let ipText = '';
      try {
        [ipEntry] = ipJson(
          [
            '-d',
            'route',
            'get',
            ...(args[0] === 'fibmatch' ? ['fibmatch'] : []),
            dst,
            ...args.filter((a) => a !== 'fibmatch'),
          ],
          ns.name,
        ) as IpEntry[];
      } catch (error) {
        ipText = String((error as { stderr?: string }).stderr).trim();
      }
      const ours = await h.route.get(dst, options).catch((e: unknown) => e);
      if (ipEntry === undefined) {
        expect(ipText).not.toBe('');
        expectSameRefusal(ours, ipText);
        return;
      }
      expect(ours).not.toBeInstanceOf(Error);
      const expected = comparable(routeFromIp(ipEntry, family, indexOf));
      const got = comparable(ours as Route);
      // ip prints no protocol or scope for a resolved lookup; everything it prints must match.
      expect(got).toMatchObject(expected);
      for (const k of Object.keys(got)) {
        if (!(k in expected)) expect(['family', 'protocol', 'scope', 'type', 'priority']).toContain(k);
      }
    });
  });

  it('append makes IPv6 multipath like ip route append; replace and change swap the gateway', async () => {
    await h.route.add({ dst: '2001:db8:30::/64', gateway: '2001:db8:1::2', dev: 'va' });
    await h.route.append({ dst: '2001:db8:30::/64', gateway: '2001:db8:1::3', dev: 'va' });
    const [appended] = await h.route.list({ dst: '2001:db8:30::/64' });
    expect(appended.nexthops?.map((n) => n.gateway)).toEqual(['2001:db8:1::2', '2001:db8:1::3']);
    const [e] = ipJson(['-6', 'route', 'show', '2001:db8:30::/64'], ns.name) as IpEntry[];
    expect(e.nexthops.map((n: IpEntry) => n.gateway)).toEqual(['2001:db8:1::2', '2001:db8:1::3']);
    await h.route.del(appended);
    expect(ipJson(['-6', 'route', 'show', '2001:db8:30::/64'], ns.name)).toEqual([]);

    await h.route.add({ dst: '10.31.0.0/24', gateway: '10.1.0.2' });
    await h.route.replace({ dst: '10.31.0.0/24', gateway: '10.1.0.3' });
    expect((ipJson(['route', 'show', '10.31.0.0/24'], ns.name) as IpEntry[]).map((r) => r.gateway)).toEqual([
      '10.1.0.3',
    ]);
    await h.route.change({ dst: '10.31.0.0/24', gateway: '10.1.0.4', priority: 0 });
    expect((ipJson(['route', 'show', '10.31.0.0/24'], ns.name) as IpEntry[]).map((r) => r.gateway)).toEqual([
      '10.1.0.4',
    ]);
    await h.route.replace({ dst: '10.32.0.0/24', gateway: '10.1.0.2' }); // replace creates
    expect(ipJson(['route', 'show', '10.32.0.0/24'], ns.name)).toHaveLength(1);
    const exists = await h.route.add({ dst: '10.32.0.0/24', gateway: '10.1.0.2' }).catch((err: unknown) => err);
    expect(exists).toMatchObject({ code: 'EEXIST' });
  });

  it('del of a listed route removes that one of several same-prefix routes', async () => {
    const linkLocal = await h.route.list({ family: 6, dst: 'fe80::/64' });
    expect(linkLocal.map((r) => r.dev).sort()).toEqual([links.va, links.vb, links.vc, links.vd].sort());
    await h.route.del(linkLocal.find((r) => r.dev === links.vb)!);
    const left = (ipJson(['-6', 'route', 'show', 'fe80::/64'], ns.name) as IpEntry[]).map((r) => r.dev).sort();
    expect(left).toEqual(['va', 'vc', 'vd']);
  });

  it('flush deletes what list(filter) returns, multipath included, and nothing else', async () => {
    const add = (...args: string[]) => ip(['route', 'add', 'table', '88', ...args], ns.name);
    add('10.90.0.0/24', 'via', '10.1.0.2');
    add('10.91.0.0/24', 'nexthop', 'via', '10.1.0.2', 'nexthop', 'via', '10.1.0.3');
    add('blackhole', '10.92.0.0/24');
    add('10.93.0.0/24', 'dev', 'va', 'proto', 'static');
    const v6hops = ['nexthop', 'via', '2001:db8:1::2', 'dev', 'va', 'nexthop', 'via', '2001:db8:1::3', 'dev', 'va'];
    ip(['-6', 'route', 'add', '2001:db8:90::/64', 'table', '88', ...v6hops], ns.name);
    const mainBefore = ipJson(['route', 'show', 'table', 'main'], ns.name);

    expect(await h.route.flush({ table: 88, protocol: 'static' })).toBe(1);
    expect(await h.route.list({ table: 88, protocol: 'static' })).toEqual([]);
    expect(await h.route.flush({ table: 88 })).toBe(4);
    expect(ipJson(['-4', 'route', 'show', 'table', '88'], ns.name)).toEqual([]);
    expect(ipJson(['-6', 'route', 'show', 'table', '88'], ns.name)).toEqual([]);
    expect(ipJson(['route', 'show', 'table', 'main'], ns.name)).toEqual(mainBefore);
    expect(await h.route.flush({ table: 88 })).toBe(0);
  });
});

describeRoot('route on the module-level default handle', () => {
  it('reads the namespace the module loaded in, as ip does (read only)', async () => {
    try {
      const mine = await nl.route.list({ table: 'main', family: 4 });
      const theirs = ipJson(['-4', 'route', 'show', 'table', 'main']) as IpEntry[];
      expect(mine.map((r) => r.dst.replace(/\/32$/, '')).sort()).toEqual(theirs.map((e) => e.dst).sort());
    } finally {
      await nl.close();
    }
  });
});
