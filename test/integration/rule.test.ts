/**
 * Policy rules against the live kernel, in namespaces the tests create, with `ip -j -d rule show`
 * as the independent oracle both ways: rules the library adds are what ip reports, and rules ip
 * adds decode to what ip reports.
 */
import * as nl from '../../lib';
import { NetlinkError } from '../../lib';
import type { Rule, RuleSpec } from '../../lib/rule';
import { describeIf, ip, ipJson, loadProbe, useNetns } from '../harness/env';
import { ruleFromIp, type IpRule } from '../harness/rule-neigh-oracle';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

const ipRules = (family: 4 | 6, ns: string): Rule[] =>
  (ipJson(['-d', `-${family}`, 'rule', 'show'], ns) as IpRule[]).map((r) => ruleFromIp(r, family));
const DEFAULTS: Rule[] = [
  { family: 4, priority: 0, table: 255, action: 'lookup', protocol: 'kernel' },
  { family: 4, priority: 32766, table: 254, action: 'lookup', protocol: 'kernel' },
  { family: 4, priority: 32767, table: 253, action: 'lookup', protocol: 'kernel' },
  { family: 6, priority: 0, table: 255, action: 'lookup', protocol: 'kernel' },
  { family: 6, priority: 32766, table: 254, action: 'lookup', protocol: 'kernel' },
];

// What the library adds, and the rule ip must then report (fields of ip's reading).
const CASES: [string, RuleSpec, Partial<Rule>][] = [
  [
    'prefixes, tos and a table',
    { priority: 100, src: '10.0.0.0/8', dst: '192.168.0.0/16', tos: 0x10, table: 100 },
    { src: '10.0.0.0/8', dst: '192.168.0.0/16', tos: 0x10, table: 100, action: 'lookup' },
  ],
  [
    'an inverted goto',
    { priority: 101, invert: true, src: '10.1.0.0/16', goto: 200 },
    { invert: true, src: '10.1.0.0/16', action: 'goto', goto: 200, unresolved: true, table: 0 },
  ],
  [
    'fwmark/mask, iif and oif by name, a table id above 255',
    { priority: 102, fwmark: 0x10, fwmask: 0xff, iif: 'lo', oif: 'lo', table: 4294967295 },
    { fwmark: 0x10, fwmask: 0xff, iif: 'lo', oif: 'lo', table: 4294967295 },
  ],
  [
    'uid range, ip protocol, port ranges',
    {
      priority: 103,
      uidRange: { start: 100, end: 200 },
      ipProto: 'tcp',
      sportRange: { start: 1000, end: 2000 },
      dportRange: 80,
      table: 5,
    },
    {
      uidRange: { start: 100, end: 200 },
      ipProto: 'tcp',
      sportRange: { start: 1000, end: 2000 },
      dportRange: { start: 80, end: 80 },
    },
  ],
  [
    'suppress_prefixlength and suppress_ifgroup',
    { priority: 104, table: 'main', suppressPrefixlength: 0, suppressIfgroup: 5 },
    { table: 254, suppressPrefixlength: 0, suppressIfgroup: 5 },
  ],
  ['blackhole', { priority: 105, action: 'blackhole' }, { action: 'blackhole', table: 0 }],
  ['prohibit', { priority: 106, action: 'prohibit' }, { action: 'prohibit', table: 0 }],
  ['unreachable', { priority: 107, action: 'unreachable' }, { action: 'unreachable', table: 0 }],
  ['nop', { priority: 108, action: 'nop' }, { action: 'nop', table: 0 }],
  ['realms', { priority: 109, realms: { from: 1, to: 2 }, table: 7 }, { realms: { from: 1, to: 2 }, table: 7 }],
  ['l3mdev', { priority: 110, l3mdev: true }, { l3mdev: true, table: 0, action: 'lookup' }],
  ['a detached iif', { priority: 111, iif: 'nosuchdev', table: 9 }, { iif: 'nosuchdev', iifDetached: true }],
  ['tun_id and protocol', { priority: 113, tunId: 5, table: 3, protocol: 'bgp' }, { tunId: 5, protocol: 'bgp' }],
  ['iif by index', { priority: 114, iif: 1, table: 3 }, { iif: 'lo' }],
  ['a fwmark alone (full mask)', { priority: 115, fwmark: 7, table: 3 }, { fwmark: 7 }],
  [
    'IPv6 prefixes and a protocol name',
    { priority: 100, src: '2001:db8::/32', dst: '2001:db8:1::1', ipProto: 'ipv6-icmp', table: 100 },
    { family: 6, src: '2001:db8::/32', dst: '2001:db8:1::1/128', ipProto: 'ipv6-icmp' },
  ],
  [
    'IPv6 local table, oif, one port',
    { family: 6, priority: 101, oif: 'lo', dportRange: 53, table: 'local' },
    { family: 6, oif: 'lo', table: 255 },
  ],
  ['a kernel-chosen priority', { src: '10.99.0.0/16', table: 99 }, { src: '10.99.0.0/16', table: 99 }],
];

