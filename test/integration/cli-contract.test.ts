import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rctl, tempHome, type RunResult } from '../helpers/rctl.js';

/*
 * Exit codes and --json documents are a contract (README "Exit codes", docs/json.md). Parser errors
 * are checked against a cluster name that does not exist and a seed nobody listens on: had rctl
 * looked them up before refusing the flag, the exit code would be 6 or 3, not 2.
 */

const home = tempHome();
const NAME = 'h4-cc';
const BASE = 8511;
const NOBODY = '127.0.0.1:8599';

afterAll(async () => {
  await rctl(['destroy', '--name', NAME, '--yes'], { home });
  rmSync(home, { recursive: true, force: true });
});

/** Human mode: exactly one sentence and a hint on stderr, nothing on stdout, no stack, no commander text. */
function expectHumanUsage(r: RunResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^rctl: /);
  expect(lines[0]!.slice('rctl: '.length)).toMatch(message);
  expect(lines[1]).toMatch(/^hint: \S/);
  expect(r.stderr).not.toMatch(/\n\s+at |error: |run with --help/);
}

/** --json: one error document on stdout, nothing on stderr. */
function expectJsonUsage(r: RunResult, message: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toBe('');
  expect(r.json).toEqual({ ok: false, schema: 'rctl.error/1', error: { code: 'USAGE', message: expect.stringMatching(message), hint: expect.any(String), exitCode: 2 } });
  expect(Object.keys(r.json!)).toEqual(['ok', 'schema', 'error']);
}

describe('usage errors: refused while parsing, before any lookup or connection (exit 2)', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['check', '--name', 'h4-none', '--bogus'], /^rctl check has no option --bogus\.$/],
    ['unknown command', ['frobnicate', '--name', 'h4-none'], /^rctl has no command "frobnicate"\.$/],
    ['missing argument', ['apply', '--name', 'h4-none'], /^rctl apply needs the argument <plan\.json>\.$/],
    ['missing required option', ['replica', 'attach', 'abcd', '--name', 'h4-none'], /^--master is required \(--master <id>\)\.$/],
    ['invalid choice', ['drill', 'failover', '--name', 'h4-none', '--mode', 'explode'], /^--mode must be one of stop, kill, pause, got "explode"\.$/],
    ['invalid choice (create)', ['create', '--name', 'h4-none', '--provider', 'vm'], /^--provider must be one of docker, process, got "vm"\.$/],
    ['--pipeline 0', ['reshard', '--seed', NOBODY, '--from', 'all', '--to', 'abcd', '--slots', '1', '--pipeline', '0'], /^--pipeline must be a positive integer, got 0\.$/],
    ['--pipeline -3', ['rebalance', '--name', 'h4-none', '--pipeline', '-3'], /^--pipeline must be a positive integer, got -3\.$/],
    ['--timeout -5', ['reshard', '--seed', NOBODY, '--from', 'all', '--to', 'abcd', '--slots', '1', '--timeout', '-5'], /^--timeout must be a positive number of milliseconds, got -5\.$/],
    ['--timeout abc', ['fix', '--name', 'h4-none', '--timeout', 'abc'], /^--timeout must be a whole number of milliseconds, got "abc"\.$/],
    ['--slots 1.5', ['reshard', '--name', 'h4-none', '--slots', '1.5'], /^--slots must be an integer, got "1\.5"\.$/],
    ['--threshold abc', ['rebalance', '--name', 'h4-none', '--threshold', 'abc'], /^--threshold must be a number, got "abc"\.$/],
    ['--port-base 70000', ['create', '--name', 'h4-none', '--port-base', '70000'], /^--port-base must be a port number from 1 to 65535, got 70000\.$/],
    ['--down-after 0', ['sentinel', 'create', '--name', 'h4-none', '--down-after', '0'], /^--down-after must be a positive number of milliseconds, got 0\.$/],
  ];

  it.each(cases)('%s', async (_what, args, message) => {
    expectHumanUsage(await rctl(args, { home }), message);
  });

  it.each(cases)('%s, with --json', async (_what, args, message) => {
    expectJsonUsage(await rctl([...args, '--json'], { home }), message);
  });

  it('--json before the command still gives a document', async () => {
    expectJsonUsage(await rctl(['--json', 'check'], { home }), /^rctl has no option --json\.$/);
  });

  it('an option without its value (it would take the next word as value, so last)', async () => {
    expectHumanUsage(await rctl(['check', '--name'], { home }), /^--name needs a value \(--name <name>\)\.$/);
    expectJsonUsage(await rctl(['check', '--json', '--name'], { home }), /^--name needs a value \(--name <name>\)\.$/);
  });

  it('the hint names the help of the command and a close match', async () => {
    const r = await rctl(['create', '--replica', '1'], { home });
    expectHumanUsage(r, /^rctl create has no option --replica\.$/);
    expect(r.stderr).toContain('hint: Did you mean --replicas? `rctl create --help` lists its options.');
  });

  it('no command: the help on stderr, then a usage error, exit 2', async () => {
    const r = await rctl([], { home });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: rctl \[options\] \[command\]/);
    expect(r.stderr).toMatch(/rctl: rctl needs a command: create, ls, .*\nhint: /);
  });

  it('help and --version are not errors', async () => {
    expect((await rctl(['--help'], { home })).code).toBe(0);
    const v = await rctl(['--version'], { home });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('errors met while running carry the same document, with their own code', async () => {
    const r = await rctl(['info', '--name', 'h4-none', '--json'], { home });
    expect(r.code).toBe(6);
    expect(r.json).toMatchObject({ ok: false, schema: 'rctl.error/1', error: { code: 'UNKNOWN_CLUSTER', exitCode: 6, message: 'rctl has no cluster named "h4-none".' } });
    const u = await rctl(['check', '--seed', NOBODY, '--json'], { home });
    expect(u.code).toBe(3);
    expect(u.json).toMatchObject({ ok: false, schema: 'rctl.error/1', error: { code: 'UNREACHABLE', exitCode: 3 } });
  });
});

