/**
 * What the running kernel (and this machine) can do, probed once per test run by global-setup.ts and
 * read by test files through env.ts `loadProbe()`, so that a test for a missing feature is skipped with
 * the reason printed instead of failing or silently passing.
 *
 * `probeKernel()` is the only function that knows how the probing is done. Today it drives iproute2
 * (`ip`, `tc`, `nft`) inside a throwaway namespace; it can later be swapped for the library's own
 * `probe()` without touching the callers, as long as it returns a `Probe`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';

export interface Probe {
  /** Running as uid 0: integration tests can run at all. */
  root: boolean;
  /** Why everything is unavailable (not root, `ip netns add` failed, no probe file...). */
  reason?: string;
  /** `uname -r` of the running kernel. */
  kernel: string;
  /** `ip netns add` / `ip netns del` work. */
  ipNetns: boolean;
  /** `ip link add ... type KIND` works (tun: `ip tuntap add`). */
  linkKinds: Record<string, boolean>;
  /** `tc qdisc add dev X root KIND` works (ingress and clsact: `tc qdisc add dev X KIND`). */
  qdiscs: Record<string, boolean>;
  /** `tc filter add ... KIND` works on a clsact ingress hook. */
  classifiers: Record<string, boolean>;
  /** `tc filter add ... u32 ... action KIND` works. */
  actions: Record<string, boolean>;
  /** Things that are not a kind: bridge vlan_filtering, nexthop objects, IPv6. */
  features: Record<string, boolean>;
  /** `nft add table` works in a namespace (needs the nft CLI for now). */
  nftables: boolean;
  /** Why each unavailable thing failed, keyed 'linkKinds.vlan', 'qdiscs.netem', 'nftables', ...: the tool's error text. */
  errors: Record<string, string>;
}

/** Link kinds to try, and the arguments each needs after `type KIND`. */
const LINK_KINDS: Record<string, string[]> = {
  veth: ['peer', 'name', 'pv1'],
  bridge: [],
  vxlan: ['id', '1', 'dstport', '4789'],
  macvlan: ['mode', 'bridge'],
  macvtap: [],
  ipvlan: [],
  vlan: ['id', '5'],
  dummy: [],
  bond: [],
  ifb: [],
  wireguard: [],
  geneve: ['id', '1', 'remote', '192.0.2.1'],
  gre: ['remote', '192.0.2.1', 'local', '192.0.2.2'],
  gretap: ['remote', '192.0.2.1', 'local', '192.0.2.2'],
  ipip: ['remote', '192.0.2.1', 'local', '192.0.2.2'],
  sit: ['remote', '192.0.2.1', 'local', '192.0.2.2'],
  ip6gre: ['remote', '2001:db8::1', 'local', '2001:db8::2'],
  ip6tnl: ['remote', '2001:db8::1', 'local', '2001:db8::2'],
  vrf: ['table', '100'],
  xfrm: ['if_id', '1'],
  netkit: [],
  nlmon: [],
};

/** Qdisc kinds to try as root qdisc, with the arguments each needs. */
/** Kinds that need a parent link (`ip link add link PARENT ...`). */
const NEEDS_PARENT = new Set(['macvlan', 'macvtap', 'ipvlan', 'vlan']);

const QDISCS: Record<string, string[]> = {
  pfifo: [],
  bfifo: [],
  pfifo_fast: [],
  htb: [],
  tbf: ['rate', '1mbit', 'burst', '32kbit', 'latency', '400ms'],
  netem: [],
  fq_codel: [],
  codel: [],
  fq: [],
  sfq: [],
  prio: [],
  hfsc: [],
  drr: [],
  red: ['limit', '400000', 'min', '30000', 'max', '90000', 'avpkt', '1000', 'burst', '55', 'bandwidth', '10mbit'],
  cake: [],
  pie: [],
  fq_pie: [],
  ets: ['bands', '3'],
  multiq: [],
  mq: [],
};

/** Classifiers to try on the clsact ingress hook, with their arguments (no action: `classid` only). */
const CLASSIFIERS: Record<string, string[]> = {
  u32: ['match', 'u32', '0', '0', 'classid', '1:1'],
  flower: ['classid', '1:1'],
  matchall: ['classid', '1:1'],
  basic: ['classid', '1:1'],
  bpf: ['bytecode', '1,6 0 0 4294967295,', 'classid', '1:1'],
  fw: ['classid', '1:1'],
  flow: ['hash', 'keys', 'src', 'divisor', '1024'],
  cgroup: [],
};

