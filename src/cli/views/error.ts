import { RctlError } from '../../errors.js';
import { ERROR_SCHEMA } from '../schema.js';

/** One sentence and a hint; no stack trace (RCTL_DEBUG=1 adds it for bug reports). */
export function renderError(err: RctlError): string {
  let s = `rctl: ${err.message}\n`;
  if (err.hint) s += `hint: ${err.hint}\n`;
  if (process.env['RCTL_DEBUG'] && err.stack) s += `${err.stack}\n`;
  return s;
}

export function errorJson(err: RctlError): Record<string, unknown> {
  return { ok: false, schema: ERROR_SCHEMA, error: { code: err.code, message: err.message, hint: err.hint, exitCode: err.exitCode, ...(err.details ? { details: err.details } : {}) } };
}
