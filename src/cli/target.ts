import { DEFAULT_NAME, DeclinedError, openCluster, type ClusterHandle, type OperationOptions } from '../index.js';
import type { CommandContext, CommandOutput } from './context.js';
import { declined } from './declined.js';
import { resolvePassword } from './password.js';
import { confirmOrRefuse } from './prompt.js';
import { humanEvents, jsonEvents } from './views/events.js';

export { DEFAULT_NAME };

export interface TargetFlags {
  name?: string;
  seed?: string;
  password?: string;
  passwordFile?: string;
}

/**
 * The cluster the flags name, opened through the public API (--seed wins; --name, default "rctl",
 * must be a cluster rctl created). --password, --password-file or RCTL_PASSWORD; otherwise the
 * password rctl's record remembers. The caller closes the handle.
 */
export function openTarget(flags: TargetFlags & { json?: boolean }, o: { connectTimeoutMs?: number } = {}): Promise<ClusterHandle> {
  return openCluster({ name: flags.name, seed: flags.seed, password: resolvePassword(flags), onEvent: flags.json ? jsonEvents() : humanEvents(), ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}) });
}

/** Open, run, close. */
export async function withTarget<T>(flags: TargetFlags & { json?: boolean }, fn: (c: ClusterHandle) => Promise<T>): Promise<T> {
  const c = await openTarget(flags);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** The API's operation options from the command's context: its signal, its event view, its prompts. */
export function opts(ctx: CommandContext, flags: { breakLock?: boolean } = {}): OperationOptions {
  return { signal: ctx.signal, onEvent: ctx.onEvent, breakLock: Boolean(flags.breakLock), confirm: (question, what) => confirmOrRefuse(ctx, question, what) };
}

/** A "no" to a confirmation is not an error: its own output and exit code (declined). */
export async function orDeclined(run: () => Promise<CommandOutput>, data: Record<string, unknown> | (() => Record<string, unknown>), human?: string): Promise<CommandOutput> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DeclinedError) return declined(typeof data === 'function' ? data() : data, human);
    throw err;
  }
}

/** How to name the same target in a suggested command ("--name x" or "--seed h:p"). */
export function targetFlag(flags: TargetFlags): string {
  if (flags.seed) return `--seed ${flags.seed}`;
  return `--name ${flags.name ?? DEFAULT_NAME}`;
}