/** Actions to try behind `u32 match u32 0 0` (`%Q` = the veth's peer). */
const ACTIONS: Record<string, string[]> = {
  gact: ['pass'],
  mirred: ['egress', 'redirect', 'dev', '%Q'],
  police: ['rate', '1mbit', 'burst', '10k'],
  skbedit: ['mark', '1'],
  vlan: ['pop'],
  pedit: ['ex', 'munge', 'eth', 'dst', 'set', '02:00:00:00:00:01'],
  nat: ['ingress', '10.0.0.1', '10.0.0.2'],
  csum: ['ip4h'],
  tunnel_key: ['unset'],
  connmark: [],
  ct: [],
  sample: ['rate', '10', 'group', '1'],
  skbmod: ['set', 'smac', '02:00:00:00:00:01'],
};

/** A Probe where nothing is available, for `reason`. */
export function emptyProbe(reason: string, root = false): Probe {
  const none = (table: Record<string, unknown>) => Object.fromEntries(Object.keys(table).map((k) => [k, false]));
  return {
    root,
    reason,
    kernel: os.release(),
    ipNetns: false,
    linkKinds: { ...none(LINK_KINDS), tun: false },
    qdiscs: { ...none(QDISCS), ingress: false, clsact: false },
    classifiers: none(CLASSIFIERS),
    actions: none(ACTIONS),
    features: { bridgeVlanFiltering: false, nexthop: false, ipv6: false },
    nftables: false,
    errors: {},
  };
}

/** Runs a command; returns undefined on success, or its error text (first line of stderr) on failure. */
function attempt(cmd: string, args: string[]): string | undefined {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; code?: string; message: string };
    if (e.code === 'ENOENT') return `${cmd} not installed`;
    const text = e.stderr?.toString().trim().split('\n')[0];
    return text || e.message.split('\n')[0];
  }
}

/**
 * Probes what the kernel supports, inside a namespace `rtnl-probe-<random>` that is always deleted.
 * Synchronous, a few hundred milliseconds.
 */
