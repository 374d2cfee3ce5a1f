import { describe, expect, it } from 'vitest';
import { RctlError } from '../../src/errors.js';
import { waitUntil, type Probe } from '../../src/util/wait.js';

/** A probe that answers from a script, one entry per call (the last one repeats), and counts its calls. */
function scripted<T>(...steps: (() => Awaited<ReturnType<Probe<T>>>)[]): Probe<T> & { calls: number } {
  const p = (async () => {
    const step = steps[Math.min(p.calls, steps.length - 1)]!;
    p.calls++;
    return step();
  }) as Probe<T> & { calls: number };
  p.calls = 0;
  return p;
}
const notYet = (reason: string) => () => ({ done: false as const, reason });
const fail = (err: Error) => () => {
  throw err;
};
const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => 'resolved', (e: unknown) => e);

describe('waitUntil', () => {
  it('returns the value as soon as the probe says done, probing again in between', async () => {
    const probe = scripted<number>(notYet('a'), notYet('b'), () => ({ done: true, value: 42 }));
    expect(await waitUntil('the answer', probe, { timeoutMs: 5_000, intervalMs: 1 })).toBe(42);
    expect(probe.calls).toBe(3);
  });

  it('times out with a TIMEOUT error naming the wait, the bound and the last reason (exit 7)', async () => {
    const probe = scripted<void>(notYet('first'), notYet('still 2 of 3 nodes'));
    const err = await caught(waitUntil('every node to agree', probe, { timeoutMs: 60, intervalMs: 5 }));
    expect(err).toBeInstanceOf(RctlError);
    const e = err as RctlError;
    expect(e.code).toBe('TIMEOUT');
    expect(e.exitCode).toBe(7);
    expect(e.message).toBe('Gave up after 0.1 s waiting for every node to agree: still 2 of 3 nodes.');
    expect(e.hint).toBe('Run `rctl check` to see the cluster state.');
    expect(e.details).toEqual({ wait: 'every node to agree', timeoutMs: 60, lastReason: 'still 2 of 3 nodes' });
    expect(probe.calls).toBeGreaterThan(1);
  });

  it('uses the caller\'s hint in the timeout error', async () => {
    const err = (await caught(waitUntil('x', scripted<void>(notYet('no')), { timeoutMs: 10, intervalMs: 5, hint: 'Raise --timeout.' }))) as RctlError;
    expect(err.hint).toBe('Raise --timeout.');
  });

  it('probes at least once even with a zero timeout', async () => {
    const probe = scripted<string>(() => ({ done: true, value: 'ok' }));
    expect(await waitUntil('x', probe, { timeoutMs: 0 })).toBe('ok');
    const never = scripted<void>(notYet('not yet'));
    expect(((await caught(waitUntil('x', never, { timeoutMs: 0 }))) as RctlError).message).toBe('Gave up after 0.0 s waiting for x: not yet.');
    expect(never.calls).toBe(1);
  });

  it('retries the errors of nodes that are unreachable, slow or loading, and reports the last one on timeout', async () => {
    const probe = scripted<string>(fail(new RctlError('UNREACHABLE', 'Cannot reach 127.0.0.1:1.')), fail(new RctlError('LOADING', 'Loading.')), fail(new RctlError('TIMEOUT', 'Slow.')), () => ({ done: true, value: 'up' }));
    expect(await waitUntil('node up', probe, { timeoutMs: 5_000, intervalMs: 1 })).toBe('up');
    expect(probe.calls).toBe(4);
    const down = scripted<void>(fail(new RctlError('UNREACHABLE', 'Cannot reach 127.0.0.1:1 (connection refused).')));
    expect(((await caught(waitUntil('node up', down, { timeoutMs: 20, intervalMs: 5 }))) as RctlError).message).toBe('Gave up after 0.0 s waiting for node up: Cannot reach 127.0.0.1:1 (connection refused).');
  });

  it('rethrows any other rctl error at once, unchanged', async () => {
    const boom = new RctlError('AUTH', 'Wrong password.');
    const probe = scripted<void>(notYet('a'), fail(boom), notYet('never reached'));
    expect(await caught(waitUntil('x', probe, { timeoutMs: 5_000, intervalMs: 1 }))).toBe(boom);
    expect(probe.calls).toBe(2);
  });

  it('treats errors that are not rctl errors (raw client errors) as transient', async () => {
    const probe = scripted<number>(fail(new Error('ECONNRESET')), () => ({ done: true, value: 1 }));
    expect(await waitUntil('x', probe, { timeoutMs: 5_000, intervalMs: 1 })).toBe(1);
  });

  it('an aborted signal stops the wait with INTERRUPTED (exit 130), before probing or during the pause', async () => {
    const before = new AbortController();
    before.abort();
    const probe = scripted<void>(notYet('a'));
    const e1 = (await caught(waitUntil('x', probe, { timeoutMs: 5_000, signal: before.signal }))) as RctlError;
    expect([e1.code, e1.exitCode]).toEqual(['INTERRUPTED', 130]);
    expect(probe.calls).toBe(0);

    const during = new AbortController();
    const slow = scripted<void>(() => {
      during.abort();
      return { done: false, reason: 'a' };
    });
    const t0 = Date.now();
    // The pause would be 10 s and the bound 60 s: the abort must end it at once.
    const e2 = (await caught(waitUntil('x', slow, { timeoutMs: 60_000, intervalMs: 10_000, signal: during.signal }))) as RctlError;
    expect(e2.code).toBe('INTERRUPTED');
    expect(slow.calls).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
