"""pyroute2 side of `npm run bench`: one workload, timed inside the process.

Run by bench/run.js with /usr/bin/python3 (where python3-pyroute2 lives):

    pyroute2_bench.py NETNS MODE [N] [DEVS]

Modes mirror bench/baseline.c (same prefixes, gateway and names): add-routes,
dump-routes, add-veth, dump-links, add-addrs (DEVS: comma-separated), netns
(NETNS is then the name prefix). Requests are made one at a time, the way
pyroute2's IPRoute API is used. No warm-up dumps: CPython has no JIT
to warm, and a 100k-route dump takes it about 15 s. Prints one JSON line: {"seconds", "count"}.
"""
import ipaddress
import json
import socket
import sys
import time


def main():
    netns, mode = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    extra = sys.argv[4] if len(sys.argv) > 4 else ''
    from pyroute2 import netns as pynetns

    if mode == 'netns':
        names = ['%s%d' % (netns, i) for i in range(n)]
        t0 = time.perf_counter()
        for name in names:
            pynetns.create(name)
        for name in names:
            pynetns.remove(name)
        report(t0, n)
        return

    pynetns.setns(netns)
    from pyroute2 import IPRoute

    ipr = IPRoute()
    if mode == 'add-routes':
        oif = ipr.link_lookup(ifname=extra)[0]
        base = int(ipaddress.IPv4Address('16.0.0.0'))
        dsts = [str(ipaddress.IPv4Address(base + i)) for i in range(n)]
        t0 = time.perf_counter()
        for dst in dsts:
            ipr.route('add', dst=dst, dst_len=32, gateway='10.0.0.2', oif=oif)
        report(t0, n)
    elif mode == 'dump-routes':
        t0 = time.perf_counter()
        routes = ipr.get_routes(family=socket.AF_INET, table=254)
        report(t0, len(routes))
    elif mode == 'add-veth':
        t0 = time.perf_counter()
        for i in range(n):
            ipr.link('add', ifname='bv%d' % i, kind='veth', peer='bp%d' % i)
        report(t0, n)
    elif mode == 'dump-links':
        t0 = time.perf_counter()
        links = ipr.get_links()
        report(t0, len(links))
    elif mode == 'add-addrs':
        devs = [ipr.link_lookup(ifname=d)[0] for d in extra.split(',')]
        base = int(ipaddress.IPv4Address('172.16.0.0'))
        addrs = [str(ipaddress.IPv4Address(base + i)) for i in range(n)]
        t0 = time.perf_counter()
        for i, a in enumerate(addrs):
            ipr.addr('add', index=devs[i % len(devs)], address=a, prefixlen=32)
        report(t0, n)
    else:
        raise SystemExit('unknown mode ' + mode)
    ipr.close()


def report(t0, count):
    print(json.dumps({'seconds': time.perf_counter() - t0, 'count': count}))


main()
