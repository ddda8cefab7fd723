/**
 * nftables without a kernel: the batches `nft` sends for everyday rules (test/fixtures/nft-requests.json,
 * recorded with strace by scripts/capture-nft-fixtures.js) against the batches nft.apply builds for the
 * same rules, attribute for attribute; nft's expressions decoded back to the typed form; interval
 * elements; and bad input refused before any socket is touched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writer } from '../../lib/netlink/attributes';
import { NLMSG_HDRLEN } from '../../lib/netlink/message';
import { NftApi, NftTransactionError, type NftContext, type NftOperation, type NftRuleBody } from '../../lib/nft';
import { decodeRuleExpressions } from '../../lib/nft/rule';
import {
  batchBegin,
  batchEnd,
  decodeElements,
  decodeRawRule,
  encodeElements,
  nftSchemas,
} from '../../lib/nft/messages';
import { DATA_TYPES } from '../../lib/nft/names';
import { NetlinkError } from '../../lib/errors';
import type { BatchOutcome } from '../../lib/engine/client';

const fixtures = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'nft-requests.json'), 'utf8')) as {
  batches: { command: string; messages: string[] }[];
};

/** A context whose netfilter client records batches; anything else it is asked for fails the test. */
function fakeContext(answer?: (messages: Buffer[]) => BatchOutcome[]) {
  const sent: Buffer[][] = [];
  const ctx = {
    client: () => ({
      sendBatch: async (messages: Buffer[]) => {
        sent.push(messages.map((m) => Buffer.from(m)));
        return answer ? answer(messages) : messages.map(() => ({ answered: true }));
      },
    }),
    link: { indexOf: async (name: string) => (name === 'lo' ? 1 : 7) },
  } as unknown as NftContext;
  return { api: new NftApi(() => ctx), sent };
}

/** A message whose attributes went through the schema both ways: flag bits on types as the library writes them. */
function canonicalRule(hex: string): Buffer {
  const buf = Buffer.from(hex, 'hex');
  const start = NLMSG_HDRLEN + 4;
  const set = nftSchemas.attributeSet('rule-attrs');
  const w = new Writer();
  set.encode(w, set.decode(buf, start, buf.length));
  return Buffer.concat([buf.subarray(0, start), w.take()]);
}

function ruleAttributes(message: Buffer): Buffer {
  return message.subarray(NLMSG_HDRLEN + 4);
}

