/**
 * nftables against the live kernel, in namespaces the tests create, with `nft -j list ruleset` as the
 * independent oracle both ways: what the library adds nft reports, and what nft adds the library
 * decodes. Real effect between namespaces: a drop rule stops a TCP connect, masquerade NAT hides a
 * client behind its router. Transactions are all or nothing.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nl from '../../lib';
import { NftTransactionError, type NftOperation } from '../../lib';
import { describeIf, loadProbe, randomName } from '../harness/env';

const probe = loadProbe();
const describeNft = describeIf(
  probe.root && probe.ipNetns && probe.nftables,
  probe.reason ?? (probe.nftables ? 'needs root' : `nftables unavailable (${probe.errors.nftables ?? '?'})`),
);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const nftJson = (ns: string): Json[] =>
  (
    JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'ruleset'], { encoding: 'utf8' })) as {
      nftables: Json[];
    }
  ).nftables.filter((x) => !('metainfo' in x));
const nftFile = (ns: string, text: string) => {
  const file = path.join(os.tmpdir(), `${randomName('rtnl-nft-')}.nft`);
  fs.writeFileSync(file, text);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    fs.unlinkSync(file);
  }
};
const of = (items: Json[], kind: string) => items.filter((x) => kind in x).map((x) => x[kind]);

/** A namespace with a handle in it, deleted afterwards. */
function useNamespaces(count: number) {
  const names: string[] = [];
  const handles: nl.Handle[] = [];
  beforeAll(async () => {
    for (let i = 0; i < count; i++) {
      const name = randomName();
      await nl.netns.create(name);
      names.push(name);
      handles.push(await nl.open({ netns: name }));
    }
  });
  afterAll(async () => {
    for (const h of handles) await h.close();
    for (const n of names) await nl.netns.delete(n).catch(() => undefined);
  });
  return { names, handles };
}

const FW = { family: 'inet', table: 'fw' } as const;

