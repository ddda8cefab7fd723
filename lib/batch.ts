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
  /**
   * The socket the call's request goes to if it can go in bulk, else
   * undefined (the call is made). `args` has four slots whatever the call
   * was given (more only for longer calls); it is reused: never keep it.
   */
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

/** Messages per datagram: up to ~256 KiB, its ACKs a few pages. */
const CHUNK_MESSAGES = 2048;
const CHUNK_BYTES = 256 * 1024;
/** Datagrams built ahead of the kernel's answers, at most. */
const CHUNKS_AHEAD = 16;

type Fn = (...args: unknown[]) => unknown;

/** What became of a recorded call. */
const RUN = 0; // made as a call, up to inFlight at a time
const BULK = 1; // written into a datagram by its group
const FAILED = 2; // refused before any request (its error in `failures`)
const DONE = 3; // a bulk call whose request is written: its arguments are let go

/**
 * The calls a batch recorded, column by column: an object (and an
 * arguments array) per call cost more in garbage collection than the
 * call itself when a batch holds 100k of them.
 */
class Recording {
  readonly kind: number[] = [];
  readonly fn: Fn[] = [];
  readonly self: unknown[] = [];
  readonly client: (NetlinkClient | undefined)[] = [];
  readonly argc: number[] = [];
  readonly a0: unknown[] = [];
  readonly a1: unknown[] = [];
  readonly a2: unknown[] = [];
  readonly a3: unknown[] = [];
  /** Arguments of calls with more than four. */
  readonly more = new Map<number, unknown[]>();
  readonly failures = new Map<number, Error>();
  /** Scratch for handing one call's arguments over; never kept by the callee. */
  private readonly scratch: unknown[] = [undefined, undefined, undefined, undefined];

  get length(): number {
    return this.kind.length;
  }

  /** Records a call; `args` is copied out of (argc of its slots count; more than four: all of it, kept). */
  add(kind: number, fn: Fn, self: unknown, client: NetlinkClient | undefined, args: unknown[], argc: number): void {
    const i = this.kind.length;
    this.kind.push(kind);
    this.fn.push(fn);
    this.self.push(self);
    this.client.push(client);
    this.argc.push(argc);
    this.a0.push(argc > 0 ? args[0] : undefined);
    this.a1.push(argc > 1 ? args[1] : undefined);
    this.a2.push(argc > 2 ? args[2] : undefined);
    this.a3.push(argc > 3 ? args[3] : undefined);
    if (argc > 4) this.more.set(i, args);
  }

  /**
   * Call i's arguments for a preparer: four slots (those not given are
   * undefined), in a scratch array valid until the next call.
   */
  slots(i: number): unknown[] {
    const more = this.more.get(i);
    if (more) return more;
    const s = this.scratch;
    s[0] = this.a0[i];
    s[1] = this.a1[i];
    s[2] = this.a2[i];
    s[3] = this.a3[i];
    return s;
  }

  /** Call i's arguments as given, in an array of their own. */
  args(i: number): unknown[] {
    return this.more.get(i) ?? [this.a0[i], this.a1[i], this.a2[i], this.a3[i]].slice(0, this.argc[i]);
  }

