import { PassThrough } from 'node:stream';
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ExitCode, RctlError } from '../../src/errors.js';
import { declined } from '../../src/cli/declined.js';
import { buildProgram } from '../../src/cli/main.js';
import { durationMs, intAtLeast, nonNegativeInt, nonNegativeNumber, port, positiveInt } from '../../src/cli/parse.js';
import { ERROR_SCHEMA, schemaFor } from '../../src/cli/schema.js';
import { commandOf, usageErrorFromCommander, wantsJson } from '../../src/cli/usage-error.js';
import { errorJson } from '../../src/cli/views/error.js';
import { endProgressLine, humanEvents } from '../../src/cli/views/events.js';

/** Parse argv with the real program; return the usage error main() would print. */
async function usageOf(args: string[]): Promise<RctlError> {
  const program = buildProgram();
  // Help text (implicit help) must not clutter the test output.
  const quiet = (c: Command): void => {
    c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined, outputError: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(program);
  // Never reach an action: they would connect to Redis.
  const noAction = (c: Command): void => {
    if (c.commands.length === 0) c.action(() => Promise.reject(new Error(`action of ${c.name()} ran`)));
    c.commands.forEach(noAction);
  };
  noAction(program);
  try {
    await program.parseAsync(['node', 'rctl', ...args]);
  } catch (err) {
    if (err instanceof CommanderError) return usageErrorFromCommander(err, commandOf(program, args));
    throw err;
  }
  throw new Error('parsed without error');
}

describe('exit codes', () => {
  it('are distinct and documented values', () => {
    expect(ExitCode).toMatchObject({ ok: 0, problems: 1, usage: 2, unreachable: 3, auth: 4, environment: 5, refused: 6, timeout: 7, redis: 8, declined: 10, locked: 11, keysLost: 12, internal: 70, interrupted: 130 });
    expect(new Set(Object.values(ExitCode)).size).toBe(Object.values(ExitCode).length);
  });
  it('map error codes: LOCKED 11 with a --break-lock hint, KEYS_LOST 12, DECLINED 10', () => {
    const locked = new RctlError('LOCKED', 'x');
    expect(locked.exitCode).toBe(11);
    expect(locked.hint).toContain('--break-lock');
    expect(new RctlError('KEYS_LOST', 'x').exitCode).toBe(12);
    expect(new RctlError('DECLINED', 'x').exitCode).toBe(10);
  });
  it('a declined prompt is exit 10, not 1 ("problems found"), and says nothing changed', () => {
    const out = declined({ applied: false });
    expect(out.exitCode).toBe(ExitCode.declined);
    expect(out.exitCode).not.toBe(ExitCode.problems);
    expect(out.data).toEqual({ applied: false, declined: true });
    expect(out.human).toBe('Nothing changed.');
    expect(declined({ destroyed: false }, 'Nothing removed.').human).toBe('Nothing removed.');
  });
});

describe('option parsers', () => {
  it.each([
    [positiveInt, '1000', 1000],
    [positiveInt, ' 7 ', 7],
    [nonNegativeInt, '0', 0],
    [intAtLeast(3), '3', 3],
    [durationMs, '60000', 60000],
    [port, '65535', 65535],
    [nonNegativeNumber, '2.5', 2.5],
    [nonNegativeNumber, '0', 0],
  ] as const)('%o accepts %j', (parse, value, expected) => {
    expect(parse(value)).toBe(expected);
  });
  it.each([
    [positiveInt, '0', 'must be a positive integer, got 0'],
    [positiveInt, '-5', 'must be a positive integer, got -5'],
    [positiveInt, '1e3', 'must be an integer, got "1e3"'],
    [positiveInt, '10.5', 'must be an integer, got "10.5"'],
    [positiveInt, '', 'must be an integer, got ""'],
    [nonNegativeInt, '-1', 'must be an integer of at least 0, got -1'],
    [intAtLeast(3), '2', 'must be an integer of at least 3, got 2'],
    [durationMs, 'abc', 'must be a whole number of milliseconds, got "abc"'],
    [durationMs, '5s', 'must be a whole number of milliseconds, got "5s"'],
    [durationMs, '-5', 'must be a positive number of milliseconds, got -5'],
    [durationMs, '0', 'must be a positive number of milliseconds, got 0'],
    [port, '70000', 'must be a port number from 1 to 65535, got 70000'],
    [nonNegativeNumber, 'abc', 'must be a number, got "abc"'],
    [nonNegativeNumber, '-1', 'must be a number of at least 0, got -1'],
  ] as const)('%o refuses %j', (parse, value, message) => {
    expect(() => parse(value)).toThrow(message);
  });
});

describe("commander's parser errors become one-sentence usage errors (exit 2)", () => {
  it.each([
    [['reshard', '--pipeline', '0'], '--pipeline must be a positive integer, got 0.'],
    [['reshard', '--timeout', '-5'], '--timeout must be a positive number of milliseconds, got -5.'],
    [['fix', '--timeout', 'abc'], '--timeout must be a whole number of milliseconds, got "abc".'],
    [['create', '--provider', 'vm'], '--provider must be one of docker, process, got "vm".'],
    [['drill', 'failover', '--mode', 'explode'], '--mode must be one of stop, kill, pause, got "explode".'],
    [['create', '--bogus'], 'rctl create has no option --bogus.'],
    [['frobnicate'], 'rctl has no command "frobnicate".'],
    [['apply'], 'rctl apply needs the argument <plan.json>.'],
    [['replica', 'attach', 'abc'], '--master is required (--master <id>).'],
    [['create', '--port-base'], '--port-base needs a value (--port-base <port>).'],
    [['check', 'extra'], 'rctl check takes no arguments, got 1.'],
  ])('%j -> %s', async (args, message) => {
    const e = await usageOf(args);
    expect(e.code).toBe('USAGE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(message);
    expect(e.hint).toMatch(/`rctl [a-z -]*--help` lists its (options|commands)\.$/);
  });
  it('keeps the suggestion in the hint', async () => {
    const e = await usageOf(['create', '--replica', '1']);
    expect(e.message).toBe('rctl create has no option --replica.');
    expect(e.hint).toBe('Did you mean --replicas? `rctl create --help` lists its options.');
  });
  it("a parser's own hint comes first", async () => {
    const e = await usageOf(['create', '--masters', '2']);
    expect(e.message).toBe('--masters must be an integer of at least 3, got 2.');
    expect(e.hint).toBe('Redis Cluster needs 3 masters to agree on failures. `rctl create --help` lists its options.');
    expect((await usageOf(['apply', 'p.json', '--timeout', '60s'])).hint).toBe('Durations are plain milliseconds: 60000 for a minute. `rctl apply --help` lists its options.');
  });
  it('names the subcommand in the hint', async () => {
    expect((await usageOf(['sentinel', 'create', '--quorum', '0'])).hint).toBe('`rctl sentinel create --help` lists its options.');
  });
});

describe('--json detection and documents', () => {
  it('--json anywhere before `--`', () => {
    expect(wantsJson(['create', '--json', '--bogus'])).toBe(true);
    expect(wantsJson(['--json'])).toBe(true);
    expect(wantsJson(['slot', '--', '--json'])).toBe(false);
    expect(wantsJson(['check'])).toBe(false);
  });
  it('schemas are rctl.<command words joined by dots>/1; errors rctl.error/1', () => {
    expect(schemaFor('check')).toBe('rctl.check/1');
    expect(schemaFor('sentinel status')).toBe('rctl.sentinel.status/1');
    expect(schemaFor('scale-out')).toBe('rctl.scale-out/1');
    expect(errorJson(new RctlError('USAGE', 'Bad.'))).toEqual({ ok: false, schema: ERROR_SCHEMA, error: { code: 'USAGE', message: 'Bad.', hint: expect.any(String), exitCode: 2 } });
  });
});

describe('progress lines end before anything else is printed', () => {
  const ttyStream = (): { stream: PassThrough; text: () => string } => {
    const stream = Object.assign(new PassThrough(), { isTTY: true });
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    return { stream, text: () => text };
  };
  it('a redrawn progress line gets its newline, once', () => {
    const { stream, text } = ttyStream();
    const sink = humanEvents(stream);
    sink({ type: 'progress', step: 'moving slots', done: 1, total: 4, unit: 'slots' });
    sink({ type: 'progress', step: 'moving slots', done: 2, total: 4, unit: 'slots' });
    expect(text().endsWith('\n')).toBe(false);
    endProgressLine(stream);
    expect(text()).toBe('\r\x1b[K  … moving slots: 1/4 slots (25%)\r\x1b[K  … moving slots: 2/4 slots (50%)\n');
    endProgressLine(stream);
    expect(text().endsWith('(50%)\n')).toBe(true);
  });
  it('a step line clears the progress instead; nothing is left pending', () => {
    const { stream, text } = ttyStream();
    const sink = humanEvents(stream);
    sink({ type: 'progress', step: 'moving slots', done: 1, total: 4, unit: 'slots' });
    sink({ type: 'step-done', step: 'move', ms: 12 });
    endProgressLine(stream);
    expect(text()).toBe('\r\x1b[K  … moving slots: 1/4 slots (25%)\r\x1b[K  ✓ move (12 ms)\n');
  });
  it('without a terminal every progress line already ends with a newline', () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    humanEvents(stream)({ type: 'progress', step: 'moving slots', done: 4, total: 4, unit: 'slots' });
    endProgressLine(stream);
    expect(text).toBe('  … moving slots: 4/4 slots (100%)\n');
  });
});
