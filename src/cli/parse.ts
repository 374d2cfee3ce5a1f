import { usageError } from '../errors.js';

/** Parse an integer flag; the error names the flag and the bad value. */
export function toInt(value: string | number | undefined, flag: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw usageError(`${flag} is required.`);
    return fallback;
  }
  const s = String(value).trim();
  if (!/^-?\d+$/.test(s)) throw usageError(`${flag} must be an integer, got "${value}".`);
  return Number(s);
}

export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw usageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}".`);
  return value as T;
}
