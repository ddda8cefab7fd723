/**
 * decodeLink (fixed-shape, one switch over the attributes) against
 * decodeLinkGeneric (the schema walk it replaced) on RTM_NEWLINK bytes:
 * the links the live kernel sent (test/fixtures/links.json), the
 * RTM_NEWLINK requests iproute2 sent for many kinds, with kind options
 * this kernel lacks (test/fixtures/link-requests.json), hand-made edge
 * cases, and thousands of mutations of all of them. Same output (deep,
 * strict, key order included) or the same DecodeError, every time.
 * test/integration/link-decode.test.ts does the same on live dumps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeLink, decodeLinkGeneric } from '../../lib/link';
import { disagreement, mutate, prng, run } from '../harness/link-decode';
import { DecodeError } from '../../lib/errors';
import { buildMessage, NLMSG_HDRLEN } from '../../lib/netlink/message';
import {
  IFLA_ADDRESS,
  IFLA_ALLMULTI,
  IFLA_CARRIER,
  IFLA_GROUP,
  IFLA_IFNAME,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_MASTER,
  IFLA_MAX_MTU,
  IFLA_MIN_MTU,
  IFLA_MTU,
  IFLA_NUM_RX_QUEUES,
  IFLA_NUM_TX_QUEUES,
  IFLA_OPERSTATE,
  IFLA_PROMISCUITY,
  IFLA_STATS64,
  IFLA_TXQLEN,
  RTM_NEWLINK,
} from '../../lib/netlink/constants';

const IFINFOMSG = 16;
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const readFixture = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as { messages: { hex: string; name?: string }[] };

/** Every RTM_NEWLINK message the fixtures hold. */
function corpus(): { name: string; bytes: Buffer }[] {
  const out: { name: string; bytes: Buffer }[] = [];
  for (const file of ['links.json', 'link-requests.json']) {
    readFixture(file).messages.forEach((m, i) => {
      const bytes = Buffer.from(m.hex, 'hex');
      if (bytes.length >= NLMSG_HDRLEN + IFINFOMSG && bytes.readUInt16LE(4) === RTM_NEWLINK) {
        out.push({ name: `${file}#${i}${m.name ? ` (${m.name})` : ''}`, bytes });
      }
    });
  }
  return out;
}

/** A message: ifinfomsg (index 7) then the given attributes, each [type, payload]. */
function linkMessage(attrs: [number, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(IFINFOMSG)];
  parts[0].writeInt32LE(7, 4);
  for (const [type, payload] of attrs) {
    const header = Buffer.alloc(4);
    header.writeUInt16LE(4 + payload.length, 0);
    header.writeUInt16LE(type, 2);
    parts.push(header, payload, Buffer.alloc(((payload.length + 3) & ~3) - payload.length));
  }
  return buildMessage(RTM_NEWLINK, 0, Buffer.concat(parts));
}

const name = (s: string) => Buffer.from(`${s}\0`);