describeNft('nft: what the library adds, nft reports', () => {
  const { names, handles } = useNamespaces(1);

  it('tables, chains, rules, sets, maps and objects', async () => {
    const h = handles[0];
    await h.nft.apply([
      { add: 'table', family: 'inet', name: 'fw' },
      { add: 'table', family: 'ip6', name: 'six' },
      { add: 'table', family: 'netdev', name: 'nd' },
      {
        add: 'chain',
        family: 'netdev',
        table: 'nd',
        name: 'in',
        type: 'filter',
        hook: 'ingress',
        priority: -500,
        device: 'lo',
      },
      { add: 'counter', ...FW, name: 'cnt' },
      { add: 'quota', ...FW, name: 'q', bytes: 1000000, over: true },
      {
        add: 'set',
        ...FW,
        name: 'nets',
        type: 'ipv4_addr',
        flags: ['interval'],
        elements: ['10.1.0.0/16', ['172.16.0.1', '172.16.0.9']],
      },
      { add: 'set', ...FW, name: 'ports', type: 'inet_service', timeout: 60, elements: [22, { key: 80, timeout: 30 }] },
      { add: 'chain', ...FW, name: 'other' },
      { add: 'map', ...FW, name: 'vm', type: 'inet_service', map: 'verdict', elements: [{ key: 22, value: 'accept' }] },
      { add: 'chain', ...FW, name: 'input', type: 'filter', hook: 'input', priority: 0, policy: 'accept' },
      { add: 'chain', ...FW, name: 'post', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' },
      {
        add: 'rule',
        ...FW,
        chain: 'input',
        match: { l4proto: 'tcp', dport: 7777, saddr: '10.0.0.0/8' },
        counter: true,
        verdict: 'drop',
      },
      {
        add: 'rule',
        ...FW,
        chain: 'input',
        match: { l4proto: 'tcp', dport: [80, 443] },
        verdict: 'accept',
        comment: 'web',
      },
      {
        add: 'rule',
        ...FW,
        chain: 'input',
        match: { nfproto: 'ipv4', saddr: '@nets' },
        counter: 'cnt',
        verdict: 'jump',
        target: 'other',
      },
      { add: 'rule', ...FW, chain: 'input', match: { ctState: ['established', 'related'] }, verdict: 'accept' },
      {
        add: 'rule',
        ...FW,
        chain: 'input',
        match: { iif: 'lo' },
        limit: { rate: 10, per: 'second' },
        verdict: 'accept',
      },
      { add: 'rule', ...FW, chain: 'post', match: { oifname: 'veth1' }, nat: { type: 'masquerade' } },
      { add: 'rule', ...FW, chain: 'other', verdict: 'return' },
    ]);
    const items = nftJson(names[0]);
    expect(
      of(items, 'table')
        .map((t) => `${t.family} ${t.name}`)
        .sort(),
    ).toEqual(['inet fw', 'ip6 six', 'netdev nd']);
    expect(of(items, 'chain').find((c) => c.name === 'input')).toMatchObject({
      family: 'inet',
      table: 'fw',
      type: 'filter',
      hook: 'input',
      prio: 0,
      policy: 'accept',
    });
    expect(of(items, 'chain').find((c) => c.name === 'post')).toMatchObject({
      type: 'nat',
      hook: 'postrouting',
      prio: 100,
    });
    expect(of(items, 'chain').find((c) => c.name === 'in')).toMatchObject({
      family: 'netdev',
      hook: 'ingress',
      prio: -500,
    });
    // nft 1.0.6 leaves the device out of its JSON; its text has it.
    expect(
      execFileSync('ip', ['netns', 'exec', names[0], 'nft', 'list', 'chain', 'netdev', 'nd', 'in'], {
        encoding: 'utf8',
      }),
    ).toMatch(/type filter hook ingress device "lo" priority -500;/);
    expect(of(items, 'counter')).toEqual([expect.objectContaining({ name: 'cnt', packets: 0, bytes: 0 })]);
    expect(of(items, 'quota')).toEqual([expect.objectContaining({ name: 'q', bytes: 1000000, inv: true })]);
    const sets = of(items, 'set');
    expect(sets.find((s) => s.name === 'nets')).toMatchObject({
      type: 'ipv4_addr',
      flags: ['interval'],
      elem: [{ prefix: { addr: '10.1.0.0', len: 16 } }, { range: ['172.16.0.1', '172.16.0.9'] }],
    });
    const ports = sets.find((s) => s.name === 'ports');
    expect(ports).toMatchObject({ type: 'inet_service', flags: ['timeout'], timeout: 60 });
    expect(ports.elem.map((e: Json) => e.elem.val).sort()).toEqual([22, 80]);
    expect(of(items, 'map')).toEqual([
      expect.objectContaining({ name: 'vm', type: 'inet_service', map: 'verdict', elem: [[22, { accept: null }]] }),
    ]);

    // nft lists rules chain by chain, in the order the chains were made.
    const all = of(items, 'rule');
    expect(all.map((r) => r.chain)).toEqual(['other', 'input', 'input', 'input', 'input', 'input', 'post']);
    const rules = [...all.slice(1), all[0]];
    // nft folds `meta l4proto tcp` into `tcp dport` (it is that match's dependency).
    expect(rules[0].expr).toEqual([
      {
        match: {
          op: '==',
          left: { payload: { protocol: 'ip', field: 'saddr' } },
          right: { prefix: { addr: '10.0.0.0', len: 8 } },
        },
      },
      { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 7777 } },
      { counter: { packets: 0, bytes: 0 } },
      { drop: null },
    ]);
    expect(rules[1]).toMatchObject({ comment: 'web' });
    expect(rules[1].expr[0]).toEqual({
      match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: { set: [80, 443] } },
    });
    expect(rules[2].expr).toEqual([
      { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@nets' } },
      { counter: 'cnt' },
      { jump: { target: 'other' } },
    ]);
    expect(rules[3].expr[0]).toEqual({
      match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] },
    });
    expect(rules[4].expr).toEqual([
      { match: { op: '==', left: { meta: { key: 'iif' } }, right: 'lo' } },
      { limit: { rate: 10, burst: 5, per: 'second' } },
      { accept: null },
    ]);
    expect(rules[5].expr).toEqual([
      { match: { op: '==', left: { meta: { key: 'oifname' } }, right: 'veth1' } },
      { masquerade: null },
    ]);
    expect(rules[6].expr).toEqual([{ return: null }]);

    // And the library reads back what it wrote, in the same typed form.
    const listed = await h.nft.list({ family: 'inet' });
    expect(listed.rules.map(({ handle: _h, stats: _s, ...r }) => r)).toEqual([
      { ...FW, chain: 'other', verdict: 'return' },
      {
        ...FW,
        chain: 'input',
        match: { l4proto: 'tcp', dport: 7777, saddr: '10.0.0.0/8' },
        counter: true,
        verdict: 'drop',
      },
      { ...FW, chain: 'input', match: { l4proto: 'tcp', dport: [80, 443] }, verdict: 'accept', comment: 'web' },
      {
        ...FW,
        chain: 'input',
        match: { nfproto: 'ipv4', saddr: '@nets' },
        counter: 'cnt',
        verdict: 'jump',
        target: 'other',
      },
      { ...FW, chain: 'input', match: { ctState: ['established', 'related'] }, verdict: 'accept' },
      { ...FW, chain: 'input', match: { iif: 'lo' }, limit: { rate: 10, per: 'second', burst: 5 }, verdict: 'accept' },
      { ...FW, chain: 'post', match: { oifname: 'veth1' }, nat: { type: 'masquerade' } },
    ]);
    expect(listed.sets.map((s) => s.name)).toEqual(['nets', 'ports', 'vm']);
    expect(listed.sets[0].elements).toEqual(['10.1.0.0/16', ['172.16.0.1', '172.16.0.9']]);
  });

  it('rules by handle: insert at a position, replace, delete; and delete a table', async () => {
    const h = handles[0];
    const before = (await h.nft.list({ family: 'inet', table: 'fw' })).rules.filter((r) => r.chain === 'input');
    await h.nft.apply([
      { insert: 'rule', ...FW, chain: 'input', position: before[1].handle, verdict: 'continue', comment: 'second' },
    ]);
    let rules = (await h.nft.list({ family: 'inet', table: 'fw' })).rules.filter((r) => r.chain === 'input');
    expect(rules[1]).toMatchObject({ comment: 'second', verdict: 'continue' });
    await h.nft.apply([
      { replace: 'rule', ...FW, chain: 'input', handle: rules[1].handle, match: { mark: 42 }, verdict: 'drop' },
    ]);
    await h.nft.apply([{ delete: 'rule', ...FW, chain: 'input', handle: rules[0].handle }]);
    rules = (await h.nft.list({ family: 'inet', table: 'fw' })).rules.filter((r) => r.chain === 'input');
    expect(rules[0]).toMatchObject({ match: { mark: 42 }, verdict: 'drop' });
    expect(rules).toHaveLength(before.length);
    const json = of(nftJson(names[0]), 'rule').filter((r) => r.chain === 'input');
    expect(json[0].expr).toEqual([{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 42 } }, { drop: null }]);
    await h.nft.apply([{ delete: 'table', family: 'ip6', name: 'six' }]);
    expect(of(nftJson(names[0]), 'table').map((t) => t.name)).not.toContain('six');
  });

  it('flush() empties the ruleset', async () => {
    await handles[0].nft.flush();
    expect(nftJson(names[0])).toEqual([]);
    expect(await handles[0].nft.list()).toMatchObject({ tables: [], chains: [], rules: [], sets: [], objects: [] });
  });
});

