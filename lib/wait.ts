/**
 * Waiting for the kernel to report a state (a link up, an address past
 * DAD, a route present), built on the monitor: subscribe first, then
 * look, then look again on every relevant event, so no change can fall
 * between the look and the subscription.
 */
import { abortError, invalidType, outOfRange } from './errors';
import type { Monitor, MonitorGroup, MonitorOptions } from './monitor';

/** What waiting needs of a handle. */
export interface WaitContext {
  monitor?(options: MonitorOptions): Monitor;
}

export interface WaitOptions {
  /** Milliseconds before rejecting with code 'ERR_RTNL_TIMEOUT' (default: wait for ever). */
  timeout?: number;
  signal?: AbortSignal;
}

function timeoutError(what: string, ms: number): Error {
  const error = new Error(`timed out after ${ms} ms waiting for ${what}`) as Error & { code: string };
  error.name = 'TimeoutError';
  error.code = 'ERR_RTNL_TIMEOUT';
  return error;
}

/**
 * Resolves with the first non-undefined result of `look()`, run once after
 * subscribing to `groups` and again after each event of those groups.
 */
export async function waitUntil<T>(
  ctx: WaitContext,
  groups: MonitorGroup[],
  what: string,
  look: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const { timeout, signal } = options;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0)))
    throw outOfRange('options.timeout', 'a number of milliseconds >= 0', timeout);
  if (signal?.aborted) throw abortError(signal);
  if (!ctx.monitor) throw new Error('waitFor needs a handle (it watches kernel events)');
  const monitor = ctx.monitor({ groups });
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let looking = false;
    let again = false;
    const finish = (error: Error | null, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      monitor.close();
      if (error) reject(error);
      else resolve(value as T);
    };
    const onAbort = () => finish(abortError(signal));
    const timer = timeout === undefined ? undefined : setTimeout(() => finish(timeoutError(what, timeout)), timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
    // One look at a time; events during a look ask for one more.
    const check = async () => {
      if (looking) {
        again = true;
        return;
      }
      looking = true;
      try {
        do {
          again = false;
          const found = await look();
          if (found !== undefined) return finish(null, found);
        } while (again && !done);
      } catch (error) {
        finish(error as Error);
      } finally {
        looking = false;
      }
    };
    monitor.on('event', () => void check());
    monitor.on('error', (error: Error) => finish(error));
    void check();
  });
}
