/** RTM_GETNSID / RTM_NEWNSID on exact bytes (linux/net_namespace.h, rtnetlink.h). */
import { buildNsidMessage, decodeNsidReply } from '../../lib/nsid';

describe('namespace id messages', () => {
  it('RTM_NEWNSID: nlmsghdr, rtgenmsg padded to 4, NETNSA_FD, NETNSA_NSID', () => {
    const msg = buildNsidMessage(88, 9, 42);
    expect(msg.toString('hex')).toBe(
      [
        '24000000', // length 36
        '5800', // RTM_NEWNSID
        '0100', // NLM_F_REQUEST
        '00000000', // seq (stamped by the engine)
        '00000000', // pid
        '00000000', // rtgenmsg: AF_UNSPEC + 3 pad
        '0800',
        '0300',
        '09000000', // NETNSA_FD = 9
        '0800',
        '0100',
        '2a000000', // NETNSA_NSID = 42
      ].join(''),
    );
  });

  it('RTM_GETNSID with a target id', () => {
    const msg = buildNsidMessage(90, 3, undefined, 5);
    expect(msg.subarray(4, 6).readUInt16LE()).toBe(90);
    expect(msg.subarray(20).toString('hex')).toBe('08000300030000000800040005000000');
  });

  it('decodes NETNSA_NSID, and -1 (not assigned) as undefined', () => {
    const reply = (nsid: number) => {
      const b = Buffer.alloc(28);
      b.writeUInt32LE(28, 0);
      b.writeUInt16LE(88, 4);
      b.writeUInt16LE(8, 20);
      b.writeUInt16LE(1, 22);
      b.writeInt32LE(nsid, 24);
      return b;
    };
    expect(decodeNsidReply(reply(7), 0, 28)).toBe(7);
    expect(decodeNsidReply(reply(-1), 0, 28)).toBeUndefined();
    expect(decodeNsidReply(reply(7).subarray(0, 20), 0, 20)).toBeUndefined();
  });
});
