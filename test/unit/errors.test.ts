import { describe, expect, it } from 'vitest';
import { toNodeError } from '../../src/redis/connection.js';
import { ExitCode, RctlError } from '../../src/errors.js';

const addr = { host: '127.0.0.1', port: 6381 };
const sysErr = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('toNodeError', () => {
  it('maps refused connections to UNREACHABLE (exit 3) naming the address', () => {
    const e = toNodeError(addr, sysErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6381'), undefined);
    expect(e.code).toBe('UNREACHABLE');
    expect(e.exitCode).toBe(ExitCode.unreachable);
    expect(e.message).toContain('127.0.0.1:6381');
    expect(e.message).toContain('connection refused');
    expect(e.hint).toBeTruthy();
  });
  it('maps NOAUTH to AUTH asking for a password', () => {
    const e = toNodeError(addr, new Error('NOAUTH Authentication required.'), undefined);
    expect(e.code).toBe('AUTH');
    expect(e.exitCode).toBe(ExitCode.auth);
    expect(e.hint).toContain('--password');
  });
  it('maps WRONGPASS to AUTH saying the password was rejected', () => {
    const e = toNodeError(addr, new Error('WRONGPASS invalid username-password pair or user is disabled.'), 'x');
    expect(e.code).toBe('AUTH');
    expect(e.message).toContain('rejected');
  });
  it('maps a non-Redis server on the port to UNREACHABLE', () => {
    const e = toNodeError(addr, new Error('Protocol error, got "H" as reply type byte. Please report this.'), undefined);
    expect(e.code).toBe('UNREACHABLE');
    expect(e.message).toContain('does not speak the Redis protocol');
  });
  it('maps a non-cluster node to NOT_CLUSTER_ENABLED', () => {
    expect(toNodeError(addr, new Error('ERR This instance has cluster support disabled'), undefined).code).toBe('NOT_CLUSTER_ENABLED');
  });
  it('maps LOADING to its own retryable code', () => {
    expect(toNodeError(addr, new Error('LOADING Redis is loading the dataset in memory'), undefined).code).toBe('LOADING');
  });
  it('maps command timeouts to TIMEOUT', () => {
    expect(toNodeError(addr, new Error('Command timed out'), undefined).code).toBe('TIMEOUT');
  });
  it('keeps typed errors and wraps the rest as REDIS_ERROR', () => {
    const typed = new RctlError('USAGE', 'x');
    expect(toNodeError(addr, typed, undefined)).toBe(typed);
    const e = toNodeError(addr, new Error('ERR something odd'), undefined);
    expect(e.code).toBe('REDIS_ERROR');
    expect(e.exitCode).toBe(ExitCode.redis);
  });
});