const FW = { family: 'inet', table: 'fw' } as const;
// The same rules as the fixture's commands, in the typed form.
const RULES: [string, NftOperation][] = [
  [
    'meta l4proto tcp ip saddr 10.0.0.0/8 tcp dport 7777 counter drop',
    {
      add: 'rule',
      ...FW,
      chain: 'input',
      match: { l4proto: 'tcp', saddr: '10.0.0.0/8', dport: 7777 },
      counter: true,
      verdict: 'drop',
    },
  ],
  [
    'meta l4proto udp udp sport 1000-2000 accept',
    {
      add: 'rule',
      ...FW,
      chain: 'input',
      match: { l4proto: 'udp', sport: { range: [1000, 2000] } },
      verdict: 'accept',
    },
  ],
  [
    'iifname lo meta mark 0x10 accept',
    { add: 'rule', ...FW, chain: 'input', match: { iifname: 'lo', mark: 16 }, verdict: 'accept' },
  ],
  [
    'ct state established,related accept',
    { add: 'rule', ...FW, chain: 'input', match: { ctState: ['established', 'related'] }, verdict: 'accept' },
  ],
  [
    'ip daddr 10.0.0.0/12 continue',
    { add: 'rule', ...FW, chain: 'input', match: { daddr: '10.0.0.0/12' }, verdict: 'continue' },
  ],
  [
    'ip6 saddr 2001:db8::/32 drop',
    { add: 'rule', ...FW, chain: 'input', match: { saddr: '2001:db8::/32' }, verdict: 'drop' },
  ],
  [
    'limit rate 10/second burst 5 packets log prefix hi level info meta mark set 0x20 jump other',
    {
      add: 'rule',
      ...FW,
      chain: 'input',
      limit: { rate: 10, per: 'second', burst: 5 },
      log: { prefix: 'hi', level: 'info' },
      setMark: 0x20,
      verdict: 'jump',
      target: 'other',
    },
  ],
  [
    'meta l4proto tcp reject with tcp reset',
    { add: 'rule', ...FW, chain: 'input', match: { l4proto: 'tcp' }, verdict: 'reject', reject: { type: 'tcp-reset' } },
  ],
  [
    'reject with icmpx type admin-prohibited',
    { add: 'rule', ...FW, chain: 'input', verdict: 'reject', reject: { type: 'icmpx', code: 'admin-prohibited' } },
  ],
  [
    'oifname veth1 masquerade',
    { add: 'rule', ...FW, chain: 'post', match: { oifname: 'veth1' }, nat: { type: 'masquerade' } },
  ],
  [
    'meta l4proto udp ip saddr 10.0.0.0/8 snat ip to 1.2.3.4',
    {
      add: 'rule',
      ...FW,
      chain: 'post',
      match: { l4proto: 'udp', saddr: '10.0.0.0/8' },
      nat: { type: 'snat', address: '1.2.3.4' },
    },
  ],
  [
    'meta l4proto tcp tcp dport 80 dnat ip to 10.0.0.2:8080',
    {
      add: 'rule',
      ...FW,
      chain: 'pre',
      match: { l4proto: 'tcp', dport: 80 },
      nat: { type: 'dnat', address: '10.0.0.2', port: 8080 },
    },
  ],
  [
    'meta l4proto tcp tcp dport 81 redirect to :8081',
    { add: 'rule', ...FW, chain: 'pre', match: { l4proto: 'tcp', dport: 81 }, nat: { type: 'redirect', port: 8081 } },
  ],
  [
    'ip saddr 192.168.1.1 return',
    { add: 'rule', family: 'ip', table: 't4', chain: 'c', match: { saddr: '192.168.1.1' }, verdict: 'return' },
  ],
];

function typedBody(op: NftOperation): NftRuleBody {
  const { add: _a, family: _f, table: _t, chain: _c, ...body } = op as unknown as Record<string, unknown>;
  return body as NftRuleBody;
}

