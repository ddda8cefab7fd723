/**
 * Addresses both ways against `ip -j addr`: what the library adds is what
 * ip reports, and what `ip addr add` makes decodes to what the library
 * would have made, for IPv4 and IPv6, peers, broadcast, labels, scopes,
 * flags, lifetimes and metrics.
 */
import * as nl from '../../lib';
import type { Address, AddressOptions } from '../../lib';
import { describeIf, ip, ipJson, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

interface IpAddr {
  family: string;
  local: string;
  address?: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  valid_life_time: number;
  preferred_life_time: number;
  metric?: number;
  dynamic?: boolean;
  [flag: string]: unknown;
}

const FLAG_KEYS = [
  'secondary',
  'nodad',
  'optimistic',
  'home',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'tentative',
  'deprecated',
  'dadfailed',
];

/** What both sides must agree on, from ip's JSON (independently of the library's decoder). */
function fromIp(x: IpAddr) {
  return {
    address: x.local,
    prefixLength: x.prefixlen,
    peer: x.address !== undefined && x.address !== x.local ? x.address : undefined,
    broadcast: x.broadcast,
    scope: x.scope,
    label: x.family === 'inet' ? x.label : undefined,
    flags: FLAG_KEYS.filter((f) => x[f] === true)
      .concat(x.dynamic ? [] : ['permanent'])
      .sort(),
    metric: x.metric,
    valid: x.valid_life_time,
    preferred: x.preferred_life_time,
  };
}

function fromOurs(a: Address) {
  return {
    address: a.address,
    prefixLength: a.prefixLength,
    peer: a.peer,
    broadcast: a.broadcast,
    scope: a.scope,
    label: a.family === 4 ? a.label : undefined,
    flags: a.flags.filter((f) => FLAG_KEYS.includes(f) || f === 'permanent').sort(),
    metric: a.metric,
    valid: a.validLifetime,
    preferred: a.preferredLifetime,
  };
}

/** Lifetimes count down: equal within two seconds. */
function expectSame(ours: ReturnType<typeof fromOurs>, theirs: ReturnType<typeof fromIp>): void {
  const { valid, preferred, ...rest } = ours;
  const { valid: tv, preferred: tp, ...trest } = theirs;
  expect(rest).toEqual(trest);
  expect(Math.abs((valid ?? 0) - tv)).toBeLessThanOrEqual(2);
  expect(Math.abs((preferred ?? 0) - tp)).toBeLessThanOrEqual(2);
}

const cases: [string, string, AddressOptions, string[]][] = [
  [
    'IPv4 with broadcast and label',
    '10.1.0.1/24',
    { broadcast: '10.1.0.255', label: 'a0:one' },
    ['broadcast', '10.1.0.255', 'label', 'a0:one'],
  ],
  ['IPv4 point-to-point peer', '10.1.1.1/32', { peer: '10.1.1.2' }, ['peer', '10.1.1.2']],
  [
    'IPv4 link scope, metric, noprefixroute',
    '10.1.2.1/24',
    { scope: 'link', metric: 50, flags: ['noprefixroute'] },
    ['scope', 'link', 'metric', '50', 'noprefixroute'],
  ],
  ['IPv6 nodad', '2001:db8::1/64', { flags: ['nodad'] }, ['nodad']],
  [
    'IPv6 with lifetimes',
    '2001:db8:1::1/64',
    { validLifetime: 3000, preferredLifetime: 2000, flags: ['nodad'] },
    ['valid_lft', '3000', 'preferred_lft', '2000', 'nodad'],
  ],
  [
    'IPv6 home and mngtmpaddr',
    '2001:db8:2::1/64',
    { flags: ['home', 'mngtmpaddr', 'nodad'] },
    ['home', 'mngtmpaddr', 'nodad'],
  ],
];

describeRoot('addresses against ip -j addr', () => {
  const ns = useNetns();
  let h: nl.Handle;
  beforeAll(async () => {
    h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'bridge', name: 'a0', up: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  const theirsFor = (address: string) =>
    (ipJson(['addr', 'show', 'dev', 'a0'], ns.name)[0].addr_info as IpAddr[]).find((x) => x.local === address)!;
  const oursFor = async (address: string) => (await h.addr.list({ link: 'a0' })).find((a) => a.address === address)!;

  it.each(cases)('%s: added by the library, as ip reports it', async (_t, cidr, options) => {
    await h.addr.add('a0', cidr, options);
    const address = cidr.split('/')[0];
    expectSame(fromOurs(await oursFor(address)), fromIp(theirsFor(address)));
    await h.addr.del('a0', await oursFor(address)); // a listed Address names itself, peer and all
    expect((await h.addr.list({ link: 'a0' })).map((a) => a.address)).not.toContain(address);
  });

  it.each(cases)('%s: added by ip, decoded alike', async (_t, cidr, _options, ipArgs) => {
    ip(['addr', 'add', cidr, 'dev', 'a0', ...ipArgs], ns.name);
    const address = cidr.split('/')[0];
    expectSame(fromOurs(await oursFor(address)), fromIp(theirsFor(address)));
    await h.addr.del('a0', await oursFor(address));
    expect(theirsFor(address)).toBeUndefined();
  });

  it('secondaries, replace, filters, flush; the protocol a program sets reads back', async () => {
    await h.addr.add('a0', '10.1.3.1/24');
    await h.addr.add('a0', '10.1.3.2/24');
    const second = await oursFor('10.1.3.2');
    expect(second.flags).toContain('secondary');
    expect(theirsFor('10.1.3.2').secondary).toBe(true);
    // replace changes what the kernel lets it (lifetimes, metric), not the label
    await h.addr.replace('a0', '10.1.3.2/24', { metric: 77 });
    expect(theirsFor('10.1.3.2').metric).toBe(77);
    // a peer address is flushed too (the kernel matches IPv4 deletes by peer)
    await h.addr.add('a0', '10.1.8.1/32', { peer: '10.1.8.2' });
    // iproute2 6.1 can neither set nor print IFA_PROTO: read back what we set
    await h.addr.add('a0', '10.1.4.1/24', { protocol: 99 });
    expect((await oursFor('10.1.4.1')).protocol).toBe(99);
    expect((await h.addr.list({ link: 'a0', family: 4 })).every((a) => a.family === 4)).toBe(true);
    expect((await h.addr.list({ link: 'a0', scope: 'link' })).every((a) => a.scope === 'link')).toBe(true);
    const v4Theirs = (ipJson(['-4', 'addr', 'show', 'dev', 'a0'], ns.name)[0].addr_info as IpAddr[]).map(
      (x) => x.local,
    );
    expect((await h.addr.list({ link: 'a0', family: 4 })).map((a) => a.address)).toEqual(v4Theirs);
    await h.addr.flush('a0');
    expect(ipJson(['-4', 'addr', 'show', 'dev', 'a0'], ns.name)[0]?.addr_info ?? []).toEqual([]);
    // the kernel's own link-local address carries its protocol (kernel_ll) on kernels that set it
    const ll = (await h.addr.list({ link: 'a0', family: 6 })).find((a) => a.address.startsWith('fe80:'));
    if (ll?.protocol !== undefined) expect(ll.protocol).toBe('kernel_ll');
  });

  it('kernel refusals carry the kernel text; bad input fails first', async () => {
    await h.addr.add('a0', '10.1.5.1/24');
    await expect(h.addr.add('a0', '10.1.5.1/24')).rejects.toMatchObject({ code: 'EEXIST', operation: 'RTM_NEWADDR' });
    await expect(h.addr.del('a0', '10.1.6.1/24')).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    await expect(h.addr.add('a0', '10.1.5.1/33')).rejects.toBeInstanceOf(TypeError);
    await expect(h.addr.add('a0', '10.1.7.1/24', { peer: '2001:db8::1' })).rejects.toBeInstanceOf(TypeError);
    await expect(h.addr.add('a0', '10.1.7.1/24', { protocol: 'bogus' })).rejects.toBeInstanceOf(TypeError);
  });
});
