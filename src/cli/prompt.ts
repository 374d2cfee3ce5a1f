import { usageError } from '../errors.js';
import type { CommandContext } from './context.js';

/** Prompts appear only on an interactive terminal, never with --yes, --json or in CI. */
export function canPrompt(ctx: CommandContext): boolean {
  return !ctx.yes && !ctx.json && Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env['CI'];
}

/**
 * Confirm a destructive step. --yes confirms; on a TTY rctl asks; otherwise it refuses and names
 * the flag, so scripts never hang on a question nobody sees.
 */
export async function confirmOrRefuse(ctx: CommandContext, question: string, what: string): Promise<boolean> {
  if (ctx.yes) return true;
  if (!canPrompt(ctx)) throw usageError(`${what} needs confirmation.`, 'Pass --yes to confirm (no prompt is shown without a terminal).');
  // Loaded on demand: prompts are rare and inquirer is not free to load.
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: question, default: false });
}