describe('nft.apply builds the batch nft sends', () => {
  it('has a fixture for every typed rule', () => {
    expect(fixtures.batches.map((b) => b.command.replace(/^add rule \S+ \S+ \S+ /, ''))).toEqual(RULES.map(([c]) => c));
  });

  it('frames a transaction like nft: BATCH_BEGIN with res_id NFNL_SUBSYS_NFTABLES, BATCH_END', () => {
    const [begin, , end] = fixtures.batches[0].messages.map((h) => Buffer.from(h, 'hex'));
    expect(batchBegin()).toEqual(begin);
    end.writeUInt32LE(0, 8); // nft numbers it; the engine stamps ours when sending
    expect(batchEnd()).toEqual(end);
    // With a generation, the begin message carries NFNL_BATCH_GENID (big-endian).
    expect(batchBegin(0x01020304).subarray(20).toString('hex')).toBe('0800014001020304');
  });

  it.each(RULES.map(([command, op], i) => [command, op, fixtures.batches[i]] as const))(
    '%s',
    async (_command, op, batch) => {
      const { api, sent } = fakeContext();
      await api.apply([op]);
      expect(sent).toHaveLength(1);
      const [begin, rule, end] = sent[0];
      expect(sent[0]).toHaveLength(3);
      expect(begin).toEqual(batchBegin());
      expect(end).toEqual(batchEnd());
      const theirs = canonicalRule(batch.messages[1]);
      // Same type, flags (REQUEST|CREATE|APPEND), family; then the same attributes in the same order.
      expect(rule.readUInt16LE(4)).toBe(theirs.readUInt16LE(4));
      expect(rule.readUInt16LE(6)).toBe(theirs.readUInt16LE(6));
      expect(rule[16]).toBe(theirs[16]);
      expect(ruleAttributes(rule).toString('hex')).toBe(ruleAttributes(theirs).toString('hex'));
    },
  );

  it.each(RULES.map(([command, op], i) => [command, op, fixtures.batches[i]] as const))(
    "decodes nft's %s to the typed form",
    (_command, op, batch) => {
      const buf = Buffer.from(batch.messages[1], 'hex');
      const raw = decodeRawRule(buf, 0, buf.length);
      const body = typedBody(op);
      // An anonymous counter decodes with its numbers.
      const stats = body.counter === true ? { stats: { packets: 0, bytes: 0 } } : {};
      expect(decodeRuleExpressions(raw.expressions, { family: op.family, anonymousSet: () => undefined })).toEqual({
        ...body,
        ...stats,
      });
    },
  );

  it('decodes what the typed form cannot say as raw expressions (undefined from the typed decoder)', () => {
    expect(
      decodeRuleExpressions([{ name: 'fib', data: { dreg: 1, result: 'oif', flags: ['daddr'] } }], {
        family: 'inet',
        anonymousSet: () => undefined,
      }),
    ).toBeUndefined();
  });

  it('puts an anonymous set (with its elements) before the rule that looks it up, in the same batch', async () => {
    const { api, sent } = fakeContext();
    await api.apply([
      {
        add: 'rule',
        ...FW,
        chain: 'input',
        match: { l4proto: 'tcp', dport: [22, 80, [8000, 8080]] },
        verdict: 'accept',
      },
    ]);
    const types = sent[0].map((m) => m.readUInt16LE(4) & 0xff);
    expect(types).toEqual([0x10, 9 /* NEWSET */, 12 /* NEWSETELEM */, 6 /* NEWRULE */, 0x11]);
    const set = nftSchemas.attributeSet('set-attrs').decode(sent[0][1], 20, sent[0][1].length);
    expect(set).toMatchObject({
      name: '__set%d',
      flags: ['anonymous', 'constant', 'interval'],
      keyType: 13,
      keyLen: 2,
    });
  });

  it('resolves iif/oif names to indexes before building', async () => {
    const { api, sent } = fakeContext();
    await api.apply([{ add: 'rule', ...FW, chain: 'input', match: { iif: 'lo', oif: 'eth9' }, verdict: 'accept' }]);
    const raw = decodeRawRule(sent[0][1], 0, sent[0][1].length);
    expect(decodeRuleExpressions(raw.expressions, { family: 'inet', anonymousSet: () => undefined })).toEqual({
      match: { iif: 1, oif: 7 },
      verdict: 'accept',
    });
  });

  it('maps a refused message back to the operation that made it', async () => {
    // Messages: begin, table, chain, anonymous set, its elements, rule, end. The rule (operation 2) fails.
    const { api } = fakeContext((messages) =>
      messages.map((_m, i) =>
        i === 5
          ? { answered: true, error: new NetlinkError(2, 'NFT_MSG_NEWRULE', 'No such chain') }
          : { answered: true },
      ),
    );
    const ops: NftOperation[] = [
      { add: 'table', family: 'inet', name: 'fw' },
      { add: 'chain', ...FW, name: 'input' },
      { add: 'rule', ...FW, chain: 'nope', match: { l4proto: 'tcp', dport: [1, 2] }, verdict: 'drop' },
    ];
    const error = await api.apply(ops).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NftTransactionError);
    expect(error).toBeInstanceOf(NetlinkError);
    expect(error).toMatchObject({
      index: 2,
      op: ops[2],
      code: 'ENOENT',
      operation: 'NFT_MSG_NEWRULE',
      extack: 'No such chain',
    });
    expect((error as Error).message).toMatch(/operation 2 \(add rule inet table fw chain nope\).*No such chain/);
  });
});

