/** struct ifreq for TUNSETIFF, on exact bytes (linux/if.h, linux/if_tun.h). */
import { buildIfreq } from '../../lib/tun';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_TUN, IFF_VNET_HDR, TUNSETIFF } from '../../lib/netlink/constants';

describe('tun ioctls', () => {
  it('TUNSETIFF is _IOW(T, 202, int)', () => {
    expect(TUNSETIFF).toBe((1 << 30) | (4 << 16) | ('T'.charCodeAt(0) << 8) | 202);
  });

  it('ifreq: name NUL-padded to IFNAMSIZ, flags as a native-endian short, 40 bytes', () => {
    const ifr = buildIfreq('tap0', IFF_TAP | IFF_NO_PI);
    expect(ifr.length).toBe(40);
    expect(ifr.subarray(0, 16).toString('hex')).toBe('74617030' + '00'.repeat(12));
    expect(ifr.subarray(16, 18).toString('hex')).toBe('0210');
    expect(ifr.subarray(18).equals(Buffer.alloc(22))).toBe(true);
  });

  it('flags of a multi-queue tun with a vnet header and packet info', () => {
    const ifr = buildIfreq('tun%d', IFF_TUN | IFF_MULTI_QUEUE | IFF_VNET_HDR);
    expect(ifr.readUInt16LE(16)).toBe(0x4101);
    expect(ifr.toString('utf8', 0, 5)).toBe('tun%d');
  });
});
