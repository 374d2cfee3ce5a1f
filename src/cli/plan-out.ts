import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RctlError, usageError } from '../errors.js';
import type { CommandContext } from './context.js';
import { canPrompt } from './prompt.js';

/**
 * Check --out before any planning work: a missing or read-only folder would otherwise only fail
 * after the cluster was read and the plan made, and an existing file may be a plan someone means to
 * apply, so it is replaced only when confirmed (a prompt on a terminal, --yes otherwise).
 */
export async function checkPlanOut(ctx: CommandContext, file: string | undefined): Promise<void> {
  if (file === undefined) return;
  const path = resolve(file);
  const folder = dirname(path);
  const dir = await stat(folder).catch(() => undefined);
  if (!dir?.isDirectory()) throw usageError(`--out ${file}: the folder ${folder} does not exist.`, 'Create the folder first, or pass a path in an existing one.');
  if (!(await access(folder, constants.W_OK).then(() => true, () => false))) throw usageError(`--out ${file}: the folder ${folder} is not writable.`, 'Pass a path in a folder you can write to.');
  const existing = await stat(path).catch(() => undefined);
  if (!existing) return;
  if (existing.isDirectory()) throw usageError(`--out ${file} is a folder, not a file.`, 'Pass a file name, e.g. --out plan.json.');
  if (ctx.yes) return;
  if (!canPrompt(ctx)) throw usageError(`--out ${file} already exists.`, 'Pass --yes to overwrite it (no prompt is shown without a terminal), or choose another file.');
  // Loaded on demand, like every prompt.
  const { confirm } = await import('@inquirer/prompts');
  if (!(await confirm({ message: `${file} exists. Overwrite it?`, default: false }))) throw new RctlError('DECLINED', `--out ${file} already exists; it was left as it is and nothing was planned.`, { hint: 'Choose another file, or confirm the overwrite.' });
}