describe('decodeLink = decodeLinkGeneric', () => {
  const messages = corpus();

  it('has links from the kernel and requests with kind options to compare on', () => {
    expect(messages.length).toBeGreaterThan(20);
    const decoded = messages.map((m) => decodeLinkGeneric(m.bytes, 0, m.bytes.length));
    // The corpus exercises the parts the direct decoder reads itself and those it hands to the schema.
    expect(decoded.some((l) => l.stats !== undefined)).toBe(true);
    expect(decoded.some((l) => l.info !== undefined)).toBe(true);
    expect(decoded.some((l) => l.kind === 'vxlan' && l.info !== undefined)).toBe(true);
    expect(decoded.some((l) => l.mac !== undefined && l.broadcast !== undefined)).toBe(true);
    expect(decoded.some((l) => l.addrGenMode !== undefined)).toBe(true);
  });

  it.each(corpus().map((m) => [m.name, m.bytes]))('%s', (_name, bytes) => {
    expect(disagreement(bytes)).toBeUndefined();
    // At an offset inside a larger buffer, as in a datagram of a dump.
    const padded = Buffer.concat([Buffer.alloc(12, 0xee), bytes, Buffer.alloc(8, 0xee)]);
    expect(disagreement(padded, 12, bytes.length)).toBeUndefined();
    expect(decodeLink(padded, 12, bytes.length)).toStrictEqual(decodeLink(bytes, 0, bytes.length));
  });

  it('every Link has its always-present fields first, in one order', () => {
    for (const m of messages) {
      const keys = Object.keys(decodeLink(m.bytes, 0, m.bytes.length));
      expect(keys.slice(0, 7)).toEqual(['index', 'name', 'up', 'operstate', 'mtu', 'flags', 'linkType']);
    }
  });

  it.each([
    ['mtu', IFLA_MTU, 4],
    ['link', IFLA_LINK, 4],
    ['master', IFLA_MASTER, 4],
    ['txqlen', IFLA_TXQLEN, 4],
    ['group', IFLA_GROUP, 4],
    ['promiscuity', IFLA_PROMISCUITY, 4],
    ['allmulti', IFLA_ALLMULTI, 4],
    ['minMtu', IFLA_MIN_MTU, 4],
    ['maxMtu', IFLA_MAX_MTU, 4],
    ['numTxQueues', IFLA_NUM_TX_QUEUES, 4],
    ['numRxQueues', IFLA_NUM_RX_QUEUES, 4],
    ['linkNetnsid', IFLA_LINK_NETNSID, 4],
    ['operstate', IFLA_OPERSTATE, 1],
    ['carrier', IFLA_CARRIER, 1],
  ])('a short %s is a DecodeError, not a read of the next attribute', (field, type, size) => {
    for (let short = 0; short < size; short++) {
      const bytes = linkMessage([
        [type as number, Buffer.alloc(short as number, 0x11)],
        [IFLA_IFNAME, name('next')],
      ]);
      expect(() => decodeLink(bytes, 0, bytes.length)).toThrow(DecodeError);
      expect(() => decodeLink(bytes, 0, bytes.length)).toThrow(new RegExp(`^${field}: `));
      expect(disagreement(bytes)).toBeUndefined();
    }
    const whole = linkMessage([
      [type as number, Buffer.alloc(size as number, 0x01)],
      [IFLA_IFNAME, name('next')],
    ]);
    expect(() => decodeLink(whole, 0, whole.length)).not.toThrow();
    expect(disagreement(whole)).toBeUndefined();
  });

  it('edge cases: stats64 of an older kernel, empty and long MACs, names without NUL or in UTF-8, repeats', () => {
    const cases: Buffer[] = [
      linkMessage([[IFLA_STATS64, Buffer.alloc(96, 0x01)]]),
      linkMessage([[IFLA_STATS64, Buffer.alloc(0)]]),
      linkMessage([[IFLA_STATS64, Buffer.alloc(7)]]),
      linkMessage([[IFLA_STATS64, Buffer.alloc(25 * 8 + 16, 0xff)]]),
      linkMessage([[IFLA_ADDRESS, Buffer.alloc(0)]]),
      linkMessage([[IFLA_ADDRESS, Buffer.from('80000000fe800000000000000200000000000001', 'hex')]]),
      linkMessage([[IFLA_IFNAME, Buffer.from('no-nul')]]),
      linkMessage([[IFLA_IFNAME, Buffer.from('gr\u00fc\u00dfe-\u{1f310}\0', 'utf8')]]),
      linkMessage([[IFLA_IFNAME, Buffer.from('a'.repeat(40) + '\0')]]),
      linkMessage([[IFLA_IFNAME, Buffer.from([0x61, 0xff, 0xfe, 0x62, 0])]]),
      linkMessage([[IFLA_IFNAME, Buffer.from('\0hidden\0')]]),
      linkMessage([
        [IFLA_MTU, Buffer.from([1, 0, 0, 0])],
        [IFLA_MTU, Buffer.from([2, 0, 0, 0])],
        [IFLA_IFNAME, name('first')],
        [IFLA_IFNAME, name('second')],
      ]),
      linkMessage([[IFLA_OPERSTATE, Buffer.from([9])]]),
      linkMessage([[IFLA_LINK, Buffer.from([7, 0, 0, 0])]]), // its own index: no parentIndex
      linkMessage([[IFLA_LINK_NETNSID, Buffer.from([0xff, 0xff, 0xff, 0xff])]]),
      linkMessage([]),
    ];
    for (const bytes of cases) expect(disagreement(bytes)).toBeUndefined();
    const empty = linkMessage([
      [IFLA_ADDRESS, Buffer.alloc(0)],
      [IFLA_IFNAME, name('x')],
    ]);
    expect(decodeLink(empty, 0, empty.length).mac).toBe('');
  });

  it('mutated and truncated messages: the same Link or the same DecodeError (20000 cases)', () => {
    const rand = prng(0x11f0);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const failures: string[] = [];
    let threw = 0;
    for (let i = 0; i < 20000; i++) {
      const { bytes, len, mutation } = mutate(pick(messages).bytes, rand, i);
      const why = disagreement(bytes, 0, len);
      if (why !== undefined) failures.push(`case ${i} (mutation ${mutation}): ${why}\n  ${bytes.toString('hex')}`);
      if ('error' in run(decodeLink, bytes, 0, len)) threw++;
    }
    expect(failures.slice(0, 3)).toEqual([]);
    // The mutations reach both outcomes often.
    expect(threw).toBeGreaterThan(2000);
    expect(threw).toBeLessThan(18000);
  });
});
