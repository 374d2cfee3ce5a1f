import { createServer } from 'node:net';
import { RctlError } from '../errors.js';
import type { NodeSpec } from './provider.js';

/** 'free' if we can bind host:port for a moment; otherwise the bind error's code. */
export function probePort(host: string, port: number): Promise<'free' | string> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EUNKNOWN'));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve('free')));
  });
}

/** Every client and bus port the nodes need must be free; one error names all that are taken. */
export async function assertPortsFree(host: string, nodes: readonly NodeSpec[]): Promise<void> {
  const ports = [...new Set(nodes.flatMap((n) => [n.port, n.busPort]))];
  const results = await Promise.all(ports.map((p) => probePort(host, p)));
  if (results.some((r) => r === 'EADDRNOTAVAIL' || r === 'ENOTFOUND' || r === 'EAI_AGAIN')) {
    throw new RctlError('USAGE', `Address ${host} does not belong to this machine, so nodes cannot listen on it.`, {
      hint: 'Pass --host with a local address (default 127.0.0.1).',
    });
  }
  const taken = ports.filter((_, i) => results[i] !== 'free');
  if (taken.length > 0) {
    throw new RctlError('PORT_IN_USE', `Port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} on ${host} ${taken.length > 1 ? 'are' : 'is'} already in use.`, {
      hint: 'Choose another --port-base (bus ports are port + 10000), or stop what listens there (`rctl ls` shows rctl clusters).',
      details: { taken },
    });
  }
}
