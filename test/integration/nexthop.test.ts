/**
 * Nexthops and nexthop groups against the live kernel, inside a namespace
 * the tests create, with iproute2 as the independent oracle both ways:
 * what the library adds, `ip -j -d nexthop show` reports; what `ip nexthop
 * add` makes, the library decodes to the same objects.
 */
import { execFileSync } from 'node:child_process';
import * as nl from '../../lib';
import { NetlinkError, type Nexthop, type NexthopSpec } from '../../lib';
import { describeIf, ip, ipJson, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

/** One entry of `ip -j -d nexthop show`. */
interface IpNexthop {
  id: number;
  gateway?: string;
  dev?: string;
  scope: string;
  protocol?: string;
  flags: string[];
  blackhole?: null;
  fdb?: null;
  group?: { id: number; weight?: number }[];
  type?: string;
  resilient_args?: { buckets: number; idle_timer: number; unbalanced_timer: number; unbalanced_time: number };
}

/** Runs `ip -n ns -batch -` with the given lines (one process for thousands of commands). */
function ipBatch(lines: string[], netns: string): void {
  execFileSync('ip', ['-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'pipe', 'pipe'] });
}

describeRoot('nexthops in a namespace', () => {
  const ns = useNetns();
  let h: nl.Handle;
  const index: Record<string, number> = {};

  /** What the library should report for an `ip -j -d nexthop show` entry (family aside: ip -j does not print it). */
  const fromIp = (t: IpNexthop): Omit<Nexthop, 'family'> => {
    const protocol = t.protocol ?? 'unspec';
    const out: Omit<Nexthop, 'family'> = {
      id: t.id,
      scope: t.scope,
      // A protocol without a name is a number here, a numeric string in ip -j.
      protocol: /^\d+$/.test(protocol) ? Number(protocol) : protocol,
      flags: t.flags,
    };
    if (t.gateway !== undefined) out.gateway = t.gateway;
    if (t.dev !== undefined) out.dev = index[t.dev];
    if ('blackhole' in t) out.blackhole = true;
    if (t.flags.includes('onlink')) out.onlink = true;
    if ('fdb' in t) out.fdb = true;
    if (t.group) {
      out.group = t.group.map((m) => ({ id: m.id, weight: m.weight ?? 1 }));
      out.groupType = (t.type ?? 'mpath') as 'mpath' | 'resilient';
    }
    const r = t.resilient_args;
    if (r) {
      out.resilient = {
        buckets: r.buckets,
        idleTimer: r.idle_timer,
        unbalancedTimer: r.unbalanced_timer,
        unbalancedTime: r.unbalanced_time,
      };
    }
    return out;
  };
  const withoutFamily = ({ family: _family, ...rest }: Nexthop) => rest;
  const ipShow = (...args: string[]) => ipJson<IpNexthop[]>(['-d', 'nexthop', 'show', ...args], ns.name);
  const ids = (list: { id: number }[]) => list.map((n) => n.id).sort((a, b) => a - b);

  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    ip(['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'], ns.name);
    ip(['link', 'add', 'br0', 'type', 'bridge'], ns.name);
    ip(['link', 'add', 'vc', 'master', 'br0', 'type', 'veth', 'peer', 'name', 'vd'], ns.name);
    for (const dev of ['va', 'vb', 'br0', 'vc', 'vd']) ip(['link', 'set', dev, 'up'], ns.name);
    ip(['addr', 'add', '10.1.0.1/24', 'dev', 'va'], ns.name);
    ip(['addr', 'add', '2001:db8:1::1/64', 'dev', 'va', 'nodad'], ns.name);
    ip(['addr', 'add', '10.2.0.1/24', 'dev', 'vb'], ns.name);
    ip(['addr', 'add', '10.3.0.1/24', 'dev', 'vc'], ns.name);
    for (const l of ipJson<{ ifname: string; ifindex: number }[]>(['link', 'show'], ns.name))
      index[l.ifname] = l.ifindex;
  });
  afterEach(() => {
    if (ns.name) ip(['nexthop', 'flush'], ns.name);
  });
  afterAll(async () => {
    await h?.close();
  });

  // Each kind, as the library spells it and as `ip nexthop add` does.
  const KINDS: [NexthopSpec, string[], 4 | 6 | undefined][] = [
    [{ id: 1, gateway: '10.1.0.2', dev: 'va' }, ['id', '1', 'via', '10.1.0.2', 'dev', 'va'], 4],
    [
      { id: 2, gateway: '10.9.9.9', dev: 'va', onlink: true, protocol: 'bgp' },
      ['id', '2', 'via', '10.9.9.9', 'dev', 'va', 'onlink', 'proto', 'bgp'],
      4,
    ],
    [{ id: 3, blackhole: true }, ['id', '3', 'blackhole'], 4],
    [{ id: 4, dev: 'vb', protocol: 'static' }, ['id', '4', 'dev', 'vb', 'proto', 'static'], 4],
    [{ id: 5, gateway: '2001:db8:1::2', dev: 'va' }, ['id', '5', 'via', '2001:db8:1::2', 'dev', 'va'], 6],
    [{ id: 6, gateway: '10.1.0.9', fdb: true }, ['id', '6', 'via', '10.1.0.9', 'fdb'], 4],
    [{ id: 7, family: 6, blackhole: true }, ['-6', 'id', '7', 'blackhole'], 6],
    [{ id: 8, gateway: '10.3.0.2', dev: 'vc' }, ['id', '8', 'via', '10.3.0.2', 'dev', 'vc'], 4],
    [
      { id: 9, gateway: '10.1.0.3', dev: 'va', protocol: 42 },
      ['id', '9', 'via', '10.1.0.3', 'dev', 'va', 'proto', '42'],
      4,
    ],
    [
      { id: 10, group: [1, { id: 4, weight: 7 }, { id: 5, weight: 256 }] },
      ['id', '10', 'group', '1/4,7/5,256'],
      undefined,
    ],
    [
      { id: 11, group: [{ id: 1, weight: 3 }, 9], resilient: { buckets: 8, idleTimer: 100, unbalancedTimer: 200 } },
      [
        'id',
        '11',
        'group',
        '1,3/9',
        'type',
        'resilient',
        'buckets',
        '8',
        'idle_timer',
        '100',
        'unbalanced_timer',
        '200',
      ],
      undefined,
    ],
    [{ id: 12, group: [6], fdb: true }, ['id', '12', 'group', '6', 'fdb'], undefined],
    [
      { id: 13, group: [1, 9], groupType: 'mpath', protocol: 'zebra' },
      ['id', '13', 'group', '1/9', 'type', 'mpath', 'proto', 'zebra'],
      undefined,
    ],
  ];

  /** Every nexthop's view from both sides, and the family check ip -j cannot make directly. */
  const expectSameAsIp = (ours: Nexthop[]) => {
    const theirs = ipShow();
    expect(ids(ours)).toEqual(ids(theirs));
    for (const t of theirs) expect(withoutFamily(ours.find((n) => n.id === t.id)!)).toEqual(fromIp(t));
    const v4 = ids(ipJson<IpNexthop[]>(['-4', 'nexthop', 'show'], ns.name));
    const v6 = ids(ipJson<IpNexthop[]>(['-6', 'nexthop', 'show'], ns.name));
    expect(ids(ours.filter((n) => n.family === 4))).toEqual(v4);
    expect(ids(ours.filter((n) => n.family === 6))).toEqual(v6);
    expect(ids(ours.filter((n) => n.family === undefined))).toEqual(ids(ours.filter((n) => n.group)));
  };

  it('adds every kind of nexthop and group; ip -j -d nexthop show reports each the same', async () => {
    const returned: Nexthop[] = [];
    for (const [spec, , family] of KINDS) {
      const nh = await h.nexthop.add(spec);
      expect(nh.family).toBe(family);
      returned.push(nh);
    }
    const listed = await h.nexthop.list();
    expect(returned).toEqual(KINDS.map(([spec]) => listed.find((n) => n.id === spec.id)));
    expectSameAsIp(listed);
  });

  it('decodes nexthops made by ip nexthop add exactly as the ones it makes itself', async () => {
    for (const [, args] of KINDS) {
      ip(args[0] === '-6' ? ['-6', 'nexthop', 'add', ...args.slice(1)] : ['nexthop', 'add', ...args], ns.name);
    }
    const fromIproute2 = await h.nexthop.list();
    expectSameAsIp(fromIproute2);
    for (const nh of fromIproute2) expect(await h.nexthop.get(nh.id)).toEqual(nh);

    ip(['nexthop', 'flush'], ns.name);
    for (const [spec] of KINDS) await h.nexthop.add(spec);
    // unbalancedTime is a clock, the rest must be identical.
    expect(await h.nexthop.list()).toEqual(fromIproute2);
  });

  it('filters by dev, master, groups, fdb, family, id and protocol like ip nexthop show', async () => {
    for (const [spec] of KINDS) await h.nexthop.add(spec);
    const cases: [nl.NexthopFilter, string[]][] = [
      [{ dev: 'va' }, ['dev', 'va']],
      [{ dev: index.vb }, ['dev', 'vb']],
      [{ master: 'br0' }, ['master', 'br0']],
      [{ groups: true }, ['groups']],
      [{ id: 11 }, ['id', '11']],
      [{ protocol: 42 }, ['protocol', '42']],
    ];
    for (const [filter, args] of cases) {
      const ours = await h.nexthop.list(filter);
      expect({ filter, ids: ids(ours) }).toEqual({ filter, ids: ids(ipShow(...args)) });
      expect(ours.length).toBeGreaterThan(0);
    }
    // The kernel (6.18) parses NHA_FDB in a dump request but does not filter
    // by it, so `ip nexthop show fdb` lists everything; the library filters itself.
    expect(ids(await h.nexthop.list({ fdb: true }))).toEqual(ids(ipShow().filter((t) => 'fdb' in t)));
    expect(ids(await h.nexthop.list({ fdb: true }))).toEqual([6, 12]);
    expect(ids(await h.nexthop.list({ family: 6 }))).toEqual(ids(ipJson(['-6', 'nexthop', 'show'], ns.name)));
    expect(ids(await h.nexthop.list({ protocol: 'bgp' }))).toEqual([2]);
    expect(await h.nexthop.list({ id: 99 })).toEqual([]);
    const lax = await nl.open({ netns: ns.name, strictCheck: false });
    try {
      expect(ids(await lax.nexthop.list({ master: 'br0' }))).toEqual([8]);
      expect(ids(await lax.nexthop.list({ groups: true, fdb: true }))).toEqual([12]);
    } finally {
      await lax.close();
    }
  });

  it('streams what list() returns', async () => {
    for (const [spec] of KINDS) await h.nexthop.add(spec);
    const streamed: Nexthop[] = [];
    for await (const nh of h.nexthop.stream()) streamed.push(nh);
    expect(streamed).toEqual(await h.nexthop.list());
    const groups: number[] = [];
    for await (const nh of h.nexthop.stream({ groups: true })) groups.push(nh.id);
    expect(groups.sort((a, b) => a - b)).toEqual([10, 11, 12, 13]);
  });

  it('returns the id the kernel picked when none is given', async () => {
    const nh = await h.nexthop.add({ gateway: '10.1.0.5', dev: 'va' });
    expect(nh.id).toBeGreaterThan(0);
    expect(ipShow('id', String(nh.id)).map(fromIp)).toEqual([withoutFamily(nh)]);
  });

  it('replaces a nexthop and a group in place; ip sees the change', async () => {
    await h.nexthop.add({ id: 1, gateway: '10.1.0.2', dev: 'va' });
    await h.nexthop.add({ id: 2, gateway: '10.1.0.3', dev: 'va' });
    await h.nexthop.add({ id: 3, gateway: '10.2.0.2', dev: 'vb' });
    await h.nexthop.add({ id: 20, group: [1, 2] });
    const single = await h.nexthop.replace({ id: 1, gateway: '10.2.0.9', dev: 'vb', protocol: 'static' });
    expect(single).toMatchObject({ id: 1, gateway: '10.2.0.9', dev: index.vb, protocol: 'static' });
    const group = await h.nexthop.replace({ id: 20, group: [{ id: 3, weight: 5 }, 2] });
    expect(group.group).toEqual([
      { id: 3, weight: 5 },
      { id: 2, weight: 1 },
    ]);
    for (const nh of [single, group]) expect(ipShow('id', String(nh.id)).map(fromIp)).toEqual([withoutFamily(nh)]);
    // replace also creates.
    expect(await h.nexthop.replace({ id: 21, blackhole: true })).toMatchObject({ id: 21, blackhole: true });
  });

  it('deletes a nexthop, its routes with it, and says ENOENT the second time', async () => {
    await h.nexthop.add({ id: 1, gateway: '10.1.0.2', dev: 'va' });
    await h.nexthop.add({ id: 2, gateway: '10.1.0.3', dev: 'va' });
    await h.nexthop.add({ id: 30, group: [1, 2] });
    ip(['route', 'add', '198.51.100.0/24', 'nhid', '1'], ns.name);
    await h.nexthop.del(1);
    expect(ids(ipShow())).toEqual([2, 30]);
    expect(ipShow('id', '30')[0].group).toEqual([{ id: 2 }]);
    expect(ipJson(['route', 'show', '198.51.100.0/24'], ns.name)).toEqual([]);
    const again = await h.nexthop.del({ id: 1 }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(NetlinkError);
    expect(again).toMatchObject({ code: 'ENOENT', operation: 'RTM_DELNEXTHOP' });
    await expect(h.nexthop.get(1)).rejects.toMatchObject({ code: 'ENOENT', operation: 'RTM_GETNEXTHOP' });
  });

  it('flushes groups before their members', async () => {
    for (const [spec] of KINDS) await h.nexthop.add(spec);
    expect(await h.nexthop.flush({ dev: 'va' })).toBe(4);
    expect(ids(ipShow('dev', 'va'))).toEqual([]);
    expect(await h.nexthop.flush()).toBeGreaterThan(0);
    expect(ipShow()).toEqual([]);
  });

  it('passes on kernel refusals as NetlinkError with the kernel text', async () => {
    const unreachable = await h.nexthop.add({ id: 1, gateway: '192.0.2.1', dev: 'va' }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(NetlinkError);
    expect(unreachable).toMatchObject({ operation: 'RTM_NEWNEXTHOP', extack: 'Nexthop has invalid gateway' });
    expect((unreachable as Error).message).toContain('Nexthop has invalid gateway');

    await h.nexthop.add({ id: 1, gateway: '10.1.0.2', dev: 'va' });
    await h.nexthop.add({ id: 3, blackhole: true });
    await expect(h.nexthop.add({ id: 1, blackhole: true })).rejects.toMatchObject({ code: 'EEXIST' });
    const missing = await h.nexthop.add({ id: 40, group: [1, 77] }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'EINVAL', extack: expect.stringMatching(/nexthop id/i) });
    const blackholeGroup = await h.nexthop.add({ id: 41, group: [1, 3] }).catch((e: unknown) => e);
    expect(blackholeGroup).toMatchObject({ code: 'EINVAL', extack: expect.stringMatching(/blackhole/i) });
    const singleToGroup = await h.nexthop.replace({ id: 1, group: [3] }).catch((e: unknown) => e);
    expect(singleToGroup).toMatchObject({ extack: expect.stringMatching(/group/i) });
    const noBuckets = await h.nexthop.add({ id: 42, group: [1], groupType: 'resilient' }).catch((e: unknown) => e);
    expect(noBuckets).toMatchObject({ extack: expect.stringMatching(/buckets/i) });
    expect(ids(ipShow())).toEqual([1, 3]);
  });

  it('lists the buckets of a resilient group as ip nexthop bucket show does', async () => {
    await h.nexthop.add({ id: 1, gateway: '10.1.0.2', dev: 'va' });
    await h.nexthop.add({ id: 2, gateway: '10.1.0.3', dev: 'va' });
    await h.nexthop.add({ id: 50, group: [1, { id: 2, weight: 3 }], resilient: { buckets: 16, idleTimer: 5 } });
    const ours = await h.nexthop.buckets({ id: 50 });
    const theirs = ipJson<{ id: number; bucket: { index: number; nhid: number } }[]>(
      ['nexthop', 'bucket', 'show', 'id', '50'],
      ns.name,
    );
    expect(ours.map((b) => [b.id, b.index, b.nhid])).toEqual(theirs.map((t) => [t.id, t.bucket.index, t.bucket.nhid]));
    expect(ours.filter((b) => b.nhid === 2)).toHaveLength(12); // weights 1:3 over 16 buckets
    expect((await h.nexthop.buckets({ nhid: 1 })).map((b) => b.index)).toEqual(
      ours.filter((b) => b.nhid === 1).map((b) => b.index),
    );
    const [group] = ipShow('id', '50');
    expect(group.resilient_args).toMatchObject({ buckets: 16, idle_timer: 5, unbalanced_timer: 0 });
  });

  // The 10,000 routes are added with `ip -batch` because route.add is being
  // written in parallel; once merged this should use h.route.add (or a batch).
  it('moves 10,000 routes at once by replacing the members of the 16-nexthop group they use', async () => {
    const ROUTES = 10_000;
    const prefix = (i: number) => `100.${64 + (i >> 8)}.${i & 255}`;
    const oldMembers = Array.from({ length: 16 }, (_, i) => i + 1);
    const newMembers = Array.from({ length: 16 }, (_, i) => i + 101);
    for (const id of oldMembers) await h.nexthop.add({ id, gateway: `10.1.0.${id + 1}`, dev: 'va' });
    for (const id of newMembers) await h.nexthop.add({ id, gateway: `10.2.0.${id - 99}`, dev: 'vb' });
    await h.nexthop.add({ id: 1000, group: oldMembers });
    ipBatch(
      Array.from({ length: ROUTES }, (_, i) => `route add ${prefix(i)}.0/24 nhid 1000`),
      ns.name,
    );

    /** The kernel's FIB lookup (`ip route get`) for one address in each of the routes: gateway -> count. */
    const lookups = () => {
      const out = execFileSync('ip', ['-n', ns.name, '-j', '-batch', '-'], {
        input: Array.from({ length: ROUTES }, (_, i) => `route get ${prefix(i)}.7`).join('\n') + '\n',
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const byGateway = new Map<string, number>();
      let n = 0;
      for (const line of out.split('\n')) {
        if (!line.trim()) continue;
        for (const r of JSON.parse(line) as { gateway: string; dev: string }[]) {
          byGateway.set(`${r.gateway} ${r.dev}`, (byGateway.get(`${r.gateway} ${r.dev}`) ?? 0) + 1);
          n++;
        }
      }
      expect(n).toBe(ROUTES);
      return byGateway;
    };
    const expected = (gateways: string[], dev: string) => gateways.map((g) => `${g} ${dev}`).sort();

    const before = lookups();
    // Every member carries some of the traffic, and only the members do.
    expect([...before.keys()].sort()).toEqual(
      expected(
        oldMembers.map((id) => `10.1.0.${id + 1}`),
        'va',
      ),
    );

    const replaced = await h.nexthop.replace({ id: 1000, group: newMembers });
    expect(replaced.group!.map((m) => m.id)).toEqual(newMembers);

    const after = lookups();
    expect([...after.keys()].sort()).toEqual(
      expected(
        newMembers.map((id) => `10.2.0.${id - 99}`),
        'vb',
      ),
    );
    // The routes themselves are untouched: all still point at the group, which now resolves to the new members.
    const routes = JSON.parse(
      execFileSync('ip', ['-n', ns.name, '-j', 'route', 'show', 'root', '100.64.0.0/10'], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      }),
    ) as { dst: string; nhid?: number; nexthops?: { gateway: string }[] }[];
    expect(routes).toHaveLength(ROUTES);
    expect(routes.every((r) => r.nhid === 1000)).toBe(true);
    expect(new Set(routes.flatMap((r) => r.nexthops!.map((n) => n.gateway)))).toEqual(
      new Set(newMembers.map((id) => `10.2.0.${id - 99}`)),
    );
  }, 60_000);
});
