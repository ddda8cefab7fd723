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

/** A request a group built ahead of time for a batch (see prepareBatch). */
export interface PreparedRequest {
  client: NetlinkClient;
  message: Buffer;
}

/** What a preparer answers for a call that names interfaces it has not been told the index of. */
export interface NeedsNames {
  needs: string[];
}

/** A group that can build some of its calls' requests synchronously, for the bulk path. */
interface Preparer {
  prepareBatch(
    method: string,
    args: unknown[],
    names?: ReadonlyMap<string, number>,
  ): PreparedRequest | NeedsNames | undefined;
}

interface Deferred {
  preparer: Preparer;
  method: string;
  args: unknown[];
  needs: string[];
}

/** Messages per sendBatch: one datagram of up to ~256 KiB, its ACKs a few pages. */
const CHUNK_MESSAGES = 2048;
const CHUNK_BYTES = 256 * 1024;

type Call = { run: () => unknown } | { prepared: PreparedRequest } | { failed: Error } | { deferred: Deferred };

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
  // The bulk path: requests a group can build now go out in chunks through
  // the engine's sendBatch, one promise per chunk instead of per request.
  // stopOnError needs each outcome before the next request: not then.
  const bulk = !options.stopOnError;
  const builder = mirror(target, (fn, self, args) => {
    if (!recording) throw new Error('batch(): the builder was used after the batch callback returned');
    const preparer = self as Partial<Preparer>;
    if (bulk && typeof preparer.prepareBatch === 'function') {
      try {
        const prepared = preparer.prepareBatch(fn.name, args);
        if (prepared && 'needs' in prepared) {
          calls.push({ deferred: { preparer: preparer as Preparer, method: fn.name, args, needs: prepared.needs } });
          return;
        }
        if (prepared) {
          calls.push({ prepared });
          return;
        }
      } catch (error) {
        calls.push({ failed: error as Error }); // bad input: the call would have rejected
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

  await resolveDeferred(target, calls);
  const results: BatchResult[] = new Array(calls.length);
  const bulkRuns = bulk ? sendPrepared(calls, results, options.signal) : Promise.resolve();
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
          complete(); // prepared ones are sent by sendPrepared
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
 * Looks up every interface name the deferred calls need, once each, and
 * builds their requests (a name that does not resolve fails the calls
 * that use it, with the lookup's error).
 */
async function resolveDeferred(target: object, calls: Call[]): Promise<void> {
  const deferred = calls.filter((c): c is { deferred: Deferred } => 'deferred' in c);
  if (deferred.length === 0) return;
  const link = (target as { link?: { indexOf(ref: string): Promise<number> } }).link;
  const names = new Map<string, number>();
  const failures = new Map<string, Error>();
  const unique = [...new Set(deferred.flatMap((c) => c.deferred.needs))];
  await Promise.all(
    unique.map(async (name) => {
      try {
        if (!link) throw new Error(`batch(): no link group to look up ${name}`);
        names.set(name, await link.indexOf(name));
      } catch (error) {
        failures.set(name, error as Error);
      }
    }),
  );
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    if (!('deferred' in call)) continue;
    const { preparer, method, args, needs } = call.deferred;
    const failed = needs.find((n) => failures.has(n));
    if (failed !== undefined) {
      calls[i] = { failed: failures.get(failed)! };
      continue;
    }
    try {
      const prepared = preparer.prepareBatch(method, args, names);
      calls[i] =
        prepared && !('needs' in prepared) ? { prepared } : { failed: new Error('batch(): a name stayed unresolved') };
    } catch (error) {
      calls[i] = { failed: error as Error };
    }
  }
}

/**
 * Sends the prepared calls in chunks (per socket, in call order), each a
 * single sendBatch, and fills in their results. Every chunk is queued at
 * once; the engine keeps within the socket's receive window.
 */
async function sendPrepared(calls: Call[], results: BatchResult[], signal?: AbortSignal): Promise<void> {
  const chunks: { client: NetlinkClient; indexes: number[]; messages: Buffer[] }[] = [];
  let current: (typeof chunks)[number] | undefined;
  let bytes = 0;
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    if (!('prepared' in call)) continue;
    const { client, message } = call.prepared;
    if (
      !current ||
      current.client !== client ||
      current.messages.length >= CHUNK_MESSAGES ||
      bytes + message.length > CHUNK_BYTES
    ) {
      current = { client, indexes: [], messages: [] };
      chunks.push(current);
      bytes = 0;
    }
    current.indexes.push(i);
    current.messages.push(message);
    bytes += message.length;
  }
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const outcomes = await chunk.client.sendBatch(chunk.messages, { signal });
        outcomes.forEach((o, k) => {
          results[chunk.indexes[k]] = o.error
            ? { ok: false, error: o.error }
            : o.answered
              ? { ok: true }
              : { ok: false, error: new Error('the kernel did not answer this request') };
        });
      } catch (error) {
        for (const i of chunk.indexes) results[i] = { ok: false, error: error as Error };
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
