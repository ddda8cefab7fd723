/**
 * Forced NLM_F_DUMP_INTR: another process creates and deletes veth pairs,
 * bridges and addresses as fast as it can while this one dumps links and
 * addresses in a loop. Every dump is either consistent (retried as needed)
 * or, past the retry budget, a DumpInterruptedError carrying the partial
 * results of its last attempt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as nl from '../../lib';
import { dump } from '../../lib/engine/requests';
import { DumpInterruptedError } from '../../lib/errors';
import { decodeAddress } from '../../lib/addr';
import { decodeLink } from '../../lib/link';
import { buildMessage } from '../../lib/netlink/message';
import { NLM_F_DUMP, NLM_F_REQUEST, RTM_GETADDR, RTM_GETLINK } from '../../lib/netlink/constants';
import { describeIf, ip, loadProbe, useNetns } from '../harness/env';

const probe = loadProbe();
const describeRoot = describeIf(probe.root && probe.ipNetns, probe.reason ?? 'needs root and ip netns');

const PAIRS = 120;

function batchFile(lines: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rtnl-churn-')), 'batch');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Runs `ip -batch file` in the namespace over and over until stopped. */
function churn(ns: string, file: string): { stop(): Promise<number> } {
  let stopped = false;
  let rounds = 0;
  let child: ChildProcess | undefined;
  const loop = new Promise<void>((resolve) => {
    const next = () => {
      if (stopped) return resolve();
      child = spawn('ip', ['-n', ns, '-force', '-batch', file], { stdio: 'ignore' });
      child.once('exit', () => {
        rounds++;
        next();
      });
    };
    next();
  });
  return {
    async stop() {
      stopped = true;
      await loop;
      return rounds;
    },
  };
}

const noDuplicates = (keys: string[]) => new Set(keys).size === keys.length;

describeRoot('dumps under churn (NLM_F_DUMP_INTR)', () => {
  const ns = useNetns();

  beforeAll(() => {
    // Enough links and addresses that each dump spans many datagrams: the
    // kernel can only flag (and we can only see) an interruption between them.
    const setup: string[] = [];
    for (let i = 0; i < PAIRS; i++) {
      setup.push(`link add s${i} type veth peer name p${i}`);
      for (let j = 0; j < 4; j++) setup.push(`addr add 10.${i}.${j}.1/24 dev s${i}`);
    }
    ip(['-batch', batchFile(setup)], ns.name);
  });

  it('an interrupted dump past its retry budget is a DumpInterruptedError with the partial results', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(`link add c${i} type veth peer name cp${i}`, `link add b${i} type bridge`);
      lines.push(`addr add 172.16.${i}.1/24 dev c${i}`, `addr add 172.17.${i}.1/24 dev b${i}`);
      lines.push(`link del c${i}`, `link del b${i}`);
    }
    const h = await nl.open({ netns: ns.name });
    const load = churn(ns.name, batchFile(lines));
    const client = h.context.route();
    const linkDump = buildMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, Buffer.alloc(16));
    const addrDump = buildMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, Buffer.alloc(8));
    const seen = { consistent: 0, interrupted: 0 };
    const interruptions: DumpInterruptedError[] = [];
    try {
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && interruptions.length < 6) {
        const dumps: [Buffer, (b: Buffer, o: number, l: number) => unknown, string][] = [
          [linkDump, decodeLink, 'RTM_GETLINK'],
          [addrDump, decodeAddress, 'RTM_GETADDR'],
        ];
        for (const [message, decode, operation] of dumps) {
          try {
            const got = await dump(client, message, decode, { retries: 0, operation });
            seen.consistent++;
            expect(got.length).toBeGreaterThan(PAIRS);
          } catch (error) {
            expect(error).toBeInstanceOf(DumpInterruptedError);
            interruptions.push(error as DumpInterruptedError);
            seen.interrupted++;
          }
        }
      }
    } finally {
      expect(await load.stop()).toBeGreaterThan(0);
      await h.close();
    }
    // The churn did interrupt dumps (or this test would prove nothing) ...
    expect(seen.interrupted).toBeGreaterThan(0);
    for (const e of interruptions) {
      // ... and each interruption is typed, with what its attempt got.
      expect(e.code).toBe('ERR_RTNL_DUMP_INTERRUPTED');
      expect(e.name).toBe('DumpInterruptedError');
      expect(e.partial.length).toBeGreaterThan(PAIRS);
      expect(['RTM_GETLINK', 'RTM_GETADDR']).toContain(e.operation);
    }
  }, 60_000);

  it('list() under churn: every result is consistent (retried) or a DumpInterruptedError with partials', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      lines.push(`link add d${i} type veth peer name dp${i}`, `addr add 192.168.${i}.1/24 dev d${i}`);
      lines.push(`link del d${i}`);
    }
    const h = await nl.open({ netns: ns.name });
    const load = churn(ns.name, batchFile(lines));
    let lists = 0;
    let gaveUp = 0;
    try {
      const deadline = Date.now() + 6000;
      while (Date.now() < deadline) {
        try {
          const links = await h.link.list();
          expect(noDuplicates(links.map((l) => String(l.index)))).toBe(true);
          // A consistent snapshot never shows a veth without its peer (both come and go in one request).
          const names = new Set(links.map((l) => l.name));
          for (let i = 0; i < PAIRS; i++) expect(names.has(`s${i}`) && names.has(`p${i}`)).toBe(true);
          const addrs = await h.addr.list();
          expect(noDuplicates(addrs.map((a) => `${a.index} ${a.address}/${a.prefixLength}`))).toBe(true);
          expect(addrs.filter((a) => a.address.startsWith('10.')).length).toBe(PAIRS * 4);
          lists++;
        } catch (error) {
          expect(error).toBeInstanceOf(DumpInterruptedError);
          expect((error as DumpInterruptedError).partial.length).toBeGreaterThan(0);
          gaveUp++;
        }
      }
    } finally {
      await load.stop();
      await h.close();
    }
    expect(lists).toBeGreaterThan(0);
    // Most calls get a consistent answer: retries work, they do not merely give up.
    expect(gaveUp).toBeLessThan(lists + gaveUp);
  }, 60_000);
});
