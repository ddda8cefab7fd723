/**
 * Helpers for users' own test suites.
 */
import { randomBytes } from 'node:crypto';
import { open, type Handle } from './handle';
import * as netns from './netns';

/**
 * Creates a randomly named namespace, hands a handle in it and its name to
 * fn, and deletes both afterwards, also when fn throws.
 *
 * @example
 * await withTemporaryNamespace(async (h, name) => {
 *   await h.link.set('lo', { up: true })
 * })
 */
export async function withTemporaryNamespace<T>(
  fn: (handle: Handle, name: string) => Promise<T>,
  options: { prefix?: string } = {},
): Promise<T> {
  const name = `${options.prefix ?? 'rtnl-test-'}${randomBytes(4).toString('hex')}`;
  await netns.create(name);
  let handle: Handle | undefined;
  try {
    handle = await open({ netns: name });
    return await fn(handle, name);
  } finally {
    await handle?.close();
    await netns.remove(name);
  }
}