describe('set elements', () => {
  const v4 = { key: DATA_TYPES.ipv4_addr, interval: true };
  it('sends an interval as its start and an INTERVAL_END one past its end', () => {
    const els = encodeElements(v4, ['10.1.0.0/16', ['172.16.0.1', '172.16.0.9'], '192.168.1.1'], 'elements');
    const keys = els.map((e) => [((e.key as { value: Buffer }).value as Buffer).toString('hex'), e.flags ?? 0]);
    expect(keys).toEqual([
      ['0a010000', 0],
      ['0a020000', 1],
      ['ac100001', 0],
      ['ac10000a', 1],
      ['c0a80101', 0],
      ['c0a80102', 1],
    ]);
    // And back: prefixes where a range is exactly one, [first, last] otherwise.
    const decoded = decodeElements(
      v4,
      els.map((e) => ({ key: e.key, ...(e.flags ? { flags: e.flags } : {}) }) as never),
    );
    expect(decoded).toEqual(['10.1.0.0/16', ['172.16.0.1', '172.16.0.9'], '192.168.1.1']);
  });

  it('ignores the end-only sentinel nft adds at 0 and decodes an open end to the last value', () => {
    const el = (hex: string, flags?: number) => ({
      key: { value: Buffer.from(hex, 'hex') },
      ...(flags ? { flags } : {}),
    });
    expect(decodeElements(v4, [el('00000000', 1), el('0a000000'), el('0b000000', 1), el('f0000000')] as never)).toEqual(
      ['10.0.0.0/8', '240.0.0.0/4'],
    );
  });

  it('encodes map data: verdicts and values; timeouts in milliseconds', () => {
    const vmap = { key: DATA_TYPES.inet_service, data: 'verdict' as const, interval: false };
    expect(
      encodeElements(
        vmap,
        [
          { key: 22, value: 'accept' },
          { key: 23, value: { verdict: 'jump', target: 'x' }, timeout: 1.5 },
        ],
        'e',
      ),
    ).toEqual([
      { key: { value: Buffer.from('0016', 'hex') }, data: { verdict: { code: 'accept' } } },
      { key: { value: Buffer.from('0017', 'hex') }, data: { verdict: { code: 'jump', chain: 'x' } }, timeout: 1500 },
    ]);
  });

  it('refuses overlaps, ranges in a set without the interval flag, and map values in a set', () => {
    expect(() => encodeElements(v4, ['10.0.0.0/8', '10.1.0.0/16'], 'e')).toThrow(/overlapping/);
    expect(() => encodeElements({ ...v4, interval: false }, ['10.0.0.0/8'], 'e')).toThrow(/interval/);
    expect(() => encodeElements(v4, [{ key: '10.0.0.1', value: 'accept' }], 'e')).toThrow(/map/);
  });
});

