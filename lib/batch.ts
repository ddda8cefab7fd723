/**
 * Batches: many requests through one handle, pipelined. Every call made on
 * the builder is recorded, then made on the handle's group of the same
 * name, many in flight at once: the engine packs the requests back to back
 * into as few sendmsg calls as the socket buffer allows, and each result
 * lands in its slot, in call order.
 * rtnetlink has no transactions: a batch is fast, not atomic.
 */
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
  const calls: (() => unknown)[] = [];
  let recording = true;
  const builder = mirror(target, (fn, self, args) => {
    if (!recording) throw new Error('batch(): the builder was used after the batch callback returned');
    calls.push(() => fn.apply(self, args));
  }) as Batched<T>;
  try {
    await build(builder);
  } finally {
    recording = false;
  }

  const results: BatchResult[] = new Array(calls.length);
  let next = 0;
  let stopped: Error | null = null;
  const skip = (i: number, reason: Error) => (results[i] = { ok: false, error: reason });
  await new Promise<void>((resolve) => {
    let running = 0;
    let done = 0;
    if (calls.length === 0) return resolve();
    const onAbort = () => (stopped ??= abortError(options.signal));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      if (++done === calls.length) {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      } else pump();
    };
    const pump = () => {
      while (running < inFlight && next < calls.length) {
        const i = next++;
        if (stopped) {
          skip(i, stopped);
          finish();
          continue;
        }
        running++;
        let promise: Promise<unknown>;
        try {
          promise = Promise.resolve(calls[i]());
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
  return results;
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
