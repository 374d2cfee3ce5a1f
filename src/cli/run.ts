import { ExitCode, RctlError, messageOf } from '../errors.js';
import type { CommandContext, CommandOutput } from './context.js';
import { currentSchema } from './schema.js';
import { errorJson, renderError } from './views/error.js';
import { endProgressLine, humanEvents, jsonEvents } from './views/events.js';

export interface GlobalFlags {
  json?: boolean;
  yes?: boolean;
}

/**
 * The one place that prints results and errors and exits. The first Ctrl-C aborts the signal
 * (operations stop at a safe point); the second exits at once with repair instructions.
 */
export async function runCommand(flags: GlobalFlags, handler: (ctx: CommandContext) => Promise<CommandOutput>): Promise<never> {
  const controller = new AbortController();
  let repairHint: string | undefined;
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nrctl: stopping at the next safe point (Ctrl-C again to exit now)...\n');
      controller.abort();
      return;
    }
    endProgressLine();
    const hint = repairHint ?? 'Run `rctl check` to see the cluster state.';
    // --json: a document even now (stdout writes to pipes and files are synchronous on Linux).
    if (flags.json) process.stdout.write(JSON.stringify(errorJson(new RctlError('INTERRUPTED', 'Interrupted twice: rctl exited at once.', { hint })), null, 2) + '\n');
    process.stderr.write(`rctl: exiting now. ${hint}\n`);
    process.exit(ExitCode.interrupted);
  };
  process.on('SIGINT', onSigint);
  const json = Boolean(flags.json);
  const ctx: CommandContext = {
    json,
    yes: Boolean(flags.yes),
    signal: controller.signal,
    onEvent: json ? jsonEvents() : humanEvents(),
    setRepairHint: (h) => {
      repairHint = h;
    },
  };
  let code: number;
  try {
    const out = await handler(ctx);
    code = out.exitCode ?? ExitCode.ok;
    // A progress line still being redrawn on stderr would otherwise run into the result.
    endProgressLine();
    // The schema names the document's shape (docs/json.md); it is stamped here, once, for every command.
    if (json) process.stdout.write(JSON.stringify({ ok: code === 0, schema: currentSchema(), ...out.data }, null, 2) + '\n');
    else if (out.human) process.stdout.write(out.human.endsWith('\n') ? out.human : `${out.human}\n`);
  } catch (err) {
    endProgressLine();
    const e = err instanceof RctlError ? err : isPromptAbort(err) ? new RctlError('INTERRUPTED', 'Cancelled.') : undefined;
    if (e) {
      if (json) process.stdout.write(JSON.stringify(errorJson(e), null, 2) + '\n');
      else process.stderr.write(renderError(e));
      code = e.exitCode;
    } else {
      // --json consumers get a document for bugs too; the stack stays on stderr (RCTL_DEBUG=1).
      if (json) process.stdout.write(JSON.stringify(errorJson(new RctlError('INTERNAL', `Internal error: ${messageOf(err)}`)), null, 2) + '\n');
      process.stderr.write(`rctl: internal error: ${messageOf(err)}\nhint: this is a bug in rctl; rerun with RCTL_DEBUG=1 and report the stack trace.\n`);
      if (process.env['RCTL_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      code = ExitCode.internal;
    }
  }
  process.off('SIGINT', onSigint);
  // Flush stdout before exiting: large JSON on a pipe is written asynchronously.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

/** Print a usage error found before any command ran (commander's parser) and exit with its code. */
export async function exitWithError(e: RctlError, json: boolean): Promise<never> {
  endProgressLine();
  if (json) process.stdout.write(JSON.stringify(errorJson(e), null, 2) + '\n');
  else process.stderr.write(renderError(e));
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(e.exitCode);
}

const isPromptAbort = (err: unknown): boolean => err instanceof Error && err.name === 'ExitPromptError';
