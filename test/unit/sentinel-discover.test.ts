import { describe, expect, it } from 'vitest';
import { RctlError } from '../../src/errors.js';
import { chooseMasterName } from '../../src/sentinel/discover.js';

const at = { host: '127.0.0.1', port: 26379 };

describe('chooseMasterName (sentinel status --sentinel without --master-name)', () => {
  it('uses the only master the Sentinel monitors', () => {
    expect(chooseMasterName(['qsmaster'], at)).toBe('qsmaster');
  });

  it('several: a usage error (exit 2) that lists them all and names --master-name', () => {
    let err: unknown;
    try {
      chooseMasterName(['orders', 'cache', 'sessions'], at);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RctlError);
    const e = err as RctlError;
    expect(e.code).toBe('USAGE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('Sentinel 127.0.0.1:26379 monitors 3 masters (cache, orders, sessions); say which one.');
    expect(e.hint).toBe('Pass --master-name cache (or one of the others).');
  });

  it('none: refused, pointing at the Sentinel to use', () => {
    expect(() => chooseMasterName([], at)).toThrow(/monitors no master/);
  });
});
