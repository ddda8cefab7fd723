/**
 * What the API layer asks of the engine: one request with its decoded
 * replies, a whole dump (retried when the kernel flags it interrupted), or
 * a dump as a stream of objects.
 */
import { DumpInterruptedError, abortError } from '../errors';
import type { NetlinkClient } from './client';

/** Turns one reply message into an object, or undefined to skip it. */
export type Decoder<T> = (buf: Buffer, offset: number, length: number, type: number, flags: number) => T | undefined;

export interface RequestOptions {
  signal?: AbortSignal;
  operation?: string;
}

export interface DumpOptions extends RequestOptions {
  /** Retries after NLM_F_DUMP_INTR before giving up (default 5). */
  retries?: number;
}

/** Sends one (non-dump) request and resolves its decoded replies. */
export function request<T>(
  client: NetlinkClient,
  message: Buffer,
  decode: Decoder<T> | null,
  options: RequestOptions = {},
  /** The kernel answers with exactly one message (see SendOptions.singleReply); never from user options. */
  singleReply = false,
): Promise<T[]> {
  // Not async, and no reply collector when nothing is decoded: bulk work
  // (a batch of 100k routes) spent a third of its time collecting garbage.
  if (!decode) return client.send(message, options).then(noReplies);
  const out: T[] = [];
  return client
    .send(message, {
      signal: options.signal,
      operation: options.operation,
      singleReply,
      onReply: (buf, off, len, type, flags) => {
        const v = decode(buf, off, len, type, flags);
        if (v !== undefined) out.push(v);
      },
    })
    .then(() => out);
}

const NONE: never[] = [];
function noReplies(): never[] {
  return NONE;
}

/**
 * A whole dump as an array. If the kernel says the dump was interrupted by
 * a concurrent change, it is run again (up to `retries` times); then a
 * DumpInterruptedError carries what the last attempt returned.
 */
export async function dump<T>(
  client: NetlinkClient,
  message: Buffer,
  decode: Decoder<T>,
  options: DumpOptions = {},
): Promise<T[]> {
  const retries = options.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    const out: T[] = [];
    const { interrupted } = await client.send(message, {
      dump: true,
      readAhead: true,
      signal: options.signal,
      operation: options.operation,
      onReply: (buf, off, len, type, flags) => {
        const v = decode(buf, off, len, type, flags);
        if (v !== undefined) out.push(v);
      },
    });
    if (!interrupted) return out;
    if (attempt >= retries) {
      throw new DumpInterruptedError(options.operation ?? 'dump', attempt + 1, out);
    }
  }
}

/**
 * A dump as an async iterable, yielding objects as datagrams arrive.
 * Reading pauses while `highWaterMark` objects wait for the consumer, so
 * memory stays bounded by what the consumer holds. Breaking out early
 * stops delivery; the rest of the dump is drained and discarded. An
 * interrupted dump cannot be replayed once yielded: it ends with a
 * DumpInterruptedError whose `partial` is empty.
 */
export function stream<T>(
  client: NetlinkClient,
  message: Buffer,
  decode: Decoder<T>,
  options: RequestOptions & {
    highWaterMark?: number;
    /** An error of the dump that is a normal end instead (e.g. ENOENT for a table that does not exist). */
    endsOn?: (error: unknown) => boolean;
  } = {},
): AsyncIterable<T> {
  const highWaterMark = options.highWaterMark ?? 4096;
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const buffered: T[] = [];
      let head = 0;
      let done = false;
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      let paused = false;
      let started = false;
      const notify = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const start = () => {
        started = true;
        client
          .send(message, {
            dump: true,
            signal: options.signal,
            operation: options.operation,
            onReply: (buf, off, len, type, flags) => {
              const v = decode(buf, off, len, type, flags);
              if (v === undefined) return;
              buffered.push(v);
              if (!paused && buffered.length - head >= highWaterMark) {
                paused = true;
                client.pauseReading();
              }
              notify();
            },
          })
          .then(
            ({ interrupted }) => {
              if (interrupted) failure = new DumpInterruptedError(options.operation ?? 'dump', 1, []);
              done = true;
              notify();
            },
            (error: Error) => {
              failure = error;
              done = true;
              notify();
            },
          );
      };
      const resumeIfLow = () => {
        if (paused && buffered.length - head < highWaterMark / 2) {
          paused = false;
          client.resumeReading();
        }
      };
      const waitNext = async (): Promise<IteratorResult<T>> => {
        if (!started) start();
        for (;;) {
          if (head < buffered.length) {
            const value = buffered[head++];
            if (head > 1024 && head * 2 > buffered.length) {
              buffered.splice(0, head);
              head = 0;
            }
            resumeIfLow();
            return { value, done: false };
          }
          if (done) {
            if (failure) {
              const f = failure;
              failure = undefined;
              if (options.endsOn?.(f)) return { value: undefined, done: true };
              throw f;
            }
            return { value: undefined, done: true };
          }
          if (options.signal?.aborted) throw abortError(options.signal);
          await new Promise<void>((resolve) => (wake = resolve));
        }
      };
      return {
        next(): Promise<IteratorResult<T>> {
          // The common case, an object already decoded: no async frame.
          if (started && head < buffered.length) {
            const value = buffered[head++];
            if (head > 1024 && head * 2 > buffered.length) {
              buffered.splice(0, head);
              head = 0;
            }
            resumeIfLow();
            return Promise.resolve({ value, done: false });
          }
          return waitNext();
        },
        async return(): Promise<IteratorResult<T>> {
          if (started && !done) client.abandon(message);
          done = true;
          buffered.length = 0;
          head = 0;
          if (paused) {
            paused = false;
            client.resumeReading();
          }
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/**
 * An AsyncIterable whose first next() runs `setup` (validation, lookups)
 * and then hands every call straight to the iterator it returns: one
 * promise per object, where an async generator around `yield*` costs two
 * (a streamed dump of 100k routes spent half its time there). `ends(error)`
 * may turn an error of setup into a normal end (true); errors of the dump
 * itself are the inner stream's to end on (stream()'s endsOn), so that
 * no call is wrapped.
 */
export function deferredStream<T>(
  setup: () => Promise<AsyncIterable<T>>,
  ends?: (error: unknown) => boolean,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | undefined;
      return {
        next(): Promise<IteratorResult<T>> {
          // Not async: an async function returning the inner promise would add ticks per object.
          if (inner) return inner.next();
          return setup().then(
            (iterable) => {
              inner = iterable[Symbol.asyncIterator]();
              return inner.next();
            },
            (error: unknown) => {
              if (ends?.(error)) return { value: undefined, done: true };
              throw error;
            },
          );
        },
        async return(value?: unknown): Promise<IteratorResult<T>> {
          if (inner?.return) await inner.return(value);
          return { value: undefined, done: true };
        },
      };
    },
  };
}
