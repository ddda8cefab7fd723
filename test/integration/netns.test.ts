/**
 * Named namespaces interoperate with `ip netns` both ways; the main thread
 * never stays in another namespace; processes, workers and Node sockets
 * run inside one.
 */
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nl from '../../lib';
import { describeIf, ip, ipJson, loadProbe, randomName } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

const threadNetns = () => fs.statSync('/proc/thread-self/ns/net').ino;
const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('namespace names (no root needed)', () => {
  it.each([[''], ['.'], ['..'], ['a/b'], ['x'.repeat(256)], [42 as unknown as string]])(
    'rejects %p before any syscall',
    async (name) => {
      await expect(nl.netns.create(name)).rejects.toBeInstanceOf(TypeError);
      await expect(nl.netns.delete(name)).rejects.toBeInstanceOf(TypeError);
    },
  );
  it('rejects a non-function for runSync', () => {
    expect(() => nl.netns.runSync('x', 1 as unknown as () => void)).toThrow(TypeError);
  });
});

describeRoot('named namespaces', () => {
  const made: string[] = [];
  const fresh = () => {
    const name = randomName();
    made.push(name);
    return name;
  };
  afterAll(() => {
    for (const name of made) if (fs.existsSync(`/run/netns/${name}`)) ip(['netns', 'del', name]);
  });

  it('created by us: ip netns lists it, ip netns exec sees the links we made in it', async () => {
    const name = fresh();
    await nl.netns.create(name);
    expect(await nl.netns.exists(name)).toBe(true);
    expect(ip(['netns', 'list'])).toContain(name);
    const h = await nl.open({ netns: name });
    await h.link.add({ kind: 'bridge', name: 'ours0' });
    await h.close();
    const links = JSON.parse(ip(['netns', 'exec', name, 'ip', '-j', 'link', 'show'])) as { ifname: string }[];
    expect(links.map((l) => l.ifname).sort()).toEqual(['lo', 'ours0']);
    await nl.netns.delete(name);
    expect(ip(['netns', 'list'])).not.toContain(name);
    expect(await nl.netns.exists(name)).toBe(false);
  });

  it('created by ip netns add: we list it and work inside it', async () => {
    const name = fresh();
    ip(['netns', 'add', name]);
    ip(['link', 'add', 'theirs0', 'type', 'bridge'], name);
    expect(await nl.netns.list()).toContain(name);
    const h = await nl.open({ netns: name });
    expect((await h.link.list()).map((l) => l.name).sort()).toEqual(['lo', 'theirs0']);
    await h.close();
    await nl.netns.delete(name);
    expect(ip(['netns', 'list'])).not.toContain(name);
  });

  it('refuses an existing name with EEXIST and a missing one with ENOENT, changing nothing', async () => {
    const name = fresh();
    await nl.netns.create(name);
    const inode = fs.statSync(`/run/netns/${name}`).ino;
    await expect(nl.netns.create(name)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(fs.statSync(`/run/netns/${name}`).ino).toBe(inode);
    await nl.netns.delete(name);
    await expect(nl.netns.delete(name)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(nl.open({ netns: name })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => nl.netns.open(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('never moves the main thread: not on create, open, requests, or a runSync that throws', async () => {
    const home = threadNetns();
    const name = fresh();
    await nl.netns.create(name);
    expect(threadNetns()).toBe(home);
    const h = await nl.open({ netns: name });
    await h.link.list();
    expect(threadNetns()).toBe(home);
    const inside = nl.netns.runSync(name, () => threadNetns());
    expect(inside).not.toBe(home);
    expect(() =>
      nl.netns.runSync(name, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(threadNetns()).toBe(home);
    // nested: inner switch and back, outer restored last
    const homeNs = nl.netns.current();
    const seen = nl.netns.runSync(name, () => [
      threadNetns(),
      nl.netns.runSync(homeNs, () => threadNetns()),
      threadNetns(),
    ]);
    homeNs.close();
    expect(seen).toEqual([inside, home, inside]);
    expect(threadNetns()).toBe(home);
    // the thread pool was born at home: fs.promises after runSync reads the host's view
    const ours = await fs.promises
      .readFile('/proc/thread-self/net/dev', 'utf8')
      .catch(() => fs.readFileSync('/proc/self/net/dev', 'utf8'));
    expect(ours).toContain('eth0');
    // a default handle first used inside runSync still lives at home
    await nl.close();
    const hostLinks = await new Promise<nl.Link[]>((resolve, reject) =>
      nl.netns.runSync(name, () => {
        nl.link.list().then(resolve, reject);
      }),
    );
    expect(hostLinks.map((l) => l.name)).toContain('eth0');
    await nl.close();
    await h.close();
    await nl.netns.delete(name);
  });

  it('deleting a namespace in use detaches it: the process inside keeps its network', async () => {
    const name = fresh();
    await nl.netns.create(name);
    const child = nl.netns.spawn(name, 'sleep', ['5']);
    await new Promise((r) => child.once('spawn', r));
    const viaPid = nl.netns.open({ pid: child.pid! });
    await nl.netns.delete(name);
    expect(await nl.netns.exists(name)).toBe(false);
    const h = await nl.open({ netns: viaPid });
    expect((await h.link.list()).map((l) => l.name)).toEqual(['lo']);
    await h.close();
    viaPid.close();
    child.kill();
  });

  it('runs processes inside: spawn and exec', async () => {
    const name = fresh();
    await nl.netns.create(name);
    const h = await nl.open({ netns: name });
    await h.link.add({ kind: 'bridge', name: 'seen0' });
    const { stdout, code } = await nl.netns.exec(name, 'ip', ['-j', 'link', 'show']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { ifname: string }[]).map((l) => l.ifname)).toContain('seen0');
    const failed = await nl.netns.exec(name, 'sh', ['-c', 'exit 3']);
    expect(failed.code).toBe(3);
    await h.close();
    await nl.netns.delete(name);
  });

  it('NetNS handles: equals by device and inode, current(), close()', async () => {
    const name = fresh();
    await nl.netns.create(name);
    const a = nl.netns.open(name);
    const b = nl.netns.open(`/run/netns/${name}`);
    const here = nl.netns.current();
    expect(a.equals(b)).toBe(true);
    expect(a.equals(here)).toBe(false);
    expect(here.equals(nl.netns.open({ pid: process.pid }))).toBe(true);
    a.close();
    a.close();
    expect(a.closed).toBe(true);
    b.close();
    here.close();
    await nl.netns.delete(name);
  });

  it('leaves the fd count unchanged after 100 create/delete cycles', async () => {
    const before = openFds();
    const cycled: string[] = [];
    for (let i = 0; i < 100; i++) {
      const name = fresh();
      cycled.push(name);
      await nl.netns.create(name);
      await nl.netns.delete(name);
    }
    expect(openFds()).toBe(before);
    expect(ipJson(['netns', 'list']).filter((n: { name: string }) => cycled.includes(n.name))).toEqual([]);
  });

  it('moves a veth end into another namespace by name, and Node sockets talk across it', async () => {
    const a = fresh();
    const b = fresh();
    await nl.netns.create(a);
    await nl.netns.create(b);
    const ha = await nl.open({ netns: a });
    const hb = await nl.open({ netns: b });
    try {
      await ha.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb', netns: b } });
      await ha.addr.add('va', '10.201.0.1/24');
      await hb.addr.add('vb', '10.201.0.2/24');
      await ha.link.set('va', { up: true });
      await hb.link.set('vb', { up: true });
      const server = nl.netns.runSync(a, () => net.createServer((c) => c.end('hello from a')).listen(7100));
      await new Promise((r) => server.once('listening', r));
      const client = new net.Socket({ fd: nl.netns.socketFd(b, 'tcp4') });
      const reply = await new Promise<string>((resolve, reject) => {
        let data = '';
        client.on('data', (d) => (data += d));
        client.on('end', () => resolve(data));
        client.on('error', reject);
        client.connect(7100, '10.201.0.1');
      });
      expect(reply).toBe('hello from a');
      server.close();
      // a worker started inside b: its own net.connect lives there too
      const worker = nl.netns.worker(b, path.join(__dirname, 'fixtures', 'worker-connect.js'), {
        workerData: { host: '10.201.0.1', port: 7101 },
      });
      const server2 = nl.netns.runSync(a, () => net.createServer((c) => c.end('to the worker')).listen(7101));
      await new Promise((r) => server2.once('listening', r));
      worker.postMessage('go');
      const got = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(got).toBe('to the worker');
      await worker.terminate();
      server2.close();
    } finally {
      await ha.close();
      await hb.close();
      await nl.netns.delete(a);
      await nl.netns.delete(b);
    }
  });

  it('moves links by name, path, pid and NetNS (link.set and link.add), as ip -j sees it', async () => {
    const a = fresh();
    const b = fresh();
    await nl.netns.create(a);
    await nl.netns.create(b);
    const child = nl.netns.spawn(b, 'sleep', ['10']);
    await new Promise((r) => child.once('spawn', r));
    const ha = await nl.open({ netns: a });
    const bHandle = nl.netns.open(b);
    try {
      // (bridges cannot change namespace: NETIF_F_NETNS_LOCAL; veth ends can)
      for (const name of ['byname', 'bypath', 'bypid', 'bynetns'])
        await ha.link.add({ kind: 'veth', name, peer: { name: `${name}-p` } });
      await ha.link.set('byname', { netns: b });
      await ha.link.set('bypath', { netns: `/run/netns/${b}` });
      await ha.link.set('bypid', { netns: { pid: child.pid! } });
      await ha.link.set('bynetns', { netns: bHandle });
      await ha.link.add({ kind: 'veth', name: 'madethere', netns: child.pid!, peer: { name: 'stayshere' } });
      expect(bHandle.closed).toBe(false); // the caller's NetNS stays the caller's
      const inB = (ipJson(['link', 'show'], b) as { ifname: string }[]).map((l) => l.ifname).sort();
      expect(inB).toEqual(['byname', 'bynetns', 'bypath', 'bypid', 'lo', 'madethere']);
      expect((await ha.link.list()).map((l) => l.name).sort()).toEqual([
        'byname-p',
        'bynetns-p',
        'bypath-p',
        'bypid-p',
        'lo',
        'stayshere',
      ]);
      await expect(
        ha.link.add({ kind: 'bridge', name: 'br0' }).then(() => ha.link.set('br0', { netns: b })),
      ).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('netns is immutable') });
      await expect(ha.link.set('lo', { netns: 'rtnl-test-no-such-namespace' })).rejects.toMatchObject({
        code: 'ENOENT',
      });
    } finally {
      child.kill();
      bHandle.close();
      await ha.close();
      await nl.netns.delete(a);
      await nl.netns.delete(b);
    }
  });

  it('namespace ids: none until set, then what ip netns list-id shows; ids are per observer', async () => {
    const a = fresh();
    const b = fresh();
    const c = fresh();
    for (const n of [a, b, c]) await nl.netns.create(n);
    const ha = await nl.open({ netns: a });
    const hc = await nl.open({ netns: c });
    try {
      expect(await ha.nsid.get(b)).toBeUndefined();
      await ha.nsid.set(b, 42);
      expect(await ha.nsid.get(b)).toBe(42);
      expect(await ha.nsid.get({ pid: process.pid })).toBeUndefined();
      // iproute2, asked from inside a, agrees
      const ids = JSON.parse(ip(['netns', 'exec', a, 'ip', '-j', 'netns', 'list-id'])) as { nsid: number }[];
      expect(ids.map((i) => i.nsid)).toContain(42);
      // another observer has its own (none yet)
      expect(await hc.nsid.get(b)).toBeUndefined();
      // an id once given cannot change, and cannot be reused for another namespace
      await expect(ha.nsid.set(b, 43)).rejects.toMatchObject({ code: 'EEXIST', operation: 'RTM_NEWNSID' });
      await expect(ha.nsid.set(c, 42)).rejects.toMatchObject({ code: 'EEXIST' });
      // ids set by iproute2 read back
      ip(['netns', 'set', c, '7'], undefined);
      expect(await nl.netns.getId(c)).toBe(7);
      // a veth peer in another namespace makes the kernel assign one, and the link reports it
      await ha.link.add({ kind: 'veth', name: 'toc', peer: { name: 'froma', netns: c } });
      const assigned = await ha.nsid.get(c);
      expect(typeof assigned).toBe('number');
      expect((await ha.link.get('toc')).netnsId).toBe(assigned);
      await expect(ha.nsid.set(b, -1)).rejects.toBeInstanceOf(TypeError);
      await expect(ha.nsid.get({ pid: 2147483647 })).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await ha.close();
      await hc.close();
      for (const n of [a, b, c]) await nl.netns.delete(n);
    }
  });

  it('sysctl: reads and writes the handle namespace only, like ip netns exec sysctl', async () => {
    const name = fresh();
    await nl.netns.create(name);
    const h = await nl.open({ netns: name });
    const hostForward = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const sysctl = (key: string) => ip(['netns', 'exec', name, 'sysctl', '-n', key]).trim().replace(/\s+/g, ' ');
    try {
      expect(await h.sysctl.get('net.ipv4.ip_forward')).toBe(sysctl('net.ipv4.ip_forward'));
      await h.sysctl.set('net.ipv4.ip_forward', hostForward === '1' ? 0 : 1);
      expect(sysctl('net.ipv4.ip_forward')).toBe(hostForward === '1' ? '0' : '1');
      expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(hostForward);
      expect(await nl.sysctl.get('net.ipv4.ip_forward')).toBe(hostForward);
      await h.sysctl.set('net.ipv4.ip_local_port_range', [20000, 30000]);
      expect(await h.sysctl.get('net.ipv4.ip_local_port_range')).toBe('20000\t30000');
      expect(sysctl('net.ipv4.ip_local_port_range')).toBe('20000 30000');
      await h.sysctl.set('net/ipv6/conf/lo/disable_ipv6', true);
      expect(await h.sysctl.get('net.ipv6.conf.lo.disable_ipv6')).toBe('1');
      await expect(h.sysctl.get('net.ipv4.no_such_thing')).rejects.toMatchObject({ code: 'ENOENT', errno: 2 });
      await expect(h.sysctl.set('net.ipv4.ip_local_port_range', 'nonsense')).rejects.toMatchObject({
        code: 'EINVAL',
      });
      for (const bad of ['kernel.hostname', 'net/../kernel/hostname', 'net..ipv4', 'net', '', 7]) {
        await expect(h.sysctl.get(bad as string)).rejects.toBeInstanceOf(TypeError);
      }
      await expect(h.sysctl.set('net.ipv4.ip_forward', 1.5)).rejects.toBeInstanceOf(TypeError);
      await expect(h.sysctl.set('net.ipv4.ip_forward', {} as unknown as string)).rejects.toBeInstanceOf(TypeError);
    } finally {
      await h.close();
      await nl.netns.delete(name);
    }
    await expect(h.sysctl.get('net.ipv4.ip_forward')).rejects.toMatchObject({ code: 'ERR_RTNL_CLOSED' });
  });

  it('Node sockets of every kind in a namespace by fd: bound TCP server, TCP client, UDP both ways', async () => {
    const a = fresh();
    const b = fresh();
    await nl.netns.create(a);
    await nl.netns.create(b);
    const ha = await nl.open({ netns: a });
    const hb = await nl.open({ netns: b });
    try {
      await ha.link.add({ kind: 'veth', name: 'va', peer: { name: 'vb', netns: b }, up: true });
      await ha.addr.add('va', '10.202.0.1/24');
      await hb.addr.add('vb', '10.202.0.2/24');
      await hb.link.set('vb', { up: true });
      // TCP server bound to a's address (listen(port, host) would make its fd too late for runSync)
      const server = net.createServer((c) => c.end('tcp ok'));
      server.listen({ fd: nl.netns.socketFd(a, 'tcp4', { port: 7200, address: '10.202.0.1' }) });
      await new Promise((r) => server.once('listening', r));
      const client = new net.Socket({ fd: nl.netns.socketFd(b, 'tcp4') });
      const tcp = await new Promise<string>((resolve, reject) => {
        let data = '';
        client.on('data', (d) => (data += d));
        client.on('end', () => resolve(data));
        client.on('error', reject);
        client.connect(7200, '10.202.0.1');
      });
      expect(tcp).toBe('tcp ok');
      server.close();
      // UDP: an echo bound in a, a sender bound in b; each sees the other's namespace address
      const echo = dgram.createSocket('udp4');
      echo.on('message', (m, from) =>
        echo.send(Buffer.concat([m, Buffer.from(` from ${from.address}`)]), from.port, from.address),
      );
      await new Promise<void>((r) => echo.bind({ fd: nl.netns.socketFd(a, 'udp4', { port: 7201 }) }, r));
      const sender = dgram.createSocket('udp4');
      await new Promise<void>((r) => sender.bind({ fd: nl.netns.socketFd(b, 'udp4', { port: 0 }) }, r));
      const udp = await new Promise<string>((resolve) => {
        sender.once('message', (m) => resolve(String(m)));
        sender.send('udp ok', 7201, '10.202.0.1');
      });
      expect(udp).toBe('udp ok from 10.202.0.2');
      echo.close();
      sender.close();
      // a's address does not exist in b: binding there fails cleanly, no fd leaks
      const before = openFds();
      expect(() => nl.netns.socketFd(b, 'tcp4', { port: 7202, address: '10.202.0.1' })).toThrow(
        expect.objectContaining({ code: 'EADDRNOTAVAIL' }),
      );
      expect(openFds()).toBe(before);
      expect(() => nl.netns.socketFd(b, 'udp6', { address: '10.0.0.1' })).toThrow(TypeError);
      expect(() => nl.netns.socketFd(b, 'tcp4', { port: 70000 })).toThrow(TypeError);
    } finally {
      await ha.close();
      await hb.close();
      await nl.netns.delete(a);
      await nl.netns.delete(b);
    }
  });
});

describeRoot('rootless: an unprivileged user in unshare -Urnm', () => {
  // The package is copied to a world-readable directory: the checkout may sit where nobody cannot read.
  let dir = '';
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('manages links, addresses and sysctls of its own namespace; named ones on its own /run/netns', () => {
    const root = path.join(__dirname, '..', '..');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtnl-rootless-'));
    fs.chmodSync(dir, 0o755);
    const pkg = path.join(dir, 'pkg');
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.cpSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
    fs.cpSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(pkg, 'node_modules', 'node-gyp-build'), {
      recursive: true,
    });
    const built = path.join(root, 'build', 'Release', 'rtnl.node');
    if (fs.existsSync(built)) fs.cpSync(built, path.join(pkg, 'build', 'Release', 'rtnl.node'));
    else fs.cpSync(path.join(root, 'prebuilds'), path.join(pkg, 'prebuilds'), { recursive: true });
    fs.cpSync(path.join(__dirname, 'fixtures', 'rootless.js'), path.join(dir, 'rootless.js'));
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    const out = execFileSync(
      'runuser',
      ['-u', 'nobody', '--', 'unshare', '-Urnm', process.execPath, path.join(dir, 'rootless.js'), pkg],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const report = JSON.parse(out) as {
      uid: number;
      steps: Record<string, { ok: boolean; value?: unknown; code?: string }>;
    };
    // "root" inside the user namespace, nobody outside
    expect(report.uid).toBe(0);
    const { steps } = report;
    expect(steps['link.list']).toEqual({ ok: true, value: ['lo'] });
    expect(steps['link.set lo up']).toEqual({ ok: true, value: true });
    expect(steps['link.add veth']).toEqual({ ok: true, value: ['rl0', 'rl1'] });
    expect(steps['addr.add']).toEqual({ ok: true, value: ['10.9.0.1/24'] });
    expect(steps['sysctl.set']).toEqual({ ok: true, value: '1' });
    // the real /run/netns belongs to the real root
    expect(steps['netns.create in /run/netns']).toMatchObject({ ok: false, code: 'EACCES' });
    expect(steps['netns.create on own tmpfs']).toEqual({
      ok: true,
      value: { list: ['rootless-ns'], names: ['lo', 'rbr0'] },
    });
    // and the real /run/netns has nothing of it
    expect(fs.existsSync('/run/netns/rootless-denied')).toBe(false);
    expect(fs.existsSync('/run/netns/rootless-ns')).toBe(false);
  });
});
