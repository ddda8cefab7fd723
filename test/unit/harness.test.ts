import { IFNAMSIZ_MAX, describeIf, itIf, loadProbe, randomIfName, randomName } from '../harness/env';

describe('test harness', () => {
  it('makes interface names that fit IFNAMSIZ', () => {
    for (const prefix of ['', 't', 'veth', 'abcdefghijk']) {
      for (let i = 0; i < 50; i++) {
        const name = randomIfName(prefix);
        expect(name.startsWith(prefix)).toBe(true);
        expect(name.length).toBeLessThanOrEqual(IFNAMSIZ_MAX);
        expect(name).toMatch(/^[a-z0-9]+$/);
      }
    }
    expect(new Set(Array.from({ length: 100 }, () => randomIfName())).size).toBe(100);
    expect(() => randomIfName('abcdefghijkl')).toThrow(RangeError);
  });

  it('makes namespace names tagged with the run id', () => {
    const name = randomName();
    expect(name.startsWith(`rtnl-test-${process.env.RTNL_TEST_RUN_ID ?? ''}`)).toBe(true);
    expect(name).not.toBe(randomName());
  });

  it('reads the probe made by globalSetup', () => {
    const probe = loadProbe();
    expect(typeof probe.root).toBe('boolean');
    expect(typeof probe.linkKinds.veth).toBe('boolean');
  });

  it('itIf returns it when the condition holds, else registers a skip named with the reason', () => {
    expect(itIf(true, 'unused')).toBe(it);
    expect(describeIf(true, 'unused')).toBe(describe);

    const skip = jest.spyOn(it, 'skip').mockImplementation(() => undefined);
    const describeSkip = jest.spyOn(describe, 'skip').mockImplementation(() => undefined);
    try {
      const body = () => undefined;
      itIf(false, 'kernel lacks linkKinds.vlan')('adds a vlan', body, 5000);
      expect(skip).toHaveBeenCalledWith('adds a vlan [skipped: kernel lacks linkKinds.vlan]', body, 5000);
      describeIf(false, 'needs root')('netns', body);
      expect(describeSkip).toHaveBeenCalledWith('netns [skipped: needs root]', body);
    } finally {
      skip.mockRestore();
      describeSkip.mockRestore();
    }
  });
});
