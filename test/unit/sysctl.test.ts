/** sysctl keys map to /proc/sys/net paths and nothing else. */
import { sysctlPath } from '../../lib/sysctl';

describe('sysctl keys', () => {
  it.each([
    ['net.ipv4.ip_forward', '/proc/sys/net/ipv4/ip_forward'],
    ['net.ipv6.conf.all.disable_ipv6', '/proc/sys/net/ipv6/conf/all/disable_ipv6'],
    // sysctl(8)'s slash form keeps dots inside a component (vlan-style names)
    ['net/ipv4/conf/eth0.100/forwarding', '/proc/sys/net/ipv4/conf/eth0.100/forwarding'],
  ])('%s -> %s', (key, path) => {
    expect(sysctlPath(key)).toBe(path);
  });

  it.each([
    ['kernel.hostname'],
    ['net'],
    ['net/../kernel/hostname'],
    ['net/ipv4/../../kernel/x'],
    ['net..ipv4'],
    ['net.ipv4.'],
    ['net/ipv4//x'],
    ['net.ipv4.x\0'],
    [''],
    [7],
    [null],
  ])('refuses %p with a TypeError', (key) => {
    expect(() => sysctlPath(key)).toThrow(TypeError);
  });
});
