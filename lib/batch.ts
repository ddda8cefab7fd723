/**
 * Batches: many requests through one handle, pipelined. Every call made on
 * the builder is recorded, then made on the handle's group of the same
 * name, many in flight at once: the engine packs the requests back to back
 * into as few sendmsg calls as the socket buffer allows, and each result
 * lands in its slot, in call order.
 * rtnetlink has no transactions: a batch is fast, not atomic.
 */
import type { NetlinkClient } from './engine/client';
import { abortError, invalidType, outOfRange } from './errors';
import { Writer } from './netlink/attributes';

/** One request's outcome. */
export type BatchResult<T = unknown> = { ok: true; value?: T } | { ok: false; error: Error };

export interface BatchOptions {
  /**
   * After the first failure, requests not yet made are not made (their
   * results: ok false, code 'ERR_RTNL_BATCH_STOPPED'); those in flight
   * still complete.
   * Default false: every request is made whatever the others do.
   */
  stopOnError?: boolean;
  /** Requests in flight at once (default 4096); the engine packs them into few sendmsg calls. */
  inFlight?: number;
  /** Aborting stops requests not yet sent (their results: ok false, the AbortError). */
  signal?: AbortSignal;
}

/** Every method of a group, returning nothing: the result goes to the batch. */
export type Batched<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<unknown>
    ? (...args: A) => void
    : T[K] extends object
      ? Batched<T[K]>
      : never;
};

const DEFAULT_IN_FLIGHT = 4096;

/** What a preparer answers for a call that names interfaces it has not been told the index of. */
export interface NeedsNames {
  needs: string[];
}

/**
 * A group that can write some of its calls' requests itself, for the bulk
 * path: they go out back to back in a few large datagrams, one promise per
 * datagram instead of one per request.
 */
interface Preparer {
  /** The socket the call's request goes to if it can go in bulk, else undefined (the call is made). */
  canPrepare(method: string, args: unknown[]): NetlinkClient | undefined;
  /**
   * Appends the call's request to `out`, or says which interface names it
   * needs that `names` lacks (what it appended is then discarded). Bad
   * input throws, as the call would reject.
   */
  prepareBatch(
    method: string,
    args: unknown[],
    out: Writer,
    names: ReadonlyMap<string, number>,
  ): NeedsNames | undefined;
}

interface BulkCall {
  preparer: Preparer;
  client: NetlinkClient;
  method: string;
  args: unknown[];
}

/** Messages per datagram: up to ~256 KiB, its ACKs a few pages. */
const CHUNK_MESSAGES = 2048;
const CHUNK_BYTES = 256 * 1024;
/** Datagrams built ahead of the kernel's answers, at most. */
const CHUNKS_AHEAD = 16;

type Call = { run: () => unknown } | { bulk: BulkCall } | { failed: Error } | typeof WRITTEN;
/** A bulk call once its request is written: its arguments can be collected (the GC copies what lives). */
const WRITTEN = { written: true } as const;

/**
 * Calls `build` with a builder mirroring `target`'s groups, then makes
 * every recorded request, up to `inFlight` at a time (the engine packs
 * those into few sendmsg calls), and resolves their outcomes in call order.
 */
export async function runBatch<T extends object>(
  target: T,
  build: (b: Batched<T>) => void | Promise<void>,
  options: BatchOptions = {},
): Promise<BatchResult[]> {
  if (typeof build !== 'function') throw invalidType('build', 'a function', build);
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const inFlight = options.inFlight ?? DEFAULT_IN_FLIGHT;
  if (!Number.isInteger(inFlight) || inFlight < 1) throw outOfRange('options.inFlight', '>= 1', inFlight);
  if (options.signal?.aborted) throw abortError(options.signal);
  const calls: Call[] = [];
  let recording = true;
  // The bulk path: requests a group can write itself go out in large
  // datagrams through the engine's sendBulk, written while the kernel works
  // on the ones before. stopOnError needs each outcome before the next
  // request: not then.
  const bulk = !options.stopOnError;
  const builder = mirror(target, (fn, self, args) => {
    if (!recording) throw new Error('batch(): the builder was used after the batch callback returned');
    const preparer = self as Partial<Preparer>;
    if (bulk && typeof preparer.canPrepare === 'function') {
      let client: NetlinkClient | undefined;
      try {
        client = preparer.canPrepare(fn.name, args);
      } catch (error) {
        calls.push({ failed: error as Error }); // e.g. a closed handle: the call would have rejected
        return;
      }
      if (client) {
        calls.push({ bulk: { preparer: preparer as Preparer, client, method: fn.name, args } });
        return;
      }
    }
    calls.push({ run: () => fn.apply(self, args) });
  }) as Batched<T>;
  try {
    await build(builder);
  } finally {
    recording = false;
  }

  const results: BatchResult[] = new Array(calls.length);
  const bulkRuns = bulk ? sendBulk(target, calls, results, options.signal) : Promise.resolve();
  let next = 0;
  let stopped: Error | null = null;
  const skip = (i: number, reason: Error) => (results[i] = { ok: false, error: reason });
  await new Promise<void>((resolve) => {
    let running = 0;
    let done = 0;
    if (calls.length === 0) return resolve();
    const onAbort = () => (stopped ??= abortError(options.signal));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const complete = () => {
      if (++done === calls.length) {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      }
    };
    // after an asynchronous completion: start more (not from inside pump's loop)
    const finish = () => {
      complete();
      if (done < calls.length) pump();
    };
    const pump = () => {
      while (running < inFlight && next < calls.length) {
        const i = next++;
        const call = calls[i];
        if (!('run' in call)) {
          if ('failed' in call) results[i] = { ok: false, error: call.failed };
          complete(); // bulk ones are sent by sendBulk
          continue;
        }
        if (stopped) {
          skip(i, stopped);
          complete();
          continue;
        }
        running++;
        let promise: Promise<unknown>;
        try {
          promise = Promise.resolve(call.run());
        } catch (error) {
          promise = Promise.reject(error);
        }
        promise.then(
          (value) => {
            results[i] = value === undefined ? { ok: true } : { ok: true, value };
            running--;
            finish();
          },
          (error: Error) => {
            results[i] = { ok: false, error };
            if (options.stopOnError) stopped ??= notSentError(error);
            running--;
            finish();
          },
        );
      }
    };
    pump();
  });
  await bulkRuns;
  return results;
}