describe('bad input is refused before any syscall', () => {
  const { api, sent } = fakeContext();
  const base = { add: 'rule', ...FW, chain: 'input' } as const;
  const cases: [string, unknown, RegExp, 'TypeError' | 'RangeError'][] = [
    ['unknown family', { add: 'table', family: 'ipx', name: 't' }, /family.*one of ip, ip6, inet/, 'TypeError'],
    ['no verb', { family: 'inet', name: 't' }, /exactly one of add/, 'TypeError'],
    ['unknown object', { add: 'tabel', family: 'inet', name: 't' }, /not something nft.apply can add/, 'TypeError'],
    [
      'unknown hook',
      { add: 'chain', ...FW, name: 'c', type: 'filter', hook: 'inptu', priority: 0 },
      /hook of the inet family/,
      'TypeError',
    ],
    [
      'netdev hook in ip',
      { add: 'chain', family: 'ip', table: 't', name: 'c', hook: 'ingress', priority: 0 },
      /hook of the ip family/,
      'TypeError',
    ],
    [
      'priority out of range',
      { add: 'chain', ...FW, name: 'c', type: 'filter', hook: 'input', priority: 2 ** 31 },
      /priority.*out of range/,
      'RangeError',
    ],
    [
      'unknown priority name',
      { add: 'chain', ...FW, name: 'c', hook: 'input', priority: 'firewall' },
      /priority/,
      'TypeError',
    ],
    [
      'bad policy',
      { add: 'chain', ...FW, name: 'c', hook: 'input', priority: 0, policy: 'reject' },
      /policy/,
      'TypeError',
    ],
    ['chain type', { add: 'chain', ...FW, name: 'c', type: 'mangle', hook: 'input', priority: 0 }, /type/, 'TypeError'],
    [
      'netdev chain without device',
      { add: 'chain', family: 'netdev', table: 't', name: 'c', hook: 'ingress', priority: 0 },
      /device/,
      'TypeError',
    ],
    ['policy on a regular chain', { add: 'chain', ...FW, name: 'c', policy: 'drop' }, /base chain/, 'TypeError'],
    ['malformed address', { ...base, match: { saddr: '10.0.0.300/8' } }, /saddr.*CIDR/, 'TypeError'],
    ['host bits past the prefix', { ...base, match: { saddr: '10.0.0.1/8' } }, /host bits/, 'TypeError'],
    ['mixed families', { ...base, match: { saddr: '10.0.0.1', daddr: '::1' } }, /IPv4/, 'TypeError'],
    [
      'IPv6 in an ip table',
      { ...base, family: 'ip', match: { saddr: '::1' } },
      /IPv6 addresses in the ip family/,
      'TypeError',
    ],
    ['port without protocol', { ...base, match: { dport: 22 } }, /l4proto/, 'TypeError'],
    ['port out of range', { ...base, match: { l4proto: 'tcp', dport: 70000 } }, /out of range/, 'RangeError'],
    [
      'inverted range',
      { ...base, match: { l4proto: 'tcp', dport: { range: [9, 1] } } },
      /before it starts/,
      'TypeError',
    ],
    ['unknown match field', { ...base, match: { sport2: 1 } }, /not a match field/, 'TypeError'],
    ['unknown protocol', { ...base, match: { l4proto: 'tcpp' } }, /l4proto/, 'TypeError'],
    ['unknown ct state', { ...base, match: { ctState: ['estab'] } }, /ctState/, 'TypeError'],
    ['unknown verdict', { ...base, verdict: 'allow' }, /verdict/, 'TypeError'],
    ['jump without target', { ...base, verdict: 'jump' }, /target/, 'TypeError'],
    [
      'tcp reset without tcp',
      { ...base, verdict: 'reject', reject: { type: 'tcp-reset' } },
      /l4proto 'tcp'/,
      'TypeError',
    ],
    [
      'icmp reject in inet',
      { ...base, verdict: 'reject', reject: { type: 'icmp' } },
      /not available in the inet family/,
      'TypeError',
    ],
    ['nat without address', { ...base, nat: { type: 'dnat' } }, /address/, 'TypeError'],
    [
      'masquerade with address',
      { ...base, nat: { type: 'masquerade', address: '1.2.3.4' } },
      /cannot go with/,
      'TypeError',
    ],
    ['limit unit', { ...base, limit: { rate: 1, per: 'fortnight' } }, /per/, 'TypeError'],
    ['log level', { ...base, log: { level: 'loud' } }, /level/, 'TypeError'],
    ['mark too big', { ...base, setMark: 2 ** 32 }, /out of range/, 'RangeError'],
    ['set type', { add: 'set', ...FW, name: 's', type: 'ipv4' }, /type/, 'TypeError'],
    ['set flag', { add: 'set', ...FW, name: 's', type: 'ipv4_addr', flags: ['sorted'] }, /flags/, 'TypeError'],
    [
      'element of the wrong type',
      { add: 'set', ...FW, name: 's', type: 'ipv4_addr', elements: ['::1'] },
      /IPv4/,
      'TypeError',
    ],
    ['empty table name', { add: 'table', family: 'inet', name: '' }, /name/, 'TypeError'],
    ['bad rule handle', { delete: 'rule', ...FW, chain: 'c', handle: -1 }, /handle/, 'TypeError'],
  ];

  it.each(cases)('%s', async (_name, op, message, type) => {
    const error = await api.apply([op as NftOperation]).catch((e: unknown) => e);
    expect((error as Error).constructor.name).toBe(type);
    expect((error as Error).message).toMatch(message);
    expect((error as { code: string }).code).toMatch(/^ERR_INVALID_ARG_(VALUE|TYPE)$/);
    expect(sent).toHaveLength(0);
  });

  it('a bad operation anywhere in the list stops the whole transaction before sending', async () => {
    await expect(
      api.apply([{ add: 'table', family: 'inet', name: 'ok' }, { add: 'table', family: 'bogus', name: 'x' } as never]),
    ).rejects.toThrow(/ops\[1\]\.family/);
    expect(sent).toHaveLength(0);
  });
});
