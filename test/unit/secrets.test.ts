import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePassword } from '../../src/cli/password.js';
import { RctlError } from '../../src/errors.js';
import { connectableHost, isLoopback, refuseOpenBind } from '../../src/provision/bind-address.js';
import { redisQuote, redisSettings, splitSecrets, toConfigFile } from '../../src/provision/redis-args.js';
import { sentinelConfig, validateSentinelIntent, type SentinelIntent } from '../../src/sentinel/config.js';

const usage = (f: () => unknown): RctlError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RctlError);
    expect((err as RctlError).exitCode).toBe(2);
    return err as RctlError;
  }
  throw new Error('expected a usage error');
};

describe('secret settings stay off the command line', () => {
  const req = { cluster: 'c', nodes: [], network: 'host' as const, host: '127.0.0.1', nodeTimeoutMs: 5000, password: 'pw' };
  it('splits requirepass and masterauth from the rest', () => {
    const { secrets, open } = splitSecrets(redisSettings(req, { index: 1, port: 7000, busPort: 17000 }, '/data'));
    expect(secrets).toEqual([
      ['requirepass', 'pw'],
      ['masterauth', 'pw'],
    ]);
    expect(open.map(([k]) => k)).toEqual(['port', 'cluster-enabled', 'cluster-config-file', 'cluster-node-timeout', 'appendonly', 'dir', 'repl-diskless-sync-delay', 'bind']);
  });
  it('quotes values the way redis.conf parses them (sdssplitargs: \\\\, \\" and \\xHH)', () => {
    expect(redisQuote('plain-1.2:x/y')).toBe('plain-1.2:x/y');
    expect(redisQuote('')).toBe('""');
    expect(redisQuote('a b')).toBe('"a b"');
    expect(redisQuote('q"b\\s')).toBe('"q\\"b\\\\s"');
    expect(redisQuote('tab\tnl\n')).toBe('"tab\\x09nl\\x0a"');
    expect(redisQuote('ünï')).toBe('"ünï"');
    expect(toConfigFile([['requirepass', 'a "b"']])).toBe('# Written by rctl. Redis rewrites nodes.conf in the same directory itself.\nrequirepass "a \\"b\\""\n');
  });
});

describe('Sentinel passwords', () => {
  const i: SentinelIntent = { name: 'g', masterName: 'm', replicas: 1, sentinels: 3, quorum: 2, downAfterMs: 5000, failoverTimeoutMs: 60000, parallelSyncs: 1, portBase: 6379, sentinelPortBase: 26379, host: '127.0.0.1', password: 'Pw!#x' };
  it('auth-pass is in the config file', () => {
    expect(sentinelConfig(i, 26379, { host: '127.0.0.1', port: 6379 }, '/d')).toContain('sentinel auth-pass m "Pw!#x"\n');
  });
  it.each(['a b', 'a"b', "a'b", 'a\\b', 'a\tb'])('refuses %j: Sentinel rewrites auth-pass unquoted and would not start again', (password) => {
    expect(usage(() => validateSentinelIntent({ ...i, password })).message).toMatch(/whitespace, quotes or backslashes/);
  });
});

describe('bind address', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['127.example.com', false],
  ])('%s is loopback: %s', (host, loop) => expect(isLoopback(host)).toBe(loop));
  it('refuses a non-loopback bind without a password, unless allowed or a password is set', () => {
    expect(usage(() => refuseOpenBind('0.0.0.0', undefined, false)).message).toBe('--host 0.0.0.0 without a password: the nodes would accept anyone on the network.');
    expect(() => refuseOpenBind('0.0.0.0', 'pw', false)).not.toThrow();
    expect(() => refuseOpenBind('0.0.0.0', undefined, true)).not.toThrow();
    expect(() => refuseOpenBind('127.0.0.1', undefined, false)).not.toThrow();
  });
  it('suggests a connectable address for wildcard binds', () => {
    expect(connectableHost('0.0.0.0')).toBe('127.0.0.1');
    expect(connectableHost('::')).toBe('::1');
    expect(connectableHost('10.0.0.5')).toBe('10.0.0.5');
  });
});

describe('resolvePassword', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rctl-pw-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, 0o600);
    return p;
  };
  it('reads the first line of --password-file, without its line break', () => {
    expect(resolvePassword({ passwordFile: file('a', 's3cret pass\nsecond line\n') })).toBe('s3cret pass');
    expect(resolvePassword({ passwordFile: file('b', 'crlf\r\n') })).toBe('crlf');
    expect(resolvePassword({ passwordFile: file('c', 'no newline') })).toBe('no newline');
  });
  it('prefers the flags over RCTL_PASSWORD, and uses RCTL_PASSWORD otherwise', () => {
    const before = process.env['RCTL_PASSWORD'];
    process.env['RCTL_PASSWORD'] = 'from-env';
    try {
      expect(resolvePassword({})).toBe('from-env');
      expect(resolvePassword({ password: 'flag' })).toBe('flag');
      expect(resolvePassword({ passwordFile: file('d', 'file\n') })).toBe('file');
    } finally {
      if (before === undefined) delete process.env['RCTL_PASSWORD'];
      else process.env['RCTL_PASSWORD'] = before;
    }
  });
  it('refuses both flags, a missing file and an empty first line, never echoing content', () => {
    expect(usage(() => resolvePassword({ password: 'x', passwordFile: file('e', 'y') })).message).toBe('--password and --password-file were both given.');
    expect(usage(() => resolvePassword({ passwordFile: join(dir, 'missing') })).message).toBe(`--password-file ${join(dir, 'missing')} cannot be read (ENOENT).`);
    expect(usage(() => resolvePassword({ passwordFile: file('f', '\nhidden-second-line\n') })).message).not.toContain('hidden');
  });
});
