/**
 * Every link kind on exact bytes, both ways, including kinds this kernel
 * lacks: the RTM_NEWLINK requests `ip link add` sent (recorded with strace
 * by scripts/capture-link-requests.js) decode to the options iproute2 was
 * given, and link.add() builds the same attributes from those options.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rtLinkSchemas } from '../../lib/families';
import { buildAddLinkMessage, decodeLink, knownKinds, type LinkSpec } from '../../lib/link';
import { forEachAttribute, NLA_TYPE_MASK, Writer } from '../../lib/netlink/attributes';
import { beginMessage, finishMessage } from '../../lib/netlink/message';
import {
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  NLA_F_NET_BYTEORDER,
  RTM_NEWLINK,
} from '../../lib/netlink/constants';

interface Captured {
  command: string;
  accepted: boolean;
  hex: string;
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'link-requests.json'), 'utf8')) as {
  links: Record<string, number>;
  messages: Captured[];
};
const lower0 = fixture.links.lower0;

const IFINFO_END = 16 + 16;

/** A message's attributes as sorted "type:hex" strings, IFLA_LINKINFO and its IFLA_INFO_DATA opened up. */
function attributeBag(buf: Buffer): string[] {
  const out: string[] = [];
  const walk = (start: number, end: number, prefix: string, open: (type: number) => boolean) =>
    forEachAttribute(buf, start, end, (type, flags, at, len) => {
      // iproute2 does not mark big-endian attributes; we do (the kernel ignores the bit)
      const mark = flags & ~NLA_F_NET_BYTEORDER & ~NLA_TYPE_MASK;
      if (open(type)) walk(at, at + len, `${prefix}${type}.`, (t) => prefix === '' && t === IFLA_INFO_DATA);
      else {
        let hex = buf.toString('hex', at, at + len);
        // IFLA_INFO_KIND: iproute2 sends the name without its NUL, we with (the kernel takes both)
        if (prefix === `${IFLA_LINKINFO}.` && type === IFLA_INFO_KIND) hex = hex.replace(/(00)?$/, '');
        out.push(`${prefix}${type}/${mark}:${hex}`);
      }
    });
  walk(IFINFO_END, buf.length, '', (t) => t === IFLA_LINKINFO);
  return out.sort();
}

/** The spec a user writes for the device iproute2 asked for: the attributes it sent, by our names. */
function specFrom(buf: Buffer): LinkSpec {
  const a = rtLinkSchemas.attributeSet('link-attrs').decode(buf, IFINFO_END, buf.length) as Record<string, unknown>;
  const link = decodeLink(buf, 0, buf.length);
  const spec: LinkSpec = { name: a.ifname as string, kind: link.kind!, ...(link.info ?? {}) };
  if (a.mtu !== undefined) spec.mtu = a.mtu as number;
  if (a.address !== undefined) spec.mac = a.address as string;
  if (a.txqlen !== undefined) spec.txQueueLen = a.txqlen as number;
  if (a.link !== undefined) spec.link = a.link as number;
  if (a.master !== undefined) spec.master = a.master as number;
  return spec;
}

const cases = fixture.messages.filter((m) => !m.command.includes('type veth'));