/**
 * Writes the bulk calls' requests into datagrams (per socket, in call
 * order) and sends each as soon as it is full, so the kernel works on one
 * while the next is written; fills in their results. Interface names are
 * looked up once each, when a call first needs them (a name that does not
 * resolve fails the calls that use it, with the lookup's error).
 */
async function sendBulk(target: object, calls: Call[], results: BatchResult[], signal?: AbortSignal): Promise<void> {
  const names = new Map<string, number>();
  const failedNames = new Map<string, Error>();
  const sent: Promise<void>[] = [];
  let settledHead = 0;
  let client: NetlinkClient | undefined;
  let out: Writer | undefined;
  let indexes: number[] = [];
  const flushChunk = () => {
    if (!client || !out || indexes.length === 0) return;
    const chunk = indexes;
    const bytes = out.view();
    indexes = [];
    out = undefined;
    sent.push(
      client.sendBulk(bytes, chunk.length, { signal }).then(
        ({ answered, errors }) => {
          for (let k = 0; k < chunk.length; k++) {
            const error = errors.get(k);
            results[chunk[k]] = error
              ? { ok: false, error }
              : answered[k] === 1
                ? { ok: true }
                : { ok: false, error: new Error('the kernel did not answer this request') };
          }
        },
        (error: Error) => {
          for (const i of chunk) results[i] = { ok: false, error };
        },
      ),
    );
  };
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    if (!('bulk' in call)) continue;
    const { preparer, method, args } = call.bulk;
    if (call.bulk.client !== client) {
      flushChunk();
      client = call.bulk.client;
    }
    out ??= new Writer(CHUNK_BYTES + 4096);
    const before = out.pos;
    let answer: NeedsNames | undefined;
    try {
      answer = preparer.prepareBatch(method, args, out, names);
    } catch (error) {
      out.pos = before;
      results[i] = { ok: false, error: error as Error };
      continue;
    }
    if (answer) {
      out.pos = before;
      const failed = answer.needs.find((n) => failedNames.has(n));
      if (failed !== undefined) {
        results[i] = { ok: false, error: failedNames.get(failed)! };
        continue;
      }
      flushChunk(); // nothing to hold back while the names are looked up
      await lookUpNames(target, answer.needs, names, failedNames);
      i--; // again, with the names known (or failed)
      continue;
    }
    indexes.push(i);
    calls[i] = WRITTEN;
    if (out.pos >= CHUNK_BYTES || indexes.length >= CHUNK_MESSAGES) {
      flushChunk();
      // Let the engine send it now (it flushes in a microtask), and stay
      // a bounded number of datagrams ahead of the kernel's answers.
      if (sent.length - settledHead >= CHUNKS_AHEAD) await sent[settledHead++];
      else await Promise.resolve();
    }
  }
  flushChunk();
  await Promise.all(sent);
}

async function lookUpNames(
  target: object,
  needs: string[],
  names: Map<string, number>,
  failedNames: Map<string, Error>,
): Promise<void> {
  const link = (target as { link?: { indexOf(ref: string): Promise<number> } }).link;
  await Promise.all(
    needs.map(async (name) => {
      if (names.has(name) || failedNames.has(name)) return;
      try {
        if (!link) throw new Error(`batch(): no link group to look up ${name}`);
        names.set(name, await link.indexOf(name));
      } catch (error) {
        failedNames.set(name, error as Error);
      }
    }),
  );
}

function notSentError(cause: Error): Error {
  const error = new Error('not sent: an earlier request in the batch failed (stopOnError)', { cause });
  (error as Error & { code: string }).code = 'ERR_RTNL_BATCH_STOPPED';
  return error;
}

/** A builder object: the same shape as `target`, every function recorded instead of awaited. */
function mirror(
  target: object,
  record: (fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[]) => void,
): object {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(
    {},
    {
      get(_t, key) {
        if (cache.has(key)) return cache.get(key);
        const value = (target as Record<PropertyKey, unknown>)[key];
        let out: unknown;
        if (typeof value === 'function') {
          out = (...args: unknown[]) => record(value as (...a: unknown[]) => unknown, target, args);
        } else if (typeof value === 'object' && value !== null) {
          out = mirror(value, record);
        }
        cache.set(key, out);
        return out;
      },
    },
  );
}