export function probeKernel(): Probe {
  const uid = process.getuid?.();
  if (uid !== 0) return emptyProbe(`not running as root (uid ${uid ?? 'unknown'}): integration tests need root`);

  const ns = `rtnl-probe-${randomBytes(4).toString('hex')}`;
  const addErr = attempt('ip', ['netns', 'add', ns]);
  if (addErr !== undefined) return emptyProbe(`ip netns add failed: ${addErr}`, true);

  const probe = emptyProbe('', true);
  delete probe.reason;
  probe.ipNetns = true;
  const { errors } = probe;
  const check = (key: string, cmd: string, args: string[]): boolean => {
    const error = attempt(cmd, args);
    if (error !== undefined) errors[key] = error;
    return error === undefined;
  };
  const ip = (...args: string[]) => ['-n', ns, ...args];

  try {
    // A veth pair is the parent of macvlan/vlan/..., and the device qdiscs and filters are tried on.
    if (!check('setup', 'ip', ip('link', 'add', 'pp0', 'type', 'veth', 'peer', 'name', 'pp1'))) {
      throw new Error(`cannot create a veth pair in ${ns}: ${errors.setup}`);
    }
    attempt('ip', ip('link', 'set', 'lo', 'up'));
    attempt('ip', ip('link', 'set', 'pp0', 'up'));
    attempt('ip', ip('link', 'set', 'pp1', 'up'));

    let n = 0;
    for (const [kind, extra] of Object.entries(LINK_KINDS)) {
      const parent = NEEDS_PARENT.has(kind) ? ['link', 'pp0'] : [];
      const args = ['link', 'add', ...parent, 'name', `pk${n++}`, 'type', kind, ...extra];
      probe.linkKinds[kind] = check(`linkKinds.${kind}`, 'ip', ip(...args));
    }
    probe.linkKinds.tun = check('linkKinds.tun', 'ip', ip('tuntap', 'add', 'mode', 'tun', 'name', 'ptun0'));

    for (const [kind, extra] of Object.entries(QDISCS)) {
      probe.qdiscs[kind] = check(`qdiscs.${kind}`, 'tc', [
        '-n',
        ns,
        'qdisc',
        'add',
        'dev',
        'pp1',
        'root',
        kind,
        ...extra,
      ]);
      if (probe.qdiscs[kind]) attempt('tc', ['-n', ns, 'qdisc', 'del', 'dev', 'pp1', 'root']);
    }
    probe.qdiscs.ingress = check('qdiscs.ingress', 'tc', ['-n', ns, 'qdisc', 'add', 'dev', 'pp1', 'ingress']);
    if (probe.qdiscs.ingress) attempt('tc', ['-n', ns, 'qdisc', 'del', 'dev', 'pp1', 'ingress']);
    probe.qdiscs.clsact = check('qdiscs.clsact', 'tc', ['-n', ns, 'qdisc', 'add', 'dev', 'pp0', 'clsact']);

    const filter = (pref: number, kind: string, args: string[]) => [
      '-n',
      ns,
      'filter',
      'add',
      'dev',
      'pp0',
      'ingress',
      'protocol',
      'all',
      'pref',
      String(pref),
      kind,
      ...args,
    ];
    const unfilter = (pref: number) =>
      attempt('tc', ['-n', ns, 'filter', 'del', 'dev', 'pp0', 'ingress', 'protocol', 'all', 'pref', String(pref)]);
    if (probe.qdiscs.clsact) {
      for (const [kind, args] of Object.entries(CLASSIFIERS)) {
        probe.classifiers[kind] = check(`classifiers.${kind}`, 'tc', filter(1, kind, args));
        if (probe.classifiers[kind]) unfilter(1);
      }
    } else {
      for (const kind of Object.keys(CLASSIFIERS)) errors[`classifiers.${kind}`] = 'no clsact qdisc to attach to';
    }
    if (probe.classifiers.u32) {
      for (const [kind, extra] of Object.entries(ACTIONS)) {
        const args = ['match', 'u32', '0', '0', 'action', kind, ...extra.map((a) => (a === '%Q' ? 'pp1' : a))];
        probe.actions[kind] = check(`actions.${kind}`, 'tc', filter(2, 'u32', args));
        if (probe.actions[kind]) unfilter(2);
      }
    } else {
      for (const kind of Object.keys(ACTIONS)) errors[`actions.${kind}`] = 'no u32 classifier to attach actions to';
    }

    const f = probe.features;
    f.bridgeVlanFiltering = check(
      'features.bridgeVlanFiltering',
      'ip',
      ip('link', 'add', 'pbr0', 'type', 'bridge', 'vlan_filtering', '1'),
    );
    f.nexthop = check('features.nexthop', 'ip', ip('nexthop', 'add', 'id', '1', 'blackhole'));
    f.ipv6 = check('features.ipv6', 'ip', ip('-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'pp0', 'nodad'));

    const nft = attempt('nft', ['--version']);
    if (nft !== undefined) errors.nftables = `cannot probe nftables: ${nft}`;
    else probe.nftables = check('nftables', 'ip', ['netns', 'exec', ns, 'nft', 'add', 'table', 'inet', 'rtnlprobe']);
  } catch (err) {
    probe.reason = (err as Error).message;
  } finally {
    const delErr = attempt('ip', ['netns', 'del', ns]);
    if (delErr !== undefined) {
      // Leaving a namespace behind must not pass quietly: global-teardown reports leftovers too.
      process.stderr.write(`[rtnl-test] WARNING: could not delete probe namespace ${ns}: ${delErr}\n`);
    }
  }
  return probe;
}

/** One line naming what the probe found missing, e.g. for global-setup to print. */
export function describeMissing(probe: Probe): string {
  if (probe.reason) return `everything (${probe.reason})`;
  const parts: string[] = [];
  const missing = (label: string, table: Record<string, boolean>) => {
    const names = Object.keys(table).filter((k) => !table[k]);
    if (names.length > 0) parts.push(`${label}: ${names.join(' ')}`);
  };
  missing('link kinds', probe.linkKinds);
  missing('qdiscs', probe.qdiscs);
  missing('classifiers', probe.classifiers);
  missing('actions', probe.actions);
  missing('features', probe.features);
  if (!probe.nftables) parts.push(`nftables (${probe.errors.nftables ?? 'unknown'})`);
  return parts.length > 0 ? parts.join('; ') : 'nothing';
}
