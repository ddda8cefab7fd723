import {
  formatIPv4,
  formatIPv6,
  formatMac,
  parseIP,
  parseIPv4,
  parseIPv6,
  parseMac,
  parsePrefix,
} from '../../lib/netlink/address';

describe('IPv4', () => {
  it('formats and parses', () => {
    expect(formatIPv4(Buffer.from([10, 0, 255, 1]))).toBe('10.0.255.1');
    expect(parseIPv4('192.0.2.7')).toEqual(Buffer.from([192, 0, 2, 7]));
  });
  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.x', ''])('rejects %p', (text) => {
    expect(parseIPv4(text)).toBeNull();
  });
});

describe('IPv6', () => {
  // Expected strings are what glibc's inet_ntop prints (and so `ip`).
  it.each([
    ['::', '0000000000000000000000000000000'.padEnd(32, '0')],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001'],
    ['fe80::a8bb:ccff:fedd:eeff', 'fe80000000000000a8bbccfffeddeeff'],
    ['2001:db8::1:0:0:1', '20010db8000000000001000000000001'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['::192.0.2.1', '000000000000000000000000c0000201'],
    ['1::', '00010000000000000000000000000000'],
  ])('formats %s', (text, hex) => {
    expect(formatIPv6(Buffer.from(hex, 'hex'))).toBe(text);
    expect(parseIPv6(text)?.toString('hex')).toBe(hex);
  });
  it.each(['1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'g::1', '12345::', '1:2:3:4:5:6:7'])('rejects %p', (text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});

describe('prefixes and MACs', () => {
  it('parses CIDR and default', () => {
    expect(parsePrefix('10.0.0.0/24')).toEqual({ family: 4, bytes: Buffer.from([10, 0, 0, 0]), prefixLength: 24 });
    expect(parsePrefix('2001:db8::/32')?.prefixLength).toBe(32);
    expect(parsePrefix('10.0.0.1')?.prefixLength).toBe(32);
    expect(parsePrefix('default', 6)?.bytes.length).toBe(16);
    expect(parsePrefix('10.0.0.0/33')).toBeNull();
    expect(parsePrefix('10.0.0.0/0x1')).toBeNull();
  });
  it('refuses prefix lengths that are not plain decimals, and IPv4 parts out of range', () => {
    for (const bad of [
      '10.0.0.0/',
      '10.0.0.0/01',
      '10.0.0.0/00',
      '10.0.0.0/-1',
      '10.0.0.0/ 8',
      '10.0.0.0/8 ',
      '10.0.0.0//8',
      '10.0.0.0/8/8',
      '10.0.0.0/1000',
      '::/129',
      '256.0.0.0/8',
      '01.0.0.0/8',
      '1.2.3/8',
      '/8',
    ]) {
      expect([bad, parsePrefix(bad)]).toEqual([bad, null]);
    }
    expect(parsePrefix('10.0.0.0/0')?.prefixLength).toBe(0);
    expect(parsePrefix('::/128')?.prefixLength).toBe(128);
    expect(parsePrefix('255.255.255.255/32')?.bytes).toEqual(Buffer.from([255, 255, 255, 255]));
  });
  it('formats and parses MACs', () => {
    expect(formatMac(Buffer.from('02fc00000001', 'hex'))).toBe('02:fc:00:00:00:01');
    expect(parseMac('AA:bb:cc:dd:ee:ff')?.toString('hex')).toBe('aabbccddeeff');
    expect(parseMac('aa:bb:cc:dd:ee')).not.toBeNull(); // any length: infiniband has 20 bytes
    expect(parseMac('aa-bb-cc-dd-ee-ff')).toBeNull();
    expect(parseIP('10.1.2.3')?.family).toBe(4);
    expect(parseIP('nonsense')).toBeNull();
  });
});
