import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { commandOf, usageErrorFromCommander } from '../../src/cli/usage-error.js';
import { RctlError } from '../../src/errors.js';
import { DEFAULT_CONCURRENCY } from '../../src/reshard/apply-plan.js';

const COMMANDS: string[][] = [['reshard'], ['rebalance'], ['apply', 'plan.json'], ['scale-out'], ['scale-in']];

/** Parse argv with the real program, never running an action; return the options the action would get, or the usage error. */
async function parse(args: string[]): Promise<{ opts?: Record<string, unknown>; error?: RctlError; help?: string }> {
  const program = buildProgram();
  let opts: Record<string, unknown> | undefined;
  let help = '';
  const wire = (c: Command): void => {
    c.configureOutput({ writeErr: () => undefined, writeOut: (s) => (help += s), outputError: () => undefined });
    c.exitOverride();
    if (c.commands.length === 0) c.action((...a: unknown[]) => void (opts = (a.at(-1) as Command).opts()));
    c.commands.forEach(wire);
  };
  wire(program);
  try {
    await program.parseAsync(['node', 'rctl', ...args]);
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') return { help };
    if (err instanceof CommanderError) return { error: usageErrorFromCommander(err, commandOf(program, args)) };
    throw err;
  }
  return opts ? { opts } : {};
}

describe('--concurrency on every command that moves slots', () => {
  it.each(COMMANDS)('%s: defaults to DEFAULT_CONCURRENCY, takes a positive integer, and its help names it with the default', async (...cmd) => {
    expect(Number.isInteger(DEFAULT_CONCURRENCY) && DEFAULT_CONCURRENCY >= 1).toBe(true);
    expect((await parse(cmd)).opts?.['concurrency']).toBe(DEFAULT_CONCURRENCY);
    expect((await parse([...cmd, '--concurrency', '3'])).opts?.['concurrency']).toBe(3);
    expect((await parse([...cmd, '--concurrency', '1'])).opts?.['concurrency']).toBe(1);
    expect((await parse([...cmd, '--help'])).help).toMatch(new RegExp(`--concurrency <n>\\s+most slot batches moving at once[\\s\\S]*\\(default: ${DEFAULT_CONCURRENCY}\\)`));
  });

  it.each(COMMANDS)('%s: a bad value is a usage error (exit 2) naming the flag and the value, with a hint', async (...cmd) => {
    const zero = (await parse([...cmd, '--concurrency', '0'])).error!;
    expect(zero.code).toBe('USAGE');
    expect(zero.exitCode).toBe(2);
    expect(zero.message).toBe('--concurrency must be a positive integer, got 0.');
    expect(zero.hint).toMatch(/^It is how many slot batches move at once: 1 moves one batch at a time\. `rctl [a-z-]+ --help` lists its options\.$/);
    expect((await parse([...cmd, '--concurrency', 'many'])).error?.message).toBe('--concurrency must be an integer, got "many".');
    expect((await parse([...cmd, '--concurrency', '2.5'])).error?.message).toBe('--concurrency must be an integer, got "2.5".');
    expect((await parse([...cmd, '--concurrency'])).error?.message).toMatch(/^--concurrency needs a value/);
  });
});
