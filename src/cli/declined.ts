import { ExitCode } from '../errors.js';
import type { CommandOutput } from './context.js';

/**
 * The user answered "no" to a confirmation. Nothing was changed, and that is neither a failure nor
 * "problems found" (exit 1, which scripts read as an unhealthy cluster): it has its own exit code.
 */
export function declined(data: Record<string, unknown>, human = 'Nothing changed.'): CommandOutput {
  return { data: { ...data, declined: true }, human, exitCode: ExitCode.declined };
}
