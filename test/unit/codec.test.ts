/**
 * The codec against bytes the live kernel sent (test/fixtures/links.json,
 * made by scripts/capture-fixtures.js): the generic attribute tree
 * re-encodes them to identical bytes, and typed decoding survives a
 * re-encode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decodeAttributeTree,
  encodeAttributeTree,
  forEachAttribute,
  Writer,
  type NestPredicate,
} from '../../lib/netlink/attributes';
import { rtLinkSchemas } from '../../lib/families';
import { decodeLink } from '../../lib/link';
import { beginMessage, finishMessage, forEachMessage, readHeader, NLMSG_HDRLEN } from '../../lib/netlink/message';
import type { AttributeSchema } from '../../lib/netlink/schema';
import type { AttributeDef } from '../../lib/netlink/spec-types';
import { DecodeError } from '../../lib/errors';

interface Fixture {
  name: string;
  kind: string | null;
  hex: string;
}
const fixtures: Fixture[] = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'links.json'), 'utf8'),
).messages;

const IFINFOMSG = 16;

/** Expands 'nest' attributes the schema knows, so the tree goes deep. */
function nestsOf(root: AttributeSchema): NestPredicate {
  return (pathTypes, type) => {
    let schema: AttributeSchema | undefined = root;
    for (const t of pathTypes) {
      const def: AttributeDef | undefined = schema?.byValue.get(t)?.def;
      schema =
        def?.type === 'nest' && def.nestedAttributes ? rtLinkSchemas.attributeSet(def.nestedAttributes) : undefined;
    }
    return schema?.byValue.get(type)?.def.type === 'nest';
  };
}

describe('link fixtures from the live kernel', () => {
  const linkAttrs = rtLinkSchemas.attributeSet('link-attrs');

  it('has the kinds it was captured with', () => {
    expect(fixtures.map((f) => f.kind)).toEqual(expect.arrayContaining(['veth', 'bridge', 'vxlan', 'macvlan']));
  });

  it.each(fixtures.map((f) => [f.name, f]))('%s: the attribute tree re-encodes byte for byte', (_name, f) => {
    const bytes = Buffer.from(f.hex, 'hex');
    const start = NLMSG_HDRLEN + IFINFOMSG;
    const tree = decodeAttributeTree(bytes, start, bytes.length, nestsOf(linkAttrs));
    expect(tree.some((n) => n.children)).toBe(true); // it really went into nests
    const w = new Writer();
    w.bytes(bytes.subarray(0, start));
    encodeAttributeTree(tree, w);
    w.buf.writeUInt32LE(w.pos, 0);
    expect(w.take().toString('hex')).toBe(f.hex);
  });

  it.each(fixtures.map((f) => [f.name, f]))('%s: typed decode, re-encode, decode gives equal objects', (_name, f) => {
    const bytes = Buffer.from(f.hex, 'hex');
    const header = readHeader(bytes, 0);
    const original = decodeLink(bytes, 0, bytes.length);
    expect(original.name).toBe(f.name);
    expect(original.kind ?? null).toBe(f.kind);

    const attrs = linkAttrs.decode(bytes, NLMSG_HDRLEN + IFINFOMSG, bytes.length);
    const w = new Writer();
    const start = beginMessage(w, header.type, header.flags);
    w.bytes(bytes.subarray(NLMSG_HDRLEN, NLMSG_HDRLEN + IFINFOMSG));
    linkAttrs.encode(w, attrs);
    finishMessage(w, start);
    const again = w.take();
    expect(decodeLink(again, 0, again.length)).toEqual(original);
    expect(linkAttrs.decode(again, NLMSG_HDRLEN + IFINFOMSG, again.length)).toEqual(attrs);
  });

  it('decodes what ip set: mtu, alias, altname, master, kind options', () => {
    const byName = new Map(fixtures.map((f) => [f.name, decodeLink(Buffer.from(f.hex, 'hex'), 0, f.hex.length / 2)]));
    const veth0 = byName.get('veth0')!;
    const veth1 = byName.get('veth1')!;
    const br0 = byName.get('br0')!;
    expect(veth0).toMatchObject({ mtu: 1400, alias: 'the uplink', altNames: ['uplink-with-a-long-name'], up: true });
    expect(veth0.flags).toEqual(expect.arrayContaining(['BROADCAST', 'MULTICAST', 'UP']));
    expect(veth1.mtu).toBe(1500); // ip, unlike link.add, does not give the peer the primary's mtu
    expect(veth1.master).toBe(br0.index);
    expect(veth1.portKind).toBe('bridge');
    expect(br0.info).toMatchObject({ stpState: 1, forwardDelay: 400 });
    expect(veth0.parentIndex).toBe(veth1.index);
    expect(veth0.stats).toEqual(
      expect.objectContaining({ rxPackets: expect.any(Number), txBytes: expect.any(Number) }),
    );
    // vxlan has no table in this YNL revision: its data stays raw, never dropped.
    const vx0 = byName.get('vx0')!;
    expect(vx0.kind).toBe('vxlan');
  });

  it('walks a datagram of several messages and rejects bad lengths', () => {
    const all = Buffer.concat(fixtures.map((f) => Buffer.from(f.hex, 'hex')));
    const seen: number[] = [];
    forEachMessage(all, 0, all.length, (off, type) => seen.push(type));
    expect(seen).toHaveLength(fixtures.length);
    const broken = Buffer.from(all);
    broken.writeUInt32LE(all.length + 100, 0);
    expect(() => forEachMessage(broken, 0, broken.length, () => undefined)).toThrow(DecodeError);
    const attr = Buffer.from([8, 0, 1, 0, 1, 2, 3, 4, 200, 0, 2, 0]);
    expect(() => forEachAttribute(attr, 0, attr.length, () => undefined)).toThrow(DecodeError);
  });
});