  /** Lets go of call i's arguments. */
  release(i: number, kind: number): void {
    this.kind[i] = kind;
    this.self[i] = this.a0[i] = this.a1[i] = this.a2[i] = this.a3[i] = this.client[i] = undefined;
    this.more.delete(i);
  }
}

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
  const calls = new Recording();
  let recording = true;
  // The bulk path: requests a group can write itself go out in large
  // datagrams through the engine's sendBulk, written while the kernel works
  // on the ones before. stopOnError needs each outcome before the next
  // request: not then.
  const bulk = !options.stopOnError;
  const builder = mirror(target, (fn, self, args, argc) => {
    if (!recording) throw new Error('batch(): the builder was used after the batch callback returned');
    const preparer = self as Partial<Preparer>;
    if (bulk && typeof preparer.canPrepare === 'function') {
      let client: NetlinkClient | undefined;
      try {
        client = preparer.canPrepare(fn.name, args);
      } catch (error) {
        // e.g. a closed handle: the call would have rejected
        calls.add(FAILED, fn, self, undefined, args, 0);
        calls.failures.set(calls.length - 1, error as Error);
        return;
      }
      if (client) {
        calls.add(BULK, fn, self, client, args, argc);
        return;
      }
    }
    calls.add(RUN, fn, self, undefined, args, argc);
  }) as Batched<T>;
  try {
    await build(builder);
  } finally {
    recording = false;
  }

  const results: BatchResult[] = new Array(calls.length);
  // In call order, segment by segment: a run of calls the groups write
  // themselves goes out pipelined in large datagrams (the kernel handles
  // them in order), a run of calls made as calls goes up to inFlight at a
  // time; each segment starts once the one before is answered, so a
  // request may depend on any made before it in another segment (an
  // address on a link the batch adds, a route via that address).
  const stop: { error: Error | null } = { error: null };
  const onAbort = () => (stop.error ??= abortError(options.signal));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let i = 0; i < calls.length;) {
      i =
        calls.kind[i] === BULK
          ? await sendBulk(target, calls, i, results, options.signal)
          : await runCalls(calls, i, results, inFlight, stop, options.stopOnError === true);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return results;
}

/**
 * Makes the calls from `from` up to the next bulk call, up to `inFlight`
 * at a time, and fills in their results; returns where it stopped.
 * `stop.error` set (an abort, or a failure under stopOnError) leaves the
 * calls not yet made unmade, with that reason.
 */
function runCalls(
  calls: Recording,
  from: number,
  results: BatchResult[],
  inFlight: number,
  stop: { error: Error | null },
  stopOnError: boolean,
): Promise<number> {
  let end = from;
  while (end < calls.length && calls.kind[end] !== BULK) end++;
  let next = from;
  return new Promise<number>((resolve) => {
    let running = 0;
    let done = from;
    const complete = () => {
      if (++done === end) resolve(end);
    };
    // after an asynchronous completion: start more (not from inside pump's loop)
    const finish = () => {
      complete();
      if (done < end) pump();
    };
    const pump = () => {
      while (running < inFlight && next < end) {
        const i = next++;
        if (calls.kind[i] !== RUN) {
          const failure = calls.failures.get(i);
          if (failure) results[i] = { ok: false, error: failure };
          complete();
          continue;
        }
        if (stop.error) {
          results[i] = { ok: false, error: stop.error };
          calls.release(i, DONE);
          complete();
          continue;
        }
        running++;
        let promise: Promise<unknown>;
        try {
          promise = Promise.resolve(calls.fn[i].apply(calls.self[i], calls.args(i)));
        } catch (error) {
          promise = Promise.reject(error);
        }
        calls.release(i, DONE);
        promise.then(
          (value) => {
            results[i] = value === undefined ? { ok: true } : { ok: true, value };
            running--;
            finish();
          },
          (error: Error) => {
            results[i] = { ok: false, error };
            if (stopOnError) stop.error ??= notSentError(error);
            running--;
            finish();
          },
        );
      }
    };
    if (from === end) resolve(end);
    else pump();
  });
}

/**
 * Writes the bulk calls' requests into datagrams (per socket, in call
 * order) and sends each as soon as it is full, so the kernel works on one
 * while the next is written; fills in their results. Interface names are
 * looked up once each, when a call first needs them (a name that does not
 * resolve fails the calls that use it, with the lookup's error).
 */
