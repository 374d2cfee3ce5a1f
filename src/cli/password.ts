import { readFileSync } from 'node:fs';
import { usageError } from '../errors.js';

export interface PasswordFlags {
  password?: string;
  passwordFile?: string;
}

/**
 * The password a command uses: --password (visible to every local user in `ps`), else the first
 * line of --password-file, else RCTL_PASSWORD (the recommended way: a process's environment is
 * readable only by its owner). Errors name the file, never its content.
 */
export function resolvePassword(flags: PasswordFlags): string | undefined {
  if (flags.password !== undefined && flags.passwordFile !== undefined) {
    throw usageError('--password and --password-file were both given.', 'Pass only one; --password-file (or RCTL_PASSWORD) keeps the password out of `ps`.');
  }
  if (flags.password !== undefined) return flags.password || undefined;
  if (flags.passwordFile !== undefined) return readPasswordFile(flags.passwordFile);
  return process.env['RCTL_PASSWORD'] || undefined;
}

/** First line of the file, without its line break (CRLF too); an empty first line is refused. */
export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw usageError(`--password-file ${path} cannot be read (${code}).`, 'Point it at a file (mode 0600) that holds the password on its first line.');
  }
  const first = text.split('\n', 1)[0]!.replace(/\r$/, '');
  if (first === '') throw usageError(`--password-file ${path} has an empty first line.`, 'Put the password on the first line of the file.');
  return first;
}