describe('link kinds on the bytes iproute2 sends', () => {
  it('covers every kind the issue names that iproute2 here can make', () => {
    const kinds = new Set(cases.map((m) => / type (\S+)/.exec(m.command)![1]));
    for (const k of [
      'bridge',
      'vxlan',
      'macvlan',
      'macvtap',
      'vlan',
      'dummy',
      'ifb',
      'bond',
      'vrf',
      'ipvlan',
      'ipvtap',
      'geneve',
      'gre',
      'gretap',
      'ip6gre',
      'ip6gretap',
      'ipip',
      'sit',
      'ip6tnl',
      'vti',
      'vti6',
      'xfrm',
      'wireguard',
    ])
      expect(kinds).toContain(k);
    for (const k of kinds) expect(knownKinds()).toContain(k);
  });

  it.each(cases.map((m) => [m.command, m] as const))(
    '%s: decoded and built again, attribute for attribute',
    (_c, m) => {
      const theirs = Buffer.from(m.hex, 'hex');
      const spec = specFrom(theirs);
      const ours = buildAddLinkMessage(spec);
      expect(attributeBag(ours)).toEqual(attributeBag(theirs));
      // the ifinfomsg too (family, type, index, flags, change), and the header's type and flags
      expect(ours.subarray(16, 32)).toEqual(theirs.subarray(16, 32));
      expect(ours.readUInt16LE(4)).toBe(theirs.readUInt16LE(4));
      expect(ours.readUInt16LE(6)).toBe(theirs.readUInt16LE(6));
    },
  );

  const decoded = (needle: string) => {
    const m = fixture.messages.find((x) => x.command.includes(needle))!;
    return decodeLink(Buffer.from(m.hex, 'hex'), 0, m.hex.length / 2);
  };

  it('decodes the options as the user gave them to ip', () => {
    expect(decoded('type vlan')).toMatchObject({
      kind: 'vlan',
      parentIndex: lower0,
      info: { id: 100, protocol: '8021ad' },
    });
    expect(decoded('type vxlan id 42')).toMatchObject({
      kind: 'vxlan',
      info: { vni: 42, remote: '10.1.1.1', local: '10.1.1.2', dev: lower0, port: 4789 },
    });
    expect(decoded('type vxlan id 43').info).toMatchObject({ vni: 43, group: 'ff05::9', gbp: true, udpCsum: 0 });
    expect(decoded('type vrf').info).toEqual({ table: 10 });
    expect(decoded('type ipvlan').info).toEqual({ mode: 'l3', flags: ['private'] });
    expect(decoded('type ipvtap').info).toEqual({ mode: 'l2', flags: ['vepa'] });
    expect(decoded('type macvtap').info).toMatchObject({ mode: 'passthru', flags: ['nopromisc'] });
    expect(decoded('type xfrm').info).toMatchObject({ dev: lower0, ifId: 5 });
    expect(decoded('type ipip').info).toMatchObject({ dev: 0, remote: '10.1.1.1', local: '10.1.1.2', ttl: 64 });
    expect(decoded('type geneve').info).toMatchObject({ id: 5, remote: '10.1.1.1', ttl: 10, port: 6081 });
    expect(decoded('type gre ').info).toMatchObject({
      remote: '10.1.1.2'.replace('2', '1'),
      local: '10.1.1.2',
      ttl: 64,
    });
    expect(decoded('type ip6tnl').info).toMatchObject({ remote: '2001:db8::1', local: '2001:db8::2' });
    expect(decoded('type bond mode 802.3ad').info).toMatchObject({ miimon: 100 });
    expect(decoded('type dummy')).toMatchObject({ kind: 'dummy' });
    expect(decoded('type dummy').info).toBeUndefined();
    expect(decoded('type wireguard')).toMatchObject({ kind: 'wireguard', name: 'wg1' });
  });

  it('a veth peer inherits mtu and queue length iproute2 leaves to the kernel default', () => {
    const m = fixture.messages.find((x) => x.command.includes('type veth'))!;
    const spec = specFrom(Buffer.from(m.hex, 'hex'));
    const ours = buildAddLinkMessage({ ...spec, peer: { name: 'vt1p' } });
    const theirsBag = attributeBag(Buffer.from(m.hex, 'hex'));
    const oursBag = attributeBag(ours);
    // everything outside the peer is the same
    expect(oursBag.filter((x) => !x.startsWith('18.2.'))).toEqual(theirsBag.filter((x) => !x.startsWith('18.2.')));
  });
});

describe('netkit (iproute2 6.1 cannot make it; bytes from rt-link.yaml)', () => {
  it('encodes mode, policies, scrub and headroom, and decodes them back', () => {
    const msg = buildAddLinkMessage({
      kind: 'netkit',
      name: 'nk0',
      mode: 'l2',
      policy: 'forward',
      peerPolicy: 'blackhole',
      scrub: 'none',
      headroom: 64,
    });
    const bag = attributeBag(msg);
    // IFLA_NETKIT_POLICY 3 = NETKIT_PASS 0, PEER_POLICY 4 = NETKIT_DROP 2, MODE 5 = L2 0, SCRUB 6 = NONE 0, HEADROOM 8
    expect(bag).toEqual(
      expect.arrayContaining([
        '18.1/0:6e65746b6974',
        '18.2.3/0:00000000',
        '18.2.4/0:02000000',
        '18.2.5/0:00000000',
        '18.2.6/0:00000000',
        '18.2.8/0:4000',
      ]),
    );
    expect(decodeLink(msg, 0, msg.length)).toMatchObject({
      kind: 'netkit',
      info: { mode: 'l2', policy: 'forward', peerPolicy: 'blackhole', scrub: 'none', headroom: 64 },
    });
  });
});

describe('a kind the library has no table for', () => {
  it('decodes with its IFLA_INFO_DATA kept raw (hex)', () => {
    const w = new Writer();
    const start = beginMessage(w, RTM_NEWLINK, 0);
    w.zeros(16);
    w.attrString(IFLA_IFNAME, 'odd0');
    const li = w.begin(IFLA_LINKINFO);
    w.attrString(IFLA_INFO_KIND, 'oddkind');
    const data = w.begin(IFLA_INFO_DATA);
    w.attrU32(1, 7);
    w.end(data);
    w.end(li);
    finishMessage(w, start);
    const buf = w.take();
    const link = decodeLink(buf, 0, buf.length);
    expect(link).toMatchObject({ name: 'odd0', kind: 'oddkind', rawInfo: '0800010007000000' });
    expect(link.info).toBeUndefined();
  });
});
