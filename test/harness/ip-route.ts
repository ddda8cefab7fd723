/**
 * iproute2 as the oracle for routes: turns one entry of `ip -j -d route show`
 * (or `ip -j -d route get`) into the Route the library should report for the
 * same kernel state. Written from what ip prints, not from the library's
 * decoder, so that the two can disagree.
 */
import type { Route, RouteEncap, RouteMetrics, RouteNexthop } from '../../lib/route';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from ip
type IpEntry = Record<string, any>;

const NAMED_TABLES: Record<string, number> = { main: 254, local: 255, default: 253, unspec: 0 };

/** ip prints numbers it has no name for as decimal strings. */
const nameOrNumber = (v: string): string | number => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);

function prefix(text: string, family: 4 | 6): string {
  if (text === 'default' || text.includes('/')) return text;
  return `${text}/${family === 4 ? 32 : 128}`;
}

// ip -j prints rtt and rttvar in ms (the kernel keeps 1/8 and 1/4 ms), the rest as stored.
function metricsFromIp(m: IpEntry): RouteMetrics {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'rtt') out.rtt = (v as number) * 8;
    else if (k === 'rttvar') out.rttvar = (v as number) * 4;
    else if (k === 'ecn') out.features = 1;
    else if (k === 'congestion') out.ccAlgo = v;
    else if (k === 'rto_min') out.rtoMin = v;
    else if (k === 'fastopen_no_cookie') out.fastopenNoCookie = v;
    else out[k] = v;
  }
  return out as RouteMetrics;
}

function encapFromIp(e: IpEntry): RouteEncap | undefined {
  if (e.encap === undefined) return undefined;
  if (e.encap === 'seg6') {
    const segments = [...(e.segs as string[])];
    // ip lists the slot inline mode keeps for the packet's destination; the library does not.
    if (e.mode === 'inline' && segments[segments.length - 1] === '::') segments.pop();
    return {
      type: 'seg6',
      mode: e.mode,
      segments,
      ...(e.hmac !== undefined ? { hmac: parseInt(e.hmac as string, 16) } : {}),
    };
  }
  if (e.encap === 'mpls') {
    return {
      type: 'mpls',
      labels: String(e.dst).split('/').map(Number),
      ...(e.ttl !== undefined ? { ttl: e.ttl } : {}),
    };
  }
  throw new Error(`ip-route oracle: encap ${e.encap} not mapped`);
}

/**
 * The Route for one ip entry. `indexOf` maps ip's device names to indexes.
 * `lock` is not in ip's JSON: compare it separately (text output).
 */
export function routeFromIp(e: IpEntry, family: 4 | 6, indexOf: (name: string) => number): Route {
  const r: Route = {
    family,
    dst: prefix(e.dst, family),
    // With -d ip prints every table but 0 (a lookup forced out of an interface uses none).
    table: e.table === undefined ? 0 : e.table in NAMED_TABLES ? NAMED_TABLES[e.table] : Number(e.table),
    type: e.type,
    protocol: nameOrNumber(e.protocol),
    scope: nameOrNumber(e.scope),
    flags: e.flags,
  };
  // `ip route get` prints neither protocol nor scope (nor, without -d, the type).
  for (const k of ['type', 'protocol', 'scope'] as const) if (e[k] === undefined) delete r[k];
  if (e.from !== undefined) r.src = prefix(e.from, family);
  if (e.gateway !== undefined) r.gateway = e.gateway;
  if (e.via !== undefined) r.gateway = e.via.host;
  if (e.dev !== undefined) r.dev = indexOf(e.dev);
  if (e.prefsrc !== undefined) r.prefSrc = e.prefsrc;
  if (e.metric !== undefined) r.priority = e.metric;
  if (e.metrics !== undefined) r.metrics = metricsFromIp(e.metrics[0]);
  if (e.nhid !== undefined) r.nhid = e.nhid;
  if (e.nexthops !== undefined) {
    r.nexthops = (e.nexthops as IpEntry[]).map((n) => {
      const hop: RouteNexthop = { weight: n.weight, flags: n.flags };
      if (n.gateway !== undefined) hop.gateway = n.gateway;
      if (n.via !== undefined) hop.gateway = n.via.host;
      if (n.dev !== undefined) hop.dev = indexOf(n.dev);
      const encap = encapFromIp(n);
      if (encap) hop.encap = encap;
      return hop;
    });
  }
  const encap = encapFromIp(e);
  if (encap) r.encap = encap;
  if (e.expires !== undefined) r.expires = e.expires;
  if (e.pref !== undefined) r.pref = e.pref;
  if (e.uid !== undefined) r.uid = e.uid;
  if (e.mark !== undefined) r.mark = Number(e.mark);
  if (e.iif !== undefined) r.iif = indexOf(e.iif);
  return r;
}

/**
 * A route made comparable: metrics' `lock` dropped (ip's JSON lacks it),
 * `expires` rounded to tens of seconds (the two reads happen at different
 * moments), and keys sorted so toEqual's diff is readable.
 */
export function comparable(r: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(r).sort()) {
    const v = (r as unknown as Record<string, unknown>)[k];
    if (k === 'nexthops') out.nexthops = (v as object[]).map(sortedKeys);
    else if (k === 'metrics') {
      const { lock: _lock, ...rest } = v as RouteMetrics;
      if (Object.keys(rest).length > 0) out.metrics = rest;
    } else if (k === 'expires') out.expires = Math.round((v as number) / 10);
    else out[k] = v;
  }
  return out;
}

function sortedKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
