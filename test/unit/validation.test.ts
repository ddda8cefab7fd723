/**
 * Bad input is a TypeError/RangeError with Node's codes, thrown before
 * anything reaches the kernel: the API below has no socket at all, and
 * would fail differently if it tried to use one.
 */
import { AddrApi } from '../../lib/addr';
import { rtLinkSchemas } from '../../lib/families';
import { LinkApi } from '../../lib/link';
import { Writer } from '../../lib/netlink/attributes';
import { errnoName, NetlinkError } from '../../lib/errors';

const noSocket = () => {
  throw new Error('reached the socket');
};
const link = new LinkApi(() => ({ route: noSocket, namespaceFd: noSocket }));
const addr = new AddrApi(() => ({ route: noSocket, link }));

const typeError = (code = 'ERR_INVALID_ARG_VALUE') => expect.objectContaining({ name: 'TypeError', code });

describe('input validation before any syscall', () => {
  it.each([
    ['empty name', { kind: 'bridge', name: '' }],
    ['name of 16 bytes', { kind: 'bridge', name: 'a'.repeat(16) }],
    ['name with a slash', { kind: 'bridge', name: 'a/b' }],
    ['name with a space', { kind: 'bridge', name: 'a b' }],
    ['dot', { kind: 'bridge', name: '.' }],
    ['peer without veth', { kind: 'bridge', name: 'br0', peer: { name: 'x' } }],
    ['bad peer name', { kind: 'veth', name: 'v0', peer: { name: 'x:y' } }],
    ['bad netns ref', { kind: 'bridge', name: 'br0', netns: { pid: -1 } }],
    ['unknown kind option', { kind: 'bridge', name: 'br0', noSuchOption: 1 }],
  ])('link.add rejects %s', async (_what, spec) => {
    await expect(link.add(spec as never)).rejects.toEqual(typeError());
  });

  it('link.add rejects wrong types with ERR_INVALID_ARG_TYPE', async () => {
    await expect(link.add({ kind: 'bridge', name: 42 } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(link.add(null as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
    await expect(link.add({ kind: 'bridge', name: 'b', mtu: 'big' } as never)).rejects.toEqual(
      typeError('ERR_INVALID_ARG_TYPE'),
    );
  });

  it('rejects out-of-range numbers with RangeError', async () => {
    await expect(link.add({ kind: 'bridge', name: 'b', mtu: -1 })).rejects.toEqual(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
    await expect(link.get(0)).rejects.toBeInstanceOf(RangeError);
    await expect(link.get(2 ** 31)).rejects.toBeInstanceOf(RangeError);
    await expect(link.add({ kind: 'bridge', name: 'b', forwardDelay: 2 ** 32 })).rejects.toBeInstanceOf(RangeError);
  });

  it('link.add names the kinds it knows when given another, and checks kind options', async () => {
    const error = await link.add({ kind: 'wibble', name: 'w0' }).catch((e: Error) => e);
    expect(error).toEqual(typeError());
    expect((error as Error).message).toMatch(/must be a link kind: .*bridge.*veth.*vxlan/);
    await expect(link.add({ kind: 'vxlan', name: 'vx0', vni: 2 ** 24 })).rejects.toBeInstanceOf(RangeError);
    await expect(link.add({ kind: 'vxlan', name: 'vx0', vni: 1, remote: '239.1.1.1' })).rejects.toEqual(typeError());
    await expect(link.add({ kind: 'vxlan', name: 'vx0', vni: 1, group: '10.0.0.1' })).rejects.toEqual(typeError());
    await expect(link.add({ kind: 'vxlan', name: 'vx0', vni: 1, local: 'nope' })).rejects.toEqual(typeError());
    await expect(link.add({ kind: 'macvlan', name: 'mv0', mode: 'sideways' })).rejects.toEqual(typeError());
    await expect(link.add({ kind: 'bridge', name: 'b', mac: 'aa:bb:cc' })).rejects.toBeInstanceOf(TypeError);
    await expect(link.add({ kind: 'bridge', name: 'b', mtu: 2 ** 32 })).rejects.toBeInstanceOf(RangeError);
  });

  it('link.set rejects keys it does not change, and bad values', async () => {
    await expect(link.set('lo', { colour: 'red' } as never)).rejects.toEqual(typeError());
    await expect(link.set('lo', { name: 'x'.repeat(20) })).rejects.toEqual(typeError());
    await expect(link.set('lo', { mac: 12 } as never)).rejects.toEqual(typeError('ERR_INVALID_ARG_TYPE'));
  });

  it('addr rejects bad prefixes, peers, scopes and flags', async () => {
    await expect(addr.add(1, '10.0.0.1/33')).rejects.toEqual(typeError());
    await expect(addr.add(1, 'default')).rejects.toEqual(typeError());
    await expect(addr.add(1, '10.0.0.1/24', { peer: '::1' })).rejects.toEqual(typeError());
    await expect(addr.add(1, '10.0.0.1/24', { scope: 'galaxy' })).rejects.toEqual(typeError());
    await expect(addr.add(1, '10.0.0.1/24', { flags: ['permanent'] })).rejects.toEqual(typeError());
    await expect(addr.list({ family: 5 as never })).rejects.toEqual(typeError());
  });
});

describe('schema encoding', () => {
  const linkAttrs = rtLinkSchemas.attributeSet('link-attrs');

  it('names the path of a bad value', () => {
    expect(() => linkAttrs.encode(new Writer(), { linkinfo: { kind: 'bridge', data: { forwardDelay: 'x' } } })).toThrow(
      /linkinfo\.data\.forwardDelay/,
    );
    expect(() => linkAttrs.encode(new Writer(), { mtu: 1.5 })).toThrow(TypeError);
    expect(() => linkAttrs.encode(new Writer(), { address: 'zz:zz' })).toThrow(/MAC/);
  });

  it('writes big-endian scalars with NLA_F_NET_BYTEORDER where the spec says so', () => {
    const info = rtLinkSchemas.subMessageFormat('linkinfo-data-msg', 'gre')!;
    const w = new Writer();
    info.encode(w, { iflags: 0x1234 }, 'gre');
    const bytes = w.take();
    expect(bytes.readUInt16LE(0)).toBe(6); // 4 header + 2 payload
    expect(bytes.readUInt16LE(2) & 0x4000).toBe(0x4000);
    expect(bytes.readUInt16BE(4)).toBe(0x1234);
    expect(bytes.length).toBe(8); // padded
    expect(info.decode(bytes, 0, bytes.length)).toEqual({ iflags: 0x1234 });
  });

  it('keeps unknown attributes raw and writes them back', () => {
    const w = new Writer();
    w.attrU32(4, 1500); // mtu
    w.attrU32(999, 7);
    const bytes = w.take();
    const decoded = linkAttrs.decode(bytes, 0, bytes.length);
    expect(decoded.unknownAttributes).toEqual([{ type: 999, data: Buffer.from([7, 0, 0, 0]) }]);
    const again = new Writer();
    linkAttrs.encode(again, decoded);
    expect(decoded.mtu).toBe(1500);
    expect(again.take()).toEqual(bytes);
  });

  it('decodes a struct by the length the kernel sent: shorter and longer', () => {
    const stats = rtLinkSchemas.struct('rtnl-link-stats64');
    const short = Buffer.alloc(16);
    short.writeUInt32LE(5, 0);
    short.writeUInt32LE(6, 8);
    expect(stats.decode(short, 0, 16)).toEqual({ rxPackets: 5, txPackets: 6 });
    const long = Buffer.alloc(stats.size + 24, 1);
    expect(Object.keys(stats.decode(long, 0, long.length))).toHaveLength(
      stats.members.filter((m) => m.type !== 'pad').length,
    );
  });
});

describe('NetlinkError', () => {
  it('carries code, errno, operation and the extended ACK text', () => {
    const e = new NetlinkError(22, 'RTM_NEWLINK', 'mtu greater than device maximum', { offset: 36 });
    expect(e).toMatchObject({ code: 'EINVAL', errno: 22, operation: 'RTM_NEWLINK', details: { offset: 36 } });
    expect(e.message).toBe('RTM_NEWLINK: mtu greater than device maximum (EINVAL)');
    expect(new NetlinkError(17, 'RTM_NEWLINK').message).toMatch(/EEXIST/);
    expect(errnoName(95)).toBe('EOPNOTSUPP'); // not libuv's ENOTSUP
  });
});
