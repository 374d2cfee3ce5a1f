import { addrKey } from '../redis/address.js';
import type { Snapshot } from '../cluster/snapshot.js';
import { countSlots } from '../cluster/slots.js';
import { usageError } from '../errors.js';
import type { CommandContext } from './context.js';
import { canPrompt } from './prompt.js';

/**
 * Missing input: ask on a terminal (the questions redis-cli's reshard asks), otherwise refuse and
 * name the flag. Never asks with --yes, --json or in CI.
 */
export async function askSlots(ctx: CommandContext, flag: string): Promise<number> {
  if (!canPrompt(ctx)) throw usageError(`${flag} is required.`, `Pass ${flag} N (no prompt is shown without a terminal or with --yes).`);
  const { number } = await import('@inquirer/prompts');
  const n = await number({ message: 'How many slots do you want to move (from 1 to 16384)?', min: 1, max: 16384, required: true });
  return n ?? 0;
}

export async function askMaster(ctx: CommandContext, s: Snapshot, flag: string, message: string): Promise<string> {
  if (!canPrompt(ctx)) throw usageError(`${flag} is required.`, `Pass ${flag} <node id, prefix or host:port>.`);
  const { select } = await import('@inquirer/prompts');
  return select({
    message,
    choices: s.nodes.filter((n) => n.role === 'master').map((n) => ({ name: `${addrKey(n.addr)}  ${n.id.slice(0, 12)}  ${countSlots(n.self.slots)} slots`, value: n.id })),
  });
}

export async function askSources(ctx: CommandContext, s: Snapshot, exclude: string): Promise<'all' | string[]> {
  if (!canPrompt(ctx)) throw usageError('--from is required.', 'Pass --from all or --from <id>[,<id>...].');
  const { checkbox } = await import('@inquirer/prompts');
  const picked = await checkbox({
    message: 'Source masters (none selected = all):',
    choices: s.nodes.filter((n) => n.role === 'master' && n.id !== exclude && n.self.slots.length > 0).map((n) => ({ name: `${addrKey(n.addr)}  ${n.id.slice(0, 12)}  ${countSlots(n.self.slots)} slots`, value: n.id })),
  });
  return picked.length === 0 ? 'all' : picked;
}
