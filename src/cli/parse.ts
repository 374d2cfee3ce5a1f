import { InvalidArgumentError, Option } from 'commander';
import { usageError } from '../errors.js';

/*
 * Option values are checked by commander while it parses argv (`.argParser()`, `.choices()`), so a
 * bad value is refused before any plan is made or any node is contacted. A parser only knows the
 * value, not the flag: it throws the rest of the sentence ("must be ..., got ...") and the CLI
 * (usage-error.ts) puts the flag in front of it. A parser may add its own hint after "\nhint: ".
 */

const invalid = (message: string, hint?: string): InvalidArgumentError => new InvalidArgumentError(hint ? `${message}\nhint: ${hint}` : message);

/** Integers only: "1e3", "10.5" or "0x10" are refused rather than silently read as something else. */
const INTEGER = /^[-+]?\d+$/;

/** An integer of at least `min` (1: "a positive integer"); `hint` says why the minimum. */
export function intAtLeast(min: number, hint?: string): (value: string) => number {
  return (value) => {
    const s = value.trim();
    if (!INTEGER.test(s) || !Number.isSafeInteger(Number(s))) throw invalid(`must be an integer, got "${value}"`);
    const n = Number(s);
    if (n < min) throw invalid(min === 1 ? `must be a positive integer, got ${n}` : `must be an integer of at least ${min}, got ${n}`, hint);
    return n;
  };
}

export const positiveInt = intAtLeast(1);
export const nonNegativeInt = intAtLeast(0);

/** A TCP port. */
export function port(value: string): number {
  const n = intAtLeast(1)(value);
  if (n > 65535) throw invalid(`must be a port number from 1 to 65535, got ${n}`);
  return n;
}

/** A duration in whole milliseconds, at least 1 (Redis reads 0 or less as "use my default" for MIGRATE). */
export function durationMs(value: string): number {
  const s = value.trim();
  if (!INTEGER.test(s) || !Number.isSafeInteger(Number(s))) throw invalid(`must be a whole number of milliseconds, got "${value}"`, 'Durations are plain milliseconds: 60000 for a minute.');
  const n = Number(s);
  if (n < 1) throw invalid(`must be a positive number of milliseconds, got ${n}`, 'Durations are plain milliseconds: 60000 for a minute.');
  return n;
}

/** A decimal number of at least 0 (percentages). */
export function nonNegativeNumber(value: string): number {
  const s = value.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(s)) throw invalid(`must be a number, got "${value}"`);
  const n = Number(s);
  if (n < 0) throw invalid(`must be a number of at least 0, got ${n}`);
  return n;
}

/** An option restricted to `values`; help lists them (and the default, if any). */
export function choiceOption(flags: string, description: string, values: readonly string[], defaultValue?: string): Option {
  const o = new Option(flags, description).choices(values);
  return defaultValue === undefined ? o : o.default(defaultValue);
}

/** Parse an integer flag; the error names the flag and the bad value. Values commander already parsed pass through. */
export function toInt(value: string | number | undefined, flag: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw usageError(`${flag} is required.`);
    return fallback;
  }
  if (typeof value === 'number') return value;
  const s = String(value).trim();
  if (!/^-?\d+$/.test(s)) throw usageError(`${flag} must be an integer, got "${value}".`);
  return Number(s);
}

export function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback?: T): T | undefined {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw usageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}".`);
  return value as T;
}
