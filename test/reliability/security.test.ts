/**
 * Security properties, checked on the sources and on a live process:
 * no shell, no eval, child_process only where netns.spawn/exec start the
 * user's own command; every fd close-on-exec (a child holds none of our
 * netlink sockets, namespace fds or tun queues); names and keys stay in
 * their directories; the calling thread's namespace is never left changed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as nl from '../../lib';
import { validateName } from '../../lib/netns';
import { sysctlPath } from '../../lib/sysctl';
import { describeIf, loadProbe, useNetns } from '../harness/env';
import { Rng } from './fuzz';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');
const ROOT = path.join(__dirname, '..', '..');

function sources(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full, pattern));
    else if (pattern.test(entry.name)) out.push(full);
  }
  return out;
}

/** Strips comments and string literals' contents, so that prose ("no shell is used") is not code. */
function codeOnly(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(^|[^:\\])\/\/.*$/gm, '$1')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (s) => s[0] + s[0]);
}

interface Violation {
  file: string;
  rule: string;
  line: number;
}

const TS_RULES: [string, RegExp][] = [
  ['eval', /\beval\s*\(/],
  ['new Function', /\bnew\s+Function\s*\(/],
  ['Function constructor', /\bFunction\s*\(\s*['"`]/],
  ['shell: true', /\bshell\s*:\s*(true|['"`])/],
  ['vm module', /from\s+['"]node:vm['"]|require\(\s*['"](node:)?vm['"]\s*\)/],
];
const NATIVE_RULES: [string, RegExp][] = [
  ['system()', /\bsystem\s*\(/],
  ['popen()', /\bpopen\s*\(/],
  ['exec*()', /\bexec(l|lp|le|v|vp|vpe|ve)\s*\(/],
  ['fork()', /\b(v?fork|clone|posix_spawnp?)\s*\(/],
];

function scan(file: string, text: string, rules: [string, RegExp][]): Violation[] {
  const out: Violation[] = [];
  const code = codeOnly(text);
  code.split('\n').forEach((line, i) => {
    for (const [rule, re] of rules) if (re.test(line)) out.push({ file, rule, line: i + 1 });
  });
  // Literal paths of a shell, anywhere (strings included).
  text.split('\n').forEach((line, i) => {
    if (/\/bin\/(ba|da|z)?sh\b/.test(line)) out.push({ file, rule: '/bin/sh', line: i + 1 });
  });
  return out;
}

describe('the sources', () => {
  const ts = sources(path.join(ROOT, 'lib'), /\.ts$/);
  const native = sources(path.join(ROOT, 'native'), /\.(cc|h)$/);

  it('are all scanned', () => {
    expect(ts.length).toBeGreaterThan(30);
    expect(native.length).toBeGreaterThan(5);
  });

  it('have no eval, new Function, vm or shell', () => {
    const found = [
      ...ts.flatMap((f) => scan(path.relative(ROOT, f), fs.readFileSync(f, 'utf8'), TS_RULES)),
      ...native.flatMap((f) => scan(path.relative(ROOT, f), fs.readFileSync(f, 'utf8'), NATIVE_RULES)),
    ];
    expect(found).toEqual([]);
  });

  it('use child_process only in lib/netns.ts, and there only spawn() (for netns.spawn/exec)', () => {
    const users = ts.filter(
      (f) =>
        /child_process/.test(codeOnly(fs.readFileSync(f, 'utf8')).replace(/''/g, '')) ||
        /['"]node:child_process['"]|['"]child_process['"]/.test(fs.readFileSync(f, 'utf8')),
    );
    expect(users.map((f) => path.relative(ROOT, f))).toEqual(['lib/netns.ts']);
    const text = codeOnly(fs.readFileSync(path.join(ROOT, 'lib', 'netns.ts'), 'utf8'));
    const calls = [...text.matchAll(/childProcess\.(\w+)\s*\(/g)].map((m) => m[1]);
    expect(new Set(calls)).toEqual(new Set(['spawn']));
  });

  it('the scanner finds what it looks for (it can fail)', () => {
    const bad = [
      "const f = new Function('return 1')",
      'eval(code)',
      "spawn('x', [], { shell: true })",
      "execFile('/bin/sh', ['-c', cmd])",
    ].join('\n');
    expect(scan('x.ts', bad, TS_RULES).map((v) => v.rule)).toEqual([
      'new Function',
      'Function constructor',
      'eval',
      'shell: true',
      '/bin/sh',
    ]);
    expect(scan('x.cc', 'int r = system(cmd); // system() here\nFILE *p = popen(c, "r");', NATIVE_RULES)).toHaveLength(
      2,
    );
    // ... and does not take prose for code.
    expect(scan('x.ts', "// no eval( here\nconst s = 'new Function(';", TS_RULES)).toEqual([]);
  });
});

describe('names and keys stay in their directories', () => {
  const alphabet = ['.', '..', '/', 'a', 'net', '\0', ' ', '%2e', '\\', 'ipv4', '-'];
  const randomKey = (rng: Rng) =>
    Array.from({ length: 1 + rng.below(8) }, () => alphabet[rng.below(alphabet.length)]).join('');

  it('every namespace name validateName accepts is one file directly in /run/netns', () => {
    const rng = new Rng(11);
    const escaped: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const name = randomKey(rng);
      try {
        validateName(name);
      } catch (e) {
        if (!(e instanceof TypeError)) escaped.push(`threw ${String(e)}`);
        continue;
      }
      accepted++;
      const resolved = path.resolve('/run/netns', name);
      if (path.dirname(resolved) !== '/run/netns' || path.basename(resolved) !== name) escaped.push(name);
    }
    expect(escaped).toEqual([]);
    expect(accepted).toBeGreaterThan(1000);
  });

  it('every sysctl key sysctlPath accepts resolves under /proc/sys/net', () => {
    const rng = new Rng(12);
    const escaped: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = (rng.chance(0.5) ? 'net.' : 'net/') + randomKey(rng);
      let p: string;
      try {
        p = sysctlPath(key);
      } catch (e) {
        if (!(e instanceof TypeError)) escaped.push(`threw ${String(e)}`);
        continue;
      }
      accepted++;
      // Nothing left to resolve ('.', '..', '//'), no NUL, and under /proc/sys/net.
      if (path.resolve(p) !== p || !p.startsWith('/proc/sys/net/') || p.includes('\0')) escaped.push(key);
    }
    expect(escaped).toEqual([]);
    expect(accepted).toBeGreaterThan(1000);
  });
});

/** What a process's fds point at ('socket:[123]', 'net:[4026...]', '/dev/net/tun', ...). */
function fdTargets(pid: number | 'self'): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.set(fd, fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed meanwhile (the readdir's own fd)
    }
  }
  return out;
}

const sensitive = (target: string) =>
  /^socket:|^net:|^\/run\/netns\/|^\/proc\/.*\/ns\/|\/dev\/net\/tun|^anon_inode:\[eventfd\]/.test(target);
/** Files a child opens itself while it starts (its locale), which the parent never had. */
const childsOwn = (target: string) => /^\/usr\/(lib|share)\/locale\//.test(target);

async function childFds(start: () => ReturnType<typeof spawn>): Promise<string[]> {
  const child = start();
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    // libuv reports 'spawn' after the exec succeeded: these are the fds the program got.
    return [...fdTargets(child.pid!).values()];
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

describeRoot('file descriptors (CLOEXEC)', () => {
  const ns = useNetns();

  it('a child spawned while handles, a monitor, a tun queue and a NetNS are open holds none of them', async () => {
    // What this process had before (a test runner may hand down inheritable fds of its own).
    const inherited = new Set([...fdTargets('self').values()]);
    const h = await nl.open({ netns: ns.name });
    const h2 = await nl.open({ netns: ns.name });
    const monitor = h.monitor({ groups: ['link', 'addr4'] });
    const netns = nl.netns.open(ns.name);
    let queue: { close(): void; destroy(): void } | undefined;
    try {
      await h.link.list();
      await h2.route.list();
      // A batch big enough to go out from the sender thread, which has an eventfd.
      const added = await h2.batch((b) => {
        for (let i = 0; i < 3000; i++) b.route.add({ dst: `10.44.${i >> 8}.${i & 255}/32`, type: 'blackhole' });
      });
      expect(added.every((r) => r.ok)).toBe(true);
      if (probe.linkKinds.tun)
        queue = (await h.link.tun.create({ name: 'sec0', type: 'tap', persist: false })) as never;
      const ours = [...fdTargets('self').values()].filter(sensitive);
      // Enough to make the check meaningful: netlink sockets and a namespace fd at least.
      expect(ours.filter((t) => t.startsWith('socket:')).length).toBeGreaterThanOrEqual(3);
      expect(ours.some((t) => t.startsWith('net:') || t.includes('/run/netns/'))).toBe(true);
      if (queue) expect(ours).toContain('/dev/net/tun');
      expect(ours).toContain('anon_inode:[eventfd]');

      const plain = await childFds(() => spawn('sleep', ['30'], { stdio: 'ignore' }));
      expect(plain.filter(sensitive)).toEqual([]);
      const inNamespace = await childFds(() => nl.netns.spawn(ns.name, 'sleep', ['30'], { stdio: 'ignore' }));
      expect(inNamespace.filter(sensitive)).toEqual([]);
      // Beyond stdio (/dev/null here), only what the process itself inherited.
      for (const fds of [plain, inNamespace])
        expect(fds.filter((t) => t !== '/dev/null' && !inherited.has(t) && !childsOwn(t))).toEqual([]);
    } finally {
      queue?.destroy();
      monitor.close();
      netns.close();
      await h.close();
      await h2.close();
    }
  });

  it('the check above can fail: an fd without CLOEXEC does reach the child', async () => {
    const fd = fs.openSync('/proc/thread-self/ns/net', 'r');
    try {
      // stdio beyond 2 passes an fd on deliberately, as a leak would.
      const fds = await childFds(() => spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', fd] }));
      expect(fds.filter(sensitive).length).toBe(1);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('never leaves the calling thread in another namespace, even when the work in it fails', async () => {
    const home = () => fs.statSync('/proc/thread-self/ns/net').ino;
    const before = home();
    const h = await nl.open({ netns: ns.name });
    try {
      await h.link.list();
      await expect(h.link.get('no-such-link')).rejects.toThrow();
      expect(() =>
        nl.netns.runSync(ns.name, () => {
          throw new Error('inside');
        }),
      ).toThrow('inside');
      expect(home()).toBe(before);
      await h.sysctl.get('net.ipv4.ip_forward');
      await expect(h.sysctl.set('net.ipv4.no_such_key', '1')).rejects.toThrow();
      await expect(nl.open({ netns: 'rtnl-no-such-namespace' })).rejects.toThrow();
      expect(home()).toBe(before);
    } finally {
      await h.close();
    }
    expect(home()).toBe(before);
  });
});