describeNft('nft: what nft adds, the library decodes', () => {
  const { names, handles } = useNamespaces(1);

  it('decodes a ruleset written with nft -f', async () => {
    nftFile(
      names[0],
      `table inet t {
  set blk { type ipv4_addr; flags interval; elements = { 10.1.0.0/16, 192.168.1.1 } }
  map pm { type inet_service : verdict; elements = { 22 : accept, 23 : drop } }
  counter c1 { packets 3 bytes 300 }
  chain input { type filter hook input priority 0; policy drop;
    tcp dport 7777 ip saddr 10.0.0.0/8 counter drop
    udp sport 1000-2000 accept
    tcp dport { 80, 443 } accept
    ip daddr @blk drop
    iifname "lo" accept
    meta mark 0x10 accept
    ct state established,related accept
    limit rate over 10/minute burst 3 packets drop
    log prefix "in: " level info
    meta mark set 0x20
    meta l4proto tcp reject with tcp reset
    reject with icmpx type host-unreachable
    ip6 saddr 2001:db8::/33 jump other
    counter name "c1" accept comment "named"
    tcp dport vmap @pm
  }
  chain other { return; }
  chain post { type nat hook postrouting priority srcnat;
    oifname "veth1" masquerade
    ip saddr 10.0.0.0/8 snat ip to 1.2.3.4
  }
  chain pre { type nat hook prerouting priority dstnat;
    tcp dport 80 dnat ip to 10.0.0.2:8080
    tcp dport 81 redirect to :8081
  }
}
table ip t4 {
  chain c { type filter hook forward priority -10;
    ip saddr 192.0.2.0/24 oifname "eth*" accept
  }
}
`,
    );
    const r = await handles[0].nft.list();
    expect(r.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['inet t', 'ip t4']);
    expect(r.chains.map(({ handle: _h, use: _u, ...c }) => c)).toEqual([
      { family: 'inet', table: 't', name: 'input', type: 'filter', hook: 'input', priority: 0, policy: 'drop' },
      { family: 'inet', table: 't', name: 'other' },
      { family: 'inet', table: 't', name: 'post', type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' },
      { family: 'inet', table: 't', name: 'pre', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' },
      { family: 'ip', table: 't4', name: 'c', type: 'filter', hook: 'forward', priority: -10, policy: 'accept' },
    ]);
    expect(r.sets.map(({ handle: _h, ...s }) => s)).toEqual([
      {
        family: 'inet',
        table: 't',
        name: 'blk',
        type: 'ipv4_addr',
        flags: ['interval'],
        elements: ['10.1.0.0/16', '192.168.1.1'],
      },
      {
        family: 'inet',
        table: 't',
        name: 'pm',
        type: 'inet_service',
        map: 'verdict',
        flags: [],
        elements: [
          { key: 22, value: 'accept' },
          { key: 23, value: 'drop' },
        ],
      },
    ]);
    expect(r.objects.map(({ handle: _h, ...o }) => o)).toEqual([
      { family: 'inet', table: 't', name: 'c1', type: 'counter', packets: 3, bytes: 300 },
    ]);
    const T = { family: 'inet', table: 't' };
    const rules = r.rules.map(({ handle: _h, stats: _s, ...x }) => x);
    expect(rules.slice(0, 14)).toEqual([
      {
        ...T,
        chain: 'input',
        match: { l4proto: 'tcp', dport: 7777, saddr: '10.0.0.0/8' },
        counter: true,
        verdict: 'drop',
      },
      { ...T, chain: 'input', match: { l4proto: 'udp', sport: { range: [1000, 2000] } }, verdict: 'accept' },
      { ...T, chain: 'input', match: { l4proto: 'tcp', dport: [80, 443] }, verdict: 'accept' },
      { ...T, chain: 'input', match: { nfproto: 'ipv4', daddr: '@blk' }, verdict: 'drop' },
      { ...T, chain: 'input', match: { iifname: 'lo' }, verdict: 'accept' },
      { ...T, chain: 'input', match: { mark: 16 }, verdict: 'accept' },
      { ...T, chain: 'input', match: { ctState: ['established', 'related'] }, verdict: 'accept' },
      { ...T, chain: 'input', limit: { rate: 10, per: 'minute', burst: 3, over: true }, verdict: 'drop' },
      { ...T, chain: 'input', log: { prefix: 'in: ', level: 'info' } },
      { ...T, chain: 'input', setMark: 0x20 },
      { ...T, chain: 'input', match: { l4proto: 'tcp' }, verdict: 'reject', reject: { type: 'tcp-reset' } },
      { ...T, chain: 'input', verdict: 'reject', reject: { type: 'icmpx', code: 'host-unreachable' } },
      { ...T, chain: 'input', match: { saddr: '2001:db8::/33' }, verdict: 'jump', target: 'other' },
      { ...T, chain: 'input', counter: 'c1', verdict: 'accept', comment: 'named' },
    ]);
    // A verdict map lookup is beyond the typed form: its raw expressions come instead.
    expect(rules[14]).toMatchObject({
      chain: 'input',
      expressions: expect.arrayContaining([expect.objectContaining({ name: 'lookup' })]),
    });
    expect(rules[14]).not.toHaveProperty('verdict');
    expect(rules.slice(15)).toEqual([
      { ...T, chain: 'other', verdict: 'return' },
      { ...T, chain: 'post', match: { oifname: 'veth1' }, nat: { type: 'masquerade' } },
      { ...T, chain: 'post', match: { saddr: '10.0.0.0/8' }, nat: { type: 'snat', address: '1.2.3.4' } },
      {
        ...T,
        chain: 'pre',
        match: { l4proto: 'tcp', dport: 80 },
        nat: { type: 'dnat', address: '10.0.0.2', port: 8080 },
      },
      { ...T, chain: 'pre', match: { l4proto: 'tcp', dport: 81 }, nat: { type: 'redirect', port: 8081 } },
      { family: 'ip', table: 't4', chain: 'c', match: { saddr: '192.0.2.0/24', oifname: 'eth*' }, verdict: 'accept' },
    ]);
    // Listing is read-only and consistent: one generation, and nft sees the same count of rules.
    expect(r.generation).toBe(await handles[0].nft.generation());
    expect(of(nftJson(names[0]), 'rule')).toHaveLength(r.rules.length);
  });
});

describeNft('nft: transactions', () => {
  const { names, handles } = useNamespaces(1);

  it('a transaction whose last operation is invalid changes nothing', async () => {
    const h = handles[0];
    await h.nft.apply([{ add: 'table', ...{ family: 'inet' }, name: 'keep' }]);
    const before = await h.nft.list();
    const json = nftJson(names[0]);
    const ops: NftOperation[] = [
      { add: 'table', family: 'inet', name: 'fw' },
      { add: 'chain', ...FW, name: 'input', type: 'filter', hook: 'input', priority: 0 },
      { add: 'rule', ...FW, chain: 'input', match: { l4proto: 'tcp', dport: 22 }, verdict: 'accept' },
      { delete: 'table', family: 'inet', name: 'keep' },
      { add: 'rule', ...FW, chain: 'missing', verdict: 'drop' },
    ];
    const error = await h.nft.apply(ops).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NftTransactionError);
    expect(error).toBeInstanceOf(nl.NetlinkError);
    expect(error).toMatchObject({ index: 4, op: ops[4], code: 'ENOENT', operation: 'NFT_MSG_NEWRULE' });
    expect((error as Error).message).toMatch(/operation 4 \(add rule inet table fw chain missing\)/);
    expect(await h.nft.list()).toEqual(before);
    expect(nftJson(names[0])).toEqual(json);
  });

  it('the kernel refusing an operation mid-list is reported with its index and text', async () => {
    const error = await handles[0].nft
      .apply([
        { add: 'table', family: 'inet', name: 'x' },
        { create: 'table', family: 'inet', name: 'keep' },
      ])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ index: 1, code: 'EEXIST', operation: 'NFT_MSG_NEWTABLE' });
    expect((await handles[0].nft.list()).tables.map((t) => t.name)).toEqual(['keep']);
  });

  it('a stale generation refuses the whole batch (ERESTART), the current one applies', async () => {
    const h = handles[0];
    const generation = await h.nft.generation();
    await h.nft.apply([{ add: 'table', family: 'ip', name: 'g1' }]);
    const error = await h.nft
      .apply([{ add: 'table', family: 'ip', name: 'g2' }], { generation })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NftTransactionError);
    expect(error).toMatchObject({ code: 'ERESTART' });
    const now = await h.nft.generation();
    await h.nft.apply([{ add: 'table', family: 'ip', name: 'g2' }], { generation: now });
    expect((await h.nft.list({ family: 'ip' })).tables.map((t) => t.name)).toEqual(['g1', 'g2']);
  });

  it('bad input is refused before anything is sent', async () => {
    const h = handles[0];
    const g = await h.nft.generation();
    await expect(h.nft.apply([{ add: 'table', family: 'ipv5' as never, name: 't' }])).rejects.toThrow(TypeError);
    await expect(h.nft.apply([{ add: 'chain', ...FW, name: 'c', hook: 'input', priority: 2 ** 40 }])).rejects.toThrow(
      RangeError,
    );
    await expect(
      h.nft.apply([
        { add: 'table', family: 'inet', name: 'fine' },
        { add: 'rule', ...FW, chain: 'c', match: { saddr: '10.0.0/8' }, verdict: 'drop' },
      ]),
    ).rejects.toThrow(/ops\[1\]\.match\.saddr/);
    expect(await h.nft.generation()).toBe(g);
  });
});

