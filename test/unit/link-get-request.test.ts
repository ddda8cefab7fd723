/** The hand-written RTM_GETLINK request is byte for byte what the generic encoder makes. */
import { buildGetLink, buildGetLinkGeneric } from '../../lib/link';

describe('link.get request', () => {
  const refs = [1, 7, 0x7fffffff, 'lo', 'eth0', 'a', 'fifteen-chars-x', 'sixteen-chars-xy', 'ä-utf8', 'x'.repeat(100)];
  it.each(refs)('for %p, with and without an nsid, equals the generic encoding', (ref) => {
    for (const nsid of [undefined, 0, 5, -1, 0x7fffffff]) {
      expect(buildGetLink(ref, nsid).toString('hex')).toBe(buildGetLinkGeneric(ref, nsid).toString('hex'));
    }
  });
});
