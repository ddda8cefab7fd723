/**
 * The five programs of STORIES.md, as examples/ has them: each must run
 * and leave no namespace behind. Uses the built package (dist/).
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describeIf, loadProbe } from '../harness/env';

const probe = loadProbe();
const ready = probe.root && probe.ipNetns && probe.nftables === true && probe.linkKinds.tun === true;
const describeRoot = describeIf(ready, probe.reason ?? 'needs root, ip netns, nftables and tun');

const run = (file: string, ...args: string[]) =>
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', file), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

describeRoot('the stories in examples/', () => {
  it('cni.js: ADD gives the container eth0, an address and a way out; DEL takes it away; both idempotent', () => {
    const out = run('cni.js');
    expect(out).toMatch(/ADD -> \{[\s\S]*interface: 'eth0'[\s\S]*address: '10\.22\.0\.5\/24'/);
    expect(out).toContain('the container reaches its gateway: yes');
    expect(out).toContain('DEL -> links left in the container: lo');
    expect(namespaces()).not.toMatch(/rtnl-cni-/);
  });

  it('lab.js: nodes on a bridge, shaped, partitioned and healed', () => {
    const out = run('lab.js', '4');
    expect(out).toContain('0 -> 3: true');
    expect(out).toContain('2 -> 0: false, 1 -> 0: true');
    expect(out).toContain('healed; 2 -> 0: true');
    expect(namespaces()).not.toMatch(/rtnl-lab-/);
  });

  it('vpn.js: packets into the tunnel, marked ones around it, masquerade, uplink events', () => {
    const out = run('vpn.js');
    expect(out).toMatch(/read a \d+-byte packet for 198\.51\.100\.53 from vpn0/);
    expect(out).toContain("where the daemon's own packets go: uplink");
    expect(out).toContain('where everything else goes: tunnel');
    expect(out).toContain('uplink lost 192.0.2.2');
    expect(namespaces()).not.toMatch(/rtnl-vpn-/);
  });

  it('route-injector.js: routes on a nexthop group follow its replacement; streamed back', () => {
    const out = run('route-injector.js', '5000');
    expect(out).toContain('installed 5000 routes on nexthop group 100');
    expect(out).toMatch(/goes via 192\.0\.2\.1\d/);
    expect(out).toMatch(/now goes via 198\.51\.100\.1\d/);
    expect(out).toMatch(/streamed 5000 routes back/);
    expect(namespaces()).not.toMatch(/rtnl-injector-/);
  });

  it('observer.js: events and counters of other namespaces, by nsid', () => {
    const out = run('observer.js', '1');
    expect(out).toMatch(/\[rtnl-obs-a-\w+\] new link br0/);
    expect(out).toMatch(/\[rtnl-obs-b-\w+\] new addr 10\.60\.1\.1\/24/);
    expect(out).toMatch(/rtnl-obs-a-\w+ \(nsid \d+\): lo rx 0 tx 0, br0/);
    expect(namespaces()).not.toMatch(/rtnl-obs-/);
  });
});
