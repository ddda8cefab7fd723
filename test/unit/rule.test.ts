/**
 * Rules without a kernel: decoding bytes this kernel sent (test/fixtures/rules.json) against what
 * `ip -j -d rule` printed for them, building the bytes iproute2 sends (test/fixtures/requests.json,
 * recorded with strace), and bad input refused before any socket is touched.
 * Regenerate the fixtures with `node scripts/capture-rule-neigh-fixtures.js`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinkApi } from '../../lib/link';
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_DELRULE,
  RTM_NEWRULE,
} from '../../lib/netlink/constants';
import { findDecoder } from '../../lib/registry';
import { NETLINK_ROUTE } from '../../lib/netlink/constants';
import { buildRuleMessage, decodeRule, ipProtocols, RuleApi, type ResolvedRuleSpec, type Rule } from '../../lib/rule';
import { requestShape, ruleFromIp, type IpRule } from '../harness/rule-neigh-oracle';

interface RuleFixture {
  family: 4 | 6;
  priority: number;
  hex: string;
  ip: IpRule | null;
}
const fixtures = path.join(__dirname, '..', 'fixtures');
const rules = JSON.parse(fs.readFileSync(path.join(fixtures, 'rules.json'), 'utf8')) as { messages: RuleFixture[] };
const requests = JSON.parse(fs.readFileSync(path.join(fixtures, 'requests.json'), 'utf8')) as {
  messages: { command: string; hex: string }[];
};

const decodeHex = (hex: string): Rule => {
  const buf = Buffer.from(hex, 'hex');
  return decodeRule(buf, 0, buf.length);
};
const NEW = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

describe('rule decoding: kernel bytes against ip -j -d rule', () => {
  const withIp = rules.messages.filter((m) => m.ip !== null);

  it('covers every kind of rule the capture made', () => {
    expect(withIp.length).toBeGreaterThanOrEqual(20);
    // The default rules every namespace has are among them.
    expect(withIp.filter((m) => [0, 32766, 32767].includes(m.priority)).map((m) => m.priority)).toEqual([
      0, 32766, 32767, 0, 32766,
    ]);
  });

  it.each(withIp.map((m) => [`IPv${m.family} priority ${m.priority}`, m] as const))('%s', (_name, m) => {
    expect(decodeHex(m.hex)).toEqual(ruleFromIp(m.ip!, m.family));
  });

  it('decodes what iproute2 6.1 cannot print: dscp, dscp mask, port mask, flow label', () => {
    const byKey = (family: number, priority: number) =>
      decodeHex(rules.messages.find((m) => m.family === family && m.priority === priority)!.hex);
    const base = { action: 'lookup', table: 5, protocol: 'unspec' };
    expect(byKey(4, 200)).toEqual({ ...base, family: 4, priority: 200, dscp: 10 });
    expect(byKey(4, 201)).toEqual({ ...base, family: 4, priority: 201, dscp: 8, dscpMask: 0x38 });
    expect(byKey(4, 202)).toEqual({
      ...base,
      family: 4,
      priority: 202,
      ipProto: 'tcp',
      dportRange: { start: 0x100, end: 0x100 },
      dportMask: 0xff00,
    });
    expect(byKey(6, 200)).toEqual({
      ...base,
      family: 6,
      priority: 200,
      flowlabel: 0x12345,
      flowlabelMask: 0xfffff,
    });
  });

  it('is registered for RTM_NEWRULE and RTM_DELRULE (monitor, escape hatch)', () => {
    expect(findDecoder(NETLINK_ROUTE, RTM_NEWRULE)).toMatchObject({ object: 'rule', event: 'new' });
    expect(findDecoder(NETLINK_ROUTE, RTM_DELRULE)).toMatchObject({ object: 'rule', event: 'del' });
  });

  it('a decoded rule builds a request that decodes to itself (del(rule) names exactly it)', () => {
    for (const m of rules.messages) {
      const rule = decodeHex(m.hex);
      const { iifDetached, oifDetached, unresolved, ...spec } = rule;
      void [iifDetached, oifDetached, unresolved];
      const again = decodeHex(buildRuleMessage(RTM_NEWRULE, NEW, spec as ResolvedRuleSpec).toString('hex'));
      // A lookup without a table gets main on add; l3mdev rules carry none.
      expect(again).toEqual({ ...spec, table: rule.table || (rule.action === 'lookup' && !rule.l3mdev ? 254 : 0) });
    }
  });
});

describe('rule requests: the bytes iproute2 sends', () => {
  const specs: [string, number, ResolvedRuleSpec][] = [
    [
      'ip rule add priority 700 from 10.0.0.0/8 table 100',
      RTM_NEWRULE,
      { priority: 700, src: '10.0.0.0/8', table: 100 },
    ],
    [
      'ip rule add priority 701 not to 192.168.1.0/24 fwmark 0x10/0xff iif lo oif lo tos 0x10 table 4294967295',
      RTM_NEWRULE,
      {
        priority: 701,
        invert: true,
        dst: '192.168.1.0/24',
        fwmark: 0x10,
        fwmask: 0xff,
        iif: 'lo',
        oif: 'lo',
        tos: 0x10,
        table: 4294967295,
      },
    ],
    [
      'ip rule add priority 702 uidrange 100-200 ipproto tcp sport 1000-2000 dport 80 table main suppress_prefixlength 0 suppress_ifgroup 5',
      RTM_NEWRULE,
      {
        priority: 702,
        uidRange: { start: 100, end: 200 },
        ipProto: 'tcp',
        sportRange: { start: 1000, end: 2000 },
        dportRange: 80,
        table: 'main',
        suppressPrefixlength: 0,
        suppressIfgroup: 5,
      },
    ],
    ['ip rule add priority 703 goto 800', RTM_NEWRULE, { priority: 703, goto: 800 }],
    ['ip rule add priority 704 blackhole', RTM_NEWRULE, { priority: 704, action: 'blackhole' }],
    ['ip rule add priority 705 l3mdev', RTM_NEWRULE, { priority: 705, l3mdev: true }],
    [
      'ip rule add priority 706 realms 1/2 tun_id 5 protocol bgp table 7',
      RTM_NEWRULE,
      { priority: 706, realms: { from: 1, to: 2 }, tunId: 5, protocol: 'bgp', table: 7 },
    ],
    [
      'ip -6 rule add priority 707 from 2001:db8::/32 to 2001:db8:1::1/128 nop',
      RTM_NEWRULE,
      { priority: 707, src: '2001:db8::/32', dst: '2001:db8:1::1', action: 'nop' },
    ],
    ['ip rule add from 10.2.0.0/16 lookup 300', RTM_NEWRULE, { src: '10.2.0.0/16', table: 300 }],
    ['ip rule del priority 700', RTM_DELRULE, { priority: 700 }],
    ['ip rule del from 10.2.0.0/16 table 300', RTM_DELRULE, { src: '10.2.0.0/16', table: 300 }],
  ];

  it.each(specs)('%s', (command, type, spec) => {
    const theirs = requests.messages.find((m) => m.command === command);
    expect(theirs).toBeDefined();
    const flags = type === RTM_NEWRULE ? NEW : NLM_F_REQUEST | NLM_F_ACK;
    const ours = buildRuleMessage(type, flags, spec);
    expect(requestShape(ours, 12)).toEqual(requestShape(Buffer.from(theirs!.hex, 'hex'), 12));
  });
});

describe('rule input validation before any syscall', () => {
  const noSocket = () => {
    throw new Error('reached the socket');
  };
  const link = new LinkApi(() => ({ route: noSocket }));
  const api = new RuleApi(() => ({ route: noSocket, link }));
  const typeError = (code = 'ERR_INVALID_ARG_VALUE') => expect.objectContaining({ name: 'TypeError', code });
  const rangeError = () => expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' });

  it.each([
    ['a bad address', { src: '10.0.0.300/8' }],
    ['a bad prefix', { dst: '10.0.0.0/x' }],
    ['mixed families', { src: '10.0.0.0/8', dst: '2001:db8::/32' }],
    ['a family that contradicts src', { family: 6, src: '10.0.0.0/8' }],
    ['family 5', { family: 5 }],
    ['an unknown table name', { table: 'nosuchtable' }],
    ['an unknown action', { action: 'frobnicate' }],
    ['goto without its action', { action: 'blackhole', goto: 5 }],
    ['action goto without a target', { action: 'goto' }],
    ['a table on a blackhole rule', { action: 'blackhole', table: 5 }],
    ['an unknown option', { priority: 5, suppressPrefixLength: 0 }],
    ['an unknown ip protocol', { ipProto: 'nosuchproto' }],
    ['a bad iif name', { iif: 'a/b' }],
    ['a flow label on IPv4', { flowlabel: 5 }],
  ])('add rejects %s with a TypeError', async (_what, spec) => {
    await expect(api.add(spec as never)).rejects.toEqual(typeError());
  });

  it.each([
    ['a prefix longer than IPv4 allows', { src: '10.0.0.0/33' }],
    ['a prefix longer than IPv6 allows', { dst: '2001:db8::/129' }],
    ['a priority above u32', { priority: 2 ** 32 }],
    ['a negative fwmark', { fwmark: -1 }],
    ['tos above 255', { tos: 256 }],
    ['dscp above 63', { dscp: 64 }],
    ['a port above 65535', { dportRange: 65536 }],
    ['a reversed port range', { sportRange: { start: 20, end: 10 } }],
    ['a reversed uid range', { uidRange: { start: 20, end: 10 } }],
    ['suppress_prefixlength above 32 on IPv4', { suppressPrefixlength: 33 }],
    ['a fractional goto', { goto: 1.5 }],
  ])('add rejects %s with a RangeError', async (_what, spec) => {
    await expect(api.add(spec as never)).rejects.toEqual(rangeError());
  });

  it('rejects wrong types with ERR_INVALID_ARG_TYPE', async () => {
    await expect(api.add(null as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.add({ src: 10 } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.add({ fwmark: '0x10' } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.add({ l3mdev: 1 } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.del({ invert: 'yes' } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(api.list({ family: 7 } as never)).rejects.toEqual(typeError());
    await expect(api.list({ table: -1 } as never)).rejects.toEqual(typeError());
  });
});

describe('ipProtocols', () => {
  it('names protocols as /etc/protocols does (what ip prints)', () => {
    if (!fs.existsSync('/etc/protocols')) return; // nothing to compare with on this machine
    const system = new Map<number, string>();
    for (const line of fs.readFileSync('/etc/protocols', 'utf8').split('\n')) {
      const m = /^([\w.-]+)\s+(\d+)/.exec(line);
      if (m && !system.has(Number(m[2]))) system.set(Number(m[2]), m[1]);
    }
    let compared = 0;
    for (const name of ipProtocols.names()) {
      const value = ipProtocols.value(name, 'p');
      if (!system.has(value)) continue;
      // /etc/protocols lists 0 as 'ip' and 4 as 'ipencap', as the table does.
      expect(`${value} ${name}`).toBe(`${value} ${system.get(value)}`);
      compared++;
    }
    expect(compared).toBeGreaterThan(20);
  });
});