describeRoot('rules in a namespace', () => {
  const ns = useNetns();
  let h: nl.Handle;

  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists the default rules every namespace has, as ip -j -d rule shows them', async () => {
    expect(await h.rule.list()).toEqual(DEFAULTS);
    expect([...ipRules(4, ns.name), ...ipRules(6, ns.name)]).toEqual(DEFAULTS);
    expect(await h.rule.list({ family: 6 })).toEqual(DEFAULTS.filter((r) => r.family === 6));
    expect(await h.rule.list({ table: 'main' })).toEqual(DEFAULTS.filter((r) => r.table === 254));
    expect(await h.rule.list({ priority: 32767 })).toEqual([DEFAULTS[2]]);
  });

  describe('added by the library, read by ip', () => {
    it.each(CASES)('%s', async (_name, spec, expected) => {
      const before = await h.rule.list();
      await h.rule.add(spec);
      const added = (await h.rule.list()).filter((r) => !before.some((b) => JSON.stringify(b) === JSON.stringify(r)));
      expect(added).toHaveLength(1);
      const [rule] = added;
      const family = rule.family;
      const theirs = ipRules(family, ns.name).find((r) => r.priority === rule.priority);
      expect(theirs).toEqual(rule);
      expect(theirs).toMatchObject({ family: 4, action: 'lookup', ...expected });
      if (spec.priority !== undefined) expect(rule.priority).toBe(spec.priority);
      // A rule from list() deletes exactly itself.
      await h.rule.del(rule);
      expect(ipRules(family, ns.name).find((r) => r.priority === rule.priority)).toBeUndefined();
    });

    it('what iproute2 6.1 cannot show (dscp, port masks, flow labels) reads back as added', async () => {
      const specs: RuleSpec[] = [
        { priority: 200, dscp: 10, table: 5 },
        { priority: 201, dscp: 8, dscpMask: 0x38, table: 5 },
        { priority: 202, ipProto: 'udp', dportRange: 0x100, dportMask: 0xff00, table: 5 },
        { family: 6, priority: 200, flowlabel: 0x12345, flowlabelMask: 0xfffff, table: 5 },
      ];
      for (const spec of specs) {
        await h.rule.add(spec);
        const [rule] = await h.rule.list({ family: spec.family ?? 4, priority: spec.priority });
        const { dportRange, ...rest } = spec;
        expect(rule).toEqual({
          family: 4,
          action: 'lookup',
          protocol: 'unspec',
          ...rest,
          ...(dportRange === undefined ? {} : { dportRange: { start: dportRange, end: dportRange } }),
        });
        // ip sees a rule there, even if it cannot print these selectors.
        expect(ipRules(rule.family, ns.name).map((r) => r.priority)).toContain(spec.priority);
        await h.rule.del(rule);
      }
    });
  });

  describe('added by ip, read by the library', () => {
    const commands: string[][] = [
      ['-4', '100', 'from', '10.0.0.0/8', 'to', '192.168.0.0/16', 'tos', '0x10', 'table', '100'],
      ['-4', '101', 'not', 'from', '10.1.0.0/16', 'goto', '200'],
      ['-4', '102', 'fwmark', '0x10/0xff', 'iif', 'lo', 'oif', 'lo', 'table', '4294967295'],
      ['-4', '103', 'uidrange', '100-200', 'ipproto', 'udp', 'sport', '1000-2000', 'dport', '80', 'table', '5'],
      ['-4', '104', 'table', 'main', 'suppress_prefixlength', '8', 'suppress_ifgroup', '5'],
      ['-4', '105', 'blackhole'],
      ['-4', '106', 'prohibit'],
      ['-4', '107', 'unreachable'],
      ['-4', '108', 'nop'],
      ['-4', '109', 'realms', '3/4', 'table', '7'],
      ['-4', '110', 'l3mdev'],
      ['-4', '111', 'iif', 'nosuchdev', 'oif', 'nosuchdev2', 'table', '9'],
      ['-4', '200', 'tun_id', '5', 'table', '3', 'protocol', 'static'],
      ['-6', '100', 'from', '2001:db8::/32', 'to', '2001:db8:1::/48', 'ipproto', 'tcp', 'table', '100'],
      ['-6', '101', 'not', 'oif', 'lo', 'dport', '53-54', 'goto', '102'],
      ['-6', '102', 'fwmark', '0x5', 'prohibit'],
    ];

    beforeAll(() => {
      for (const [family, priority, ...rest] of commands)
        ip([family, 'rule', 'add', 'priority', priority, ...rest], ns.name);
    });

    it('decodes every rule exactly as ip -j -d rule shows it', async () => {
      const ours = await h.rule.list();
      const theirs = [...ipRules(4, ns.name), ...ipRules(6, ns.name)];
      expect(ours).toEqual(theirs);
      expect(ours).toHaveLength(DEFAULTS.length + commands.length);
    });

    it('streams the same rules as list()', async () => {
      const streamed: Rule[] = [];
      for await (const r of h.rule.stream()) streamed.push(r);
      expect(streamed).toEqual(await h.rule.list());
    });

    it('deletes them by priority, and every listed rule by itself, back to the defaults', async () => {
      await h.rule.del({ priority: 100 });
      expect(ipRules(4, ns.name).map((r) => r.priority)).not.toContain(100);
      expect(ipRules(6, ns.name).map((r) => r.priority)).toContain(100); // the family defaults to 4
      for (const r of await h.rule.list()) if (r.protocol !== 'kernel') await h.rule.del(r);
      expect([...ipRules(4, ns.name), ...ipRules(6, ns.name)]).toEqual(DEFAULTS);
    });
  });

  describe('kernel refusals', () => {
    it('a duplicate: EEXIST', async () => {
      await h.rule.add({ priority: 300, table: 30 });
      const error = await h.rule.add({ priority: 300, table: 30 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetlinkError);
      expect(error).toMatchObject({ code: 'EEXIST', operation: 'RTM_NEWRULE' });
      await h.rule.del({ priority: 300 });
    });

    it('a missing rule: ENOENT', async () => {
      await expect(h.rule.del({ priority: 301 })).rejects.toMatchObject({ code: 'ENOENT', operation: 'RTM_DELRULE' });
    });

    it.each([
      ['a backward goto', { priority: 302, goto: 10 }, 'Backward goto not supported'],
      ['tos with dscp', { priority: 303, tos: 0x10, dscp: 8, table: 3 }, 'Cannot specify both TOS and DSCP'],
      ['l3mdev with a table', { priority: 304, l3mdev: true, table: 3 }, 'l3mdev and table are mutually exclusive'],
    ] as [string, RuleSpec, string][])('%s: EINVAL with the kernel text', async (_name, spec, text) => {
      const error = (await h.rule.add(spec).catch((e: unknown) => e)) as NetlinkError;
      expect(error).toBeInstanceOf(NetlinkError);
      expect(error).toMatchObject({ code: 'EINVAL', errno: 22, operation: 'RTM_NEWRULE', extack: text });
      expect(error.message).toContain(text);
    });

    it('bad input never reaches the kernel: the rules stay as they were', async () => {
      const before = await h.rule.list();
      await expect(h.rule.add({ src: '10.0.0.0/33', table: 5 })).rejects.toThrow(RangeError);
      await expect(h.rule.add({ src: '10.0.0.0/8', dst: '2001:db8::/32' })).rejects.toThrow(TypeError);
      await expect(h.rule.add({ src: 'not-an-address' })).rejects.toThrow(TypeError);
      await expect(h.rule.add({ iif: 99999 })).rejects.toMatchObject({ code: 'ENODEV' });
      expect(await h.rule.list()).toEqual(before);
    });
  });

  it('multicast rules (ip mrule): listed apart, added and deleted', async () => {
    const ipMrules = (family: 4 | 6) =>
      (ipJson(['-d', `-${family}`, 'mrule', 'show'], ns.name) as IpRule[]).map((r) => ({
        ...ruleFromIp(r, family),
        multicast: true,
      }));
    // ipmr rules match on interfaces and marks only (the kernel ignores prefixes there).
    await h.rule.add({ multicast: true, priority: 100, iif: 'lo', fwmark: 3, table: 5 });
    const ours = await h.rule.list({ multicast: true });
    expect(ours).toEqual([...ipMrules(4), ...ipMrules(6)]);
    expect(ours.find((r) => r.priority === 100)).toMatchObject({ family: 4, iif: 'lo', fwmark: 3, table: 5 });
    expect((await h.rule.list()).some((r) => r.multicast)).toBe(false);
    await h.rule.del(ours.find((r) => r.priority === 100)!);
    expect(ipMrules(4).map((r) => r.priority)).toEqual([32767]);
  });

  it('is on the module and the handle', () => {
    expect(nl.rule).toBeInstanceOf(h.rule.constructor);
  });
});
