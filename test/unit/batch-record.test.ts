/**
 * runBatch's recording: every call's arguments reach the method as given
 * (none, few, more than four, undefined holes), in call order, with results
 * in their slots, whether the call is made or refused.
 */
import { runBatch } from '../../lib/batch';

class Group {
  readonly seen: unknown[][] = [];
  async echo(...args: unknown[]): Promise<unknown[]> {
    this.seen.push(args);
    await new Promise((r) => setImmediate(r));
    return args;
  }
  async fail(reason: string): Promise<void> {
    throw new Error(reason);
  }
}

describe('batch recording', () => {
  it('passes every argument list through unchanged and keeps results in call order', async () => {
    const target = { g: new Group() };
    const lists: unknown[][] = [
      [],
      [1],
      [1, 'two'],
      [undefined, 2, undefined],
      [1, 2, 3, 4],
      [1, 2, 3, 4, 5, 6, { x: 7 }],
    ];
    const results = await runBatch(
      target,
      (b) => {
        for (const args of lists) b.g.echo(...args);
        b.g.fail('nope');
        b.g.echo('last');
      },
      { inFlight: 2 },
    );
    expect(results.slice(0, lists.length)).toEqual(lists.map((value) => ({ ok: true, value })));
    expect(results[lists.length]).toMatchObject({ ok: false, error: { message: 'nope' } });
    expect(results[lists.length + 1]).toEqual({ ok: true, value: ['last'] });
    // the arity is the caller's: trailing undefineds given are kept, none are added
    expect(target.g.seen.map((a) => a.length)).toEqual([0, 1, 2, 3, 4, 7, 1]);
  });
});
