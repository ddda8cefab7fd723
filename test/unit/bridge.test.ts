/** Bridge VLAN entries on the exact bytes `bridge vlan add/del` sends (iproute2 6.1, recorded with strace). */
import { buildBridgeVlanDump, buildBridgeVlanMessage, decodeBridgeVlans } from '../../lib/bridge';
import { RTM_DELLINK, RTM_NEWLINK, RTM_SETLINK } from '../../lib/netlink/constants';

/** nlmsghdr: length, type, NLM_F_REQUEST|NLM_F_ACK, seq 0 (the engine stamps it), pid 0. */
const header = (len: number, type: number) => {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(len, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(5, 6);
  return h.toString('hex');
};

describe('bridge vlan requests', () => {
  it('bridge vlan add dev va vid 10 pvid untagged', () => {
    expect(buildBridgeVlanMessage(RTM_SETLINK, 4, { vid: 10, pvid: true, untagged: true }).toString('hex')).toBe(
      header(44, 0x13) + '07000000040000000000000000000000' + '0c001a00' + '08000200' + '06000a00',
    );
  });

  it('bridge vlan add dev va vid 20-30: a range begin and end', () => {
    expect(buildBridgeVlanMessage(RTM_SETLINK, 4, { vid: 20, vidEnd: 30 }).toString('hex')).toBe(
      header(52, 0x13) + '07000000040000000000000000000000' + '14001a00' + '0800020008001400' + '0800020010001e00',
    );
  });

  it('bridge vlan del dev va vid 10', () => {
    expect(buildBridgeVlanMessage(RTM_DELLINK, 4, { vid: 10 }).toString('hex')).toBe(
      header(44, 0x11) + '07000000040000000000000000000000' + '0c001a00' + '08000200' + '00000a00',
    );
  });

  it('bridge vlan add dev br0 vid 5 self: IFLA_BRIDGE_FLAGS first', () => {
    expect(buildBridgeVlanMessage(RTM_SETLINK, 2, { vid: 5, self: true }).toString('hex')).toBe(
      header(52, 0x13) + '07000000020000000000000000000000' + '14001a00' + '0600000002000000' + '0800020000000500',
    );
  });

  it('the dump asks for compressed VLAN ranges of AF_BRIDGE links', () => {
    const m = buildBridgeVlanDump();
    expect(m.readUInt16LE(4)).toBe(18);
    expect(m[16]).toBe(7);
    expect(m.subarray(32).toString('hex')).toBe('08001d0004000000');
  });

  it('decodes entries and ranges back', () => {
    // a reply is an RTM_NEWLINK of the same shape: reuse the requests' bodies
    const single = buildBridgeVlanMessage(RTM_SETLINK, 4, { vid: 10, pvid: true, untagged: true });
    const range = buildBridgeVlanMessage(RTM_SETLINK, 4, { vid: 20, vidEnd: 30, untagged: true });
    single.writeUInt16LE(RTM_NEWLINK, 4);
    expect(decodeBridgeVlans(single, 0, single.length)).toEqual([{ dev: 4, vid: 10, pvid: true, untagged: true }]);
    expect(decodeBridgeVlans(range, 0, range.length)).toEqual([
      { dev: 4, vid: 20, vidEnd: 30, pvid: false, untagged: true },
    ]);
  });
});