/** Connects from a namespace; resolves true on connect, false on refusal or timeout. */
function canConnect(ns: string, host: string, port: number, timeoutMs = 800): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new net.Socket({ fd: nl.netns.socketFd(ns, 'tcp4') });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    socket.connect(port, host);
  });
}

describeNft('nft: real effect between namespaces', () => {
  const { names, handles } = useNamespaces(3);

  it('a drop rule on tcp dport 7777 stops a connect from another namespace; deleting it lets it through', async () => {
    const [a, b] = names;
    const [ha, hb] = handles;
    await ha.link.add({ kind: 'veth', name: 'na', peer: { name: 'nb', netns: b } });
    await ha.addr.add('na', '10.77.0.1/24');
    await hb.addr.add('nb', '10.77.0.2/24');
    await ha.link.set('na', { up: true });
    await hb.link.set('nb', { up: true });
    // A SYN sent before both ends have carrier is lost, and TCP retries only after a second.
    await ha.link.waitFor('na', { up: true, carrier: true }, { timeout: 5000 });
    await hb.link.waitFor('nb', { up: true, carrier: true }, { timeout: 5000 });
    const server = net.createServer((c) => c.end());
    server.listen({ fd: nl.netns.socketFd(b, 'tcp4', { port: 7777, address: '10.77.0.2' }) });
    try {
      expect(await canConnect(a, '10.77.0.2', 7777, 3000)).toBe(true);
      await hb.nft.apply([
        { add: 'table', family: 'inet', name: 'fw' },
        { add: 'chain', ...FW, name: 'input', type: 'filter', hook: 'input', priority: 0, policy: 'accept' },
        {
          add: 'rule',
          ...FW,
          chain: 'input',
          match: { l4proto: 'tcp', dport: 7777, saddr: '10.0.0.0/8' },
          counter: true,
          verdict: 'drop',
        },
      ]);
      expect(await canConnect(a, '10.77.0.2', 7777)).toBe(false);
      const [rule] = (await hb.nft.list()).rules;
      expect(rule.stats!.packets).toBeGreaterThan(0);
      await hb.nft.apply([{ delete: 'rule', ...FW, chain: 'input', handle: rule.handle }]);
      expect(await canConnect(a, '10.77.0.2', 7777, 3000)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('masquerade lets A reach C through router B, and C sees B as the source', async () => {
    const [a, b, c] = names;
    const [ha, hb, hc] = handles;
    await ha.link.add({ kind: 'veth', name: 'ma', peer: { name: 'mb', netns: b } });
    await hb.link.add({ kind: 'veth', name: 'mb2', peer: { name: 'mc', netns: c } });
    await ha.addr.add('ma', '10.78.1.1/24');
    await hb.addr.add('mb', '10.78.1.2/24');
    await hb.addr.add('mb2', '10.78.2.2/24');
    await hc.addr.add('mc', '10.78.2.3/24');
    for (const [h, dev] of [
      [ha, 'ma'],
      [hb, 'mb'],
      [hb, 'mb2'],
      [hc, 'mc'],
    ] as const)
      await h.link.set(dev, { up: true });
    await ha.route.add({ dst: 'default', gateway: '10.78.1.2' });
    await hb.sysctl.set('net.ipv4.ip_forward', 1);
    // C has no route back to 10.78.1.0/24: only a translated source can get an answer.
    const seen: string[] = [];
    const server = net.createServer((s) => {
      seen.push(s.remoteAddress ?? '');
      s.end();
    });
    server.listen({ fd: nl.netns.socketFd(c, 'tcp4', { port: 7878, address: '10.78.2.3' }) });
    try {
      expect(await canConnect(a, '10.78.2.3', 7878)).toBe(false);
      await hb.nft.apply([
        { add: 'table', family: 'inet', name: 'nat' },
        {
          add: 'chain',
          family: 'inet',
          table: 'nat',
          name: 'post',
          type: 'nat',
          hook: 'postrouting',
          priority: 'srcnat',
        },
        {
          add: 'rule',
          family: 'inet',
          table: 'nat',
          chain: 'post',
          match: { oifname: 'mb2', saddr: '10.78.1.0/24' },
          nat: { type: 'masquerade' },
        },
      ]);
      expect(await canConnect(a, '10.78.2.3', 7878, 3000)).toBe(true);
      expect(seen).toEqual(['10.78.2.2']);
    } finally {
      server.close();
    }
  });
});