describe('help shows defaults and choices', () => {
  it.each([
    [['create', '--help'], [/--masters <n> +number of masters \(at least 3\) \(default: 3\)/, /--replicas <n> +replicas per master \(default: 1\)/, /\(choices:\s+"docker",\s+"process"\)/, /\(choices: "host", "bridge",\s+default: "host"\)/, /--port-base <port>[\s\S]*?\(default: 6381\)/, /--node-timeout <ms>[\s\S]*?\(default\s+5000;\s+more\s+for\s+clusters\s+of\s+over\s+115\s+nodes/]],
    [['reshard', '--help'], [/--pipeline <n> +keys per MIGRATE \(default: 1000\)/, /--timeout <ms> +MIGRATE timeout in milliseconds \(default: 60000\)/]],
    [['fix', '--help'], [/--pipeline <n> +keys per MIGRATE \(default: 1000\)/, /--timeout <ms>[\s\S]*?\(default: 60000\)/]],
    [['rebalance', '--help'], [/--threshold <percent>[\s\S]*?\(default: 2\)/]],
    [['drill', 'failover', '--help'], [/--mode <mode>[\s\S]*?\(choices:\s+"stop",\s+"kill",\s+"pause",\s+default:\s+"kill"\)/]],
    [['sentinel', 'drill', '--help'], [/--mode <mode>[\s\S]*?\(choices:\s+"stop",\s+"kill",\s+"pause",\s+"partition",\s+default:\s+"kill"\)/]],
    [['sentinel', 'create', '--help'], [/--down-after <ms>[\s\S]*?\(default: 5000\)/, /--quorum <n>[\s\S]*?\(default: 2\)/, /\(choices:\s+"docker",\s+"process"\)/]],
  ])('%j', async (args, patterns) => {
    const r = await rctl(args, { home });
    expect(r.code).toBe(0);
    for (const p of patterns) expect(r.stdout).toMatch(p);
  });
});

type Json = Record<string, unknown>;
const num = (v: unknown): void => expect(typeof v, String(v)).toBe('number');
const str = (v: unknown): void => expect(typeof v, String(v)).toBe('string');
const range = (r: unknown): void => expect(r).toEqual({ start: expect.any(Number), end: expect.any(Number) });

function expectNode(n: Json): void {
  str(n['id']);
  expect(n['address']).toMatch(/^127\.0\.0\.1:85\d\d$/);
  expect(['master', 'replica']).toContain(n['role']);
  num(n['slotCount']);
  num(n['keys']);
  num(n['usedMemory']);
  expect(Array.isArray(n['slots'])).toBe(true);
  (n['slots'] as unknown[]).forEach(range);
  if (n['role'] === 'replica') expect(n['masterAddress']).toMatch(/^127\.0\.0\.1:85\d\d$/);
  else expect(n['masterAddress']).toBeNull();
}

describe('every --json document: ok, schema, typed keys', () => {
  let master = '';

  beforeAll(async () => {
    const r = await rctl(['create', '--name', NAME, '--provider', 'process', '--port-base', String(BASE), '--replicas', '1', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.create/1', name: NAME, provider: 'process' });
    num(r.json!['totalMs']);
    num(r.json!['agreementMs']);
    const nodes = r.json!['nodes'] as Json[];
    expect(nodes).toHaveLength(6);
    nodes.forEach(expectNode);
    master = String(nodes.find((n) => n['role'] === 'master')!['id']);
  });

  it('ls', async () => {
    const r = await rctl(['ls', '--json'], { home });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.ls/1' });
    const c = (r.json!['clusters'] as Json[]).find((x) => x['name'] === NAME)!;
    expect(c).toMatchObject({ kind: 'cluster', provider: 'process', state: 'healthy', problems: 0, nodes: 6, masters: 3, replicas: 3, sentinels: null, ports: { first: BASE, last: BASE + 5 } });
    str(c['createdAt']);
    expect(c).not.toHaveProperty('layout');
  });

  it('info', async () => {
    const r = await rctl(['info', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.info/1', unreachable: [] });
    str(r.json!['fingerprint']);
    const nodes = r.json!['nodes'] as Json[];
    nodes.forEach(expectNode);
    // Replicas list no slots of their own: the masters' counts add up to every slot once.
    expect(nodes.reduce((a, n) => a + (n['slotCount'] as number), 0)).toBe(16384);
    expect(nodes.filter((n) => n['role'] === 'replica').map((n) => n['slotCount'])).toEqual([0, 0, 0]);
  });

  it('check', async () => {
    const r = await rctl(['check', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.check/1', healthy: true, findings: [] });
    const list = r.json!['checklist'] as Json[];
    expect(list.length).toBeGreaterThan(5);
    for (const c of list) expect(c).toEqual({ name: expect.any(String), ok: true });
  });

  it('check with problems: ok false, exit 1, still rctl.check/1', async () => {
    const r = await rctl(['check', '--name', NAME, '--replicas', '2', '--json'], { home });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, schema: 'rctl.check/1', healthy: false });
    const f = (r.json!['findings'] as Json[])[0]!;
    expect(f).toMatchObject({ severity: 'problem', code: 'MISSING_REPLICAS' });
    str(f['message']);
  });

  it('slot, with and without a cluster', async () => {
    const r = await rctl(['slot', 'foo', '{user1}.a', '--name', NAME, '--json'], { home });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.slot/1', keys: [{ key: 'foo', slot: 12182, owner: { address: `127.0.0.1:${BASE + 2}` } }, { key: '{user1}.a', slot: 8106 }] });
    const bare = tempHome();
    try {
      const b = await rctl(['slot', 'foo', '--json'], { home: bare });
      expect(b.json).toEqual({ ok: true, schema: 'rctl.slot/1', keys: [{ key: 'foo', slot: 12182, owner: null }] });
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('reshard --dry-run and apply --dry-run: the plan with numeric ranges', async () => {
    const out = join(home, 'plan.json');
    const r = await rctl(['reshard', '--name', NAME, '--from', 'all', '--to', master, '--slots', '100', '--dry-run', '--out', out, '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.reshard/1', applied: false, dryRun: true, plan: { kind: 'reshard', slots: 100, waves: 1 } });
    const moves = (r.json!['plan'] as Json)['moves'] as Json[];
    expect(moves.reduce((a, m) => a + (m['slots'] as number), 0)).toBe(100);
    for (const m of moves) {
      (m['ranges'] as unknown[]).forEach(range);
      num(m['keys']);
    }
    const a = await rctl(['apply', out, '--dry-run', '--json'], { home });
    expect(a.code, a.stderr).toBe(0);
    expect(a.json).toMatchObject({ ok: true, schema: 'rctl.apply/1', applied: false, dryRun: true, plan: { slots: 100 } });
  });

  it('reshard: what moved, in numbers', async () => {
    const r = await rctl(['reshard', '--name', NAME, '--from', 'all', '--to', master, '--slots', '100', '--yes', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.reshard/1', applied: true, interrupted: false, slotsMoved: 100, keysMoved: 0, keysBefore: 0, keysAfter: 0, healthy: true });
    num(r.json!['ms']);
  });

  it('rebalance --dry-run and fix', async () => {
    const r = await rctl(['rebalance', '--name', NAME, '--dry-run', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, schema: 'rctl.rebalance/1', applied: false, plan: { kind: 'rebalance' } });
    const f = await rctl(['fix', '--name', NAME, '--yes', '--json'], { home });
    expect(f.code, f.stderr).toBe(0);
    expect(f.json).toMatchObject({ ok: true, schema: 'rctl.fix/1', actions: [], healthy: true });
  });

  it('destroy', async () => {
    const r = await rctl(['destroy', '--name', NAME, '--yes', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toEqual({ ok: true, schema: 'rctl.destroy/1', destroyed: true, name: NAME, nodes: 6 });
  });
});
