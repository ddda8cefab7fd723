/**
 * What the running kernel supports, found by trying, in a namespace that
 * exists only for the probe (nothing outside it changes), and cached.
 */
import { NetlinkClient } from './engine/client';
import { request } from './engine/requests';
import { NetlinkError } from './errors';
import { Writer } from './netlink/attributes';
import {
  AF_UNSPEC,
  NETLINK_NETFILTER,
  NETLINK_ROUTE,
  NFNETLINK_V0,
  NFNL_SUBSYS_NFTABLES,
  NFT_MSG_GETGEN,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_NAMES,
  RTM_DELQDISC,
  RTM_NEWQDISC,
  TC_H_ROOT,
  TCA_KIND,
} from './netlink/constants';
import { beginMessage, finishMessage } from './netlink/message';
import { LinkApi } from './link';
import { native } from './native';

export interface ProbeResult {
  kernel: string;
  /** Link kinds `link.add` can create, by kind. */
  linkKinds: Record<string, boolean>;
  /** Qdisc kinds the kernel knows, by kind. */
  qdiscs: Record<string, boolean>;
  /** nf_tables answers on NETLINK_NETFILTER. */
  nftables: boolean;
}

/** Kinds tried; those that need a parent device get a veth end. */
export const PROBED_LINK_KINDS = [
  'veth',
  'bridge',
  'vxlan',
  'macvlan',
  'macvtap',
  'ipvlan',
  'ipvtap',
  'vlan',
  'dummy',
  'ifb',
  'bond',
  'team',
  'vrf',
  'geneve',
  'gre',
  'gretap',
  'ip6gre',
  'ip6gretap',
  'ipip',
  'sit',
  'ip6tnl',
  'vti',
  'vti6',
  'xfrm',
  'netkit',
  'wireguard',
  'nlmon',
] as const;

export const PROBED_QDISCS = [
  'pfifo',
  'bfifo',
  'pfifo_fast',
  'prio',
  'tbf',
  'htb',
  'hfsc',
  'drr',
  'sfq',
  'fq',
  'fq_codel',
  'codel',
  'cake',
  'netem',
  'red',
  'ingress',
  'clsact',
] as const;

const PARENT_KINDS = new Set(['macvlan', 'macvtap', 'ipvlan', 'ipvtap', 'vlan']);
const KIND_OPTIONS: Record<string, Record<string, unknown>> = {
  vxlan: { vni: 1 },
  vlan: { id: 1 },
  vrf: { table: 10 },
};

let cached: Promise<ProbeResult> | null = null;

export function probeKernel(): Promise<ProbeResult> {
  cached ??= runProbe().catch((error) => {
    cached = null;
    throw error;
  });
  return cached;
}

async function runProbe(): Promise<ProbeResult> {
  const nsFd = native.anonymous();
  const route = new NetlinkClient({
    protocol: NETLINK_ROUTE,
    netnsFd: nsFd,
    operationName: (t) => RTM_NAMES[t] ?? String(t),
  });
  try {
    const link = new LinkApi(() => ({ route: () => route, namespaceFd: () => nsFd }));
    await link.add({ kind: 'veth', name: 'probe0', peer: { name: 'probe1' } }).catch(() => undefined);
    const linkKinds: Record<string, boolean> = {};
    let n = 0;
    for (const kind of PROBED_LINK_KINDS) {
      const name = `p${n++}`;
      const spec = { kind, name, ...(PARENT_KINDS.has(kind) ? { link: 'probe0' } : {}), ...KIND_OPTIONS[kind] };
      linkKinds[kind] = await link.add(spec).then(
        () => true,
        // "Unknown device type" is the only answer that means absent.
        (error) =>
          !(error instanceof NetlinkError && error.code === 'EOPNOTSUPP' && /nknown device type/.test(error.message)),
      );
    }
    const lo = (await link.get('lo')).index;
    const qdiscs: Record<string, boolean> = {};
    for (const kind of PROBED_QDISCS) {
      qdiscs[kind] = await request(route, qdiscMessage(RTM_NEWQDISC, lo, kind), null).then(
        // Remove it again, or the next kind would find the root taken.
        () => request(route, qdiscMessage(RTM_DELQDISC, lo, kind), null).then(() => true),
        (error) => !(error instanceof NetlinkError && error.code === 'ENOENT'),
      );
    }
    const nftables = await probeNftables(nsFd);
    const kernel = (await import('node:os')).release();
    return { kernel, linkKinds, qdiscs, nftables };
  } finally {
    route.close();
    native.closeFd(nsFd); // the namespace, and all the probe made in it, goes away
  }
}

function qdiscMessage(type: number, ifindex: number, kind: string): Buffer {
  const w = new Writer(64);
  const flags = type === RTM_NEWQDISC ? NLM_F_CREATE | NLM_F_EXCL : 0;
  const start = beginMessage(w, type, NLM_F_REQUEST | NLM_F_ACK | flags);
  w.u8(AF_UNSPEC);
  w.zeros(3);
  w.s32(ifindex);
  w.u32(kind === 'ingress' || kind === 'clsact' ? 0xffff0000 : 0x10000);
  w.u32(kind === 'ingress' || kind === 'clsact' ? 0xfffffff1 : TC_H_ROOT);
  w.u32(0);
  w.attrString(TCA_KIND, kind);
  finishMessage(w, start);
  return w.view();
}

async function probeNftables(nsFd: number): Promise<boolean> {
  let client: NetlinkClient | undefined;
  try {
    client = new NetlinkClient({ protocol: NETLINK_NETFILTER, netnsFd: nsFd });
    const w = new Writer(32);
    const start = beginMessage(w, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, NLM_F_REQUEST | NLM_F_ACK);
    w.u8(AF_UNSPEC);
    w.u8(NFNETLINK_V0);
    w.u16(0);
    finishMessage(w, start);
    await request(client, w.view(), null);
    return true;
  } catch {
    return false;
  } finally {
    client?.close();
  }
}