async function sendBulk(
  target: object,
  calls: Recording,
  from: number,
  results: BatchResult[],
  signal?: AbortSignal,
): Promise<number> {
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
  let i = from;
  for (; i < calls.length; i++) {
    const kind = calls.kind[i];
    if (kind === FAILED) {
      results[i] = { ok: false, error: calls.failures.get(i)! };
      continue;
    }
    if (kind !== BULK) break; // the segment ends
    const preparer = calls.self[i] as Preparer;
    if (calls.client[i] !== client) {
      flushChunk();
      client = calls.client[i];
    }
    out ??= new Writer(CHUNK_BYTES + 4096);
    const before = out.pos;
    let answer: NeedsNames | undefined;
    try {
      answer = preparer.prepareBatch(calls.fn[i].name, calls.slots(i), out, names);
    } catch (error) {
      out.pos = before;
      results[i] = { ok: false, error: error as Error };
      calls.release(i, DONE);
      continue;
    }
    if (answer) {
      out.pos = before;
      const failed = answer.needs.find((n) => failedNames.has(n));
      if (failed !== undefined) {
        results[i] = { ok: false, error: failedNames.get(failed)! };
        calls.release(i, DONE);
        continue;
      }
      // Looked up once what was sent before is done: it may make the link.
      flushChunk();
      await Promise.all(sent);
      await lookUpNames(target, answer.needs, names, failedNames);
      i--; // again, with the names known (or failed)
      continue;
    }
    indexes.push(i);
    calls.release(i, DONE);
    if (out.pos >= CHUNK_BYTES || indexes.length >= CHUNK_MESSAGES) {
      flushChunk();
      // Let the engine send it, and read the ACKs that came meanwhile: they
      // free the receive window the sender thread needs to go on (one
      // event-loop turn per datagram, not a microtask, or the thread would
      // wait for them while the next datagrams are written). Stay a bounded
      // number of datagrams ahead of the kernel's answers.
      if (sent.length - settledHead >= CHUNKS_AHEAD) await sent[settledHead++];
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  flushChunk();
  await Promise.all(sent);
  return i;
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

/**
 * A builder object: the same shape as `target`, every function recorded
 * instead of awaited. Plain objects whose properties become data
 * properties on first use (a Proxy's trap ran on every `b.route` of a
 * 100k-call loop). `record` gets the arguments in one array it must copy
 * out of (it is reused), with argc.
 */
function mirror(target: object, record: (fn: Fn, self: unknown, args: unknown[], argc: number) => void): object {
  const out: Record<PropertyKey, unknown> = {};
  for (const key of memberNames(target)) {
    Object.defineProperty(out, key, {
      configurable: true,
      enumerable: true,
      get() {
        const value = (target as Record<PropertyKey, unknown>)[key];
        let made: unknown;
        if (typeof value === 'function') made = recorder(value as Fn, target, record);
        else if (typeof value === 'object' && value !== null) made = mirror(value, record);
        Object.defineProperty(out, key, { value: made, enumerable: true });
        return made;
      },
    });
  }
  return out;
}

/** Own and inherited property names (methods live on prototypes), but not Object's. */
function memberNames(target: object): Set<PropertyKey> {
  const names = new Set<PropertyKey>();
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Reflect.ownKeys(o)) if (key !== 'constructor') names.add(key);
  }
  return names;
}

function recorder(
  fn: Fn,
  self: object,
  record: (fn: Fn, self: unknown, args: unknown[], argc: number) => void,
): (...args: unknown[]) => void {
  // Four slots, written for every call, never resized: only argc says how many were given.
  const scratch: unknown[] = [undefined, undefined, undefined, undefined];
  return function (this: unknown, a0: unknown, a1: unknown, a2: unknown, a3: unknown) {
    const n = arguments.length;
    if (n > 4) {
      // eslint-disable-next-line prefer-rest-params -- a rest array per call is what this avoids
      const all = Array.prototype.slice.call(arguments) as unknown[];
      record(fn, self, all, n);
      return;
    }
    scratch[0] = a0;
    scratch[1] = a1;
    scratch[2] = a2;
    scratch[3] = a3;
    record(fn, self, scratch, n);
  };
}
