import { usageError } from '../errors.js';

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

export const addrKey = (a: NodeAddress): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

/** Parse "host:port" (or "[v6]:port"); a usage error names the flag that carried it. */
export function parseHostPort(text: string, flag = '--seed'): NodeAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw usageError(`${flag} "${text}" is not host:port.`, `Write it like ${flag} 127.0.0.1:6381.`);
  }
  return { host: m[1] as string, port };
}
