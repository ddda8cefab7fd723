/**
 * Named namespaces interoperate with `ip netns` both ways; the main thread
 * never stays in another namespace; processes, workers and Node sockets
 * run inside one.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
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
});
