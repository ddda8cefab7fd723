/** Bridge VLAN entries against `bridge -j vlan show`, where the kernel filters VLANs. */
import { execFileSync } from 'node:child_process';
import * as nl from '../../lib';
import { describeIf, loadProbe, missing, useNetns } from '../harness/env';

const probe = loadProbe();
const root = probe.root && probe.ipNetns;
const bridgeJson = (ns: string) =>
  JSON.parse(execFileSync('bridge', ['-n', ns, '-j', 'vlan', 'show'], { encoding: 'utf8' }) || '[]') as {
    ifname: string;
    vlans: { vlan: number; vlanEnd?: number; flags?: string[] }[];
  }[];

describeIf(root, probe.reason ?? 'needs root')('bridge vlan listing', () => {
  const ns = useNetns();
  it('lists what bridge vlan show lists (nothing without VLAN filtering), and refuses bad input first', async () => {
    await using h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'bridge', name: 'br0' });
    await h.link.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' }, master: 'br0' });
    const ours = await h.bridge.vlan.list();
    const theirs = bridgeJson(ns.name).flatMap((p) => p.vlans.map((v) => v.vlan));
    expect(ours.map((v) => v.vid)).toEqual(theirs);
    await expect(h.bridge.vlan.add({ dev: 'p0', vid: 4095 })).rejects.toBeInstanceOf(RangeError);
    await expect(h.bridge.vlan.add({ dev: 'p0', vid: 10, vidEnd: 5 })).rejects.toBeInstanceOf(TypeError);
    await expect(h.bridge.vlan.add({ dev: 'p0', vid: 10, vidEnd: 20, pvid: true })).rejects.toBeInstanceOf(TypeError);
  });
});

describeIf(
  root && probe.features.bridgeVlanFiltering === true,
  root ? missing(probe, 'features', 'bridgeVlanFiltering') : (probe.reason ?? 'needs root'),
)('bridge vlan entries', () => {
  const ns = useNetns();
  it('adds, lists and deletes entries and ranges as bridge vlan shows them', async () => {
    await using h = await nl.open({ netns: ns.name });
    await h.link.add({ kind: 'bridge', name: 'br0', vlanFiltering: 1 });
    await h.link.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' }, master: 'br0' });
    await h.bridge.vlan.add({ dev: 'p0', vid: 10, pvid: true, untagged: true });
    await h.bridge.vlan.add({ dev: 'p0', vid: 20, vidEnd: 30 });
    const p0 = (await h.link.get('p0')).index;
    const ours = (await h.bridge.vlan.list({ dev: 'p0' })).filter((v) => v.vid !== 1);
    expect(ours).toEqual([
      { dev: p0, vid: 10, pvid: true, untagged: true },
      { dev: p0, vid: 20, vidEnd: 30, pvid: false, untagged: false },
    ]);
    const theirs = bridgeJson(ns.name)
      .find((p) => p.ifname === 'p0')!
      .vlans.filter((v) => v.vlan !== 1);
    expect(theirs).toEqual([
      { vlan: 10, flags: ['PVID', 'Egress Untagged'] },
      { vlan: 20, vlanEnd: 30 },
    ]);
    await h.bridge.vlan.del({ dev: 'p0', vid: 10 });
    expect((await h.bridge.vlan.list({ dev: 'p0' })).map((v) => v.vid)).not.toContain(10);
  });
});
