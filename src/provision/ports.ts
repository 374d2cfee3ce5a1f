import { createServer } from 'node:net';
import { RctlError } from '../errors.js';
import type { NodeSpec } from './provider.js';

/** True if nothing listens on host:port (we can bind it ourselves for a moment). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Every client and bus port the nodes need must be free; one error names all that are taken. */
export async function assertPortsFree(host: string, nodes: readonly NodeSpec[]): Promise<void> {
  const ports = nodes.flatMap((n) => [n.port, n.busPort]);
  const free = await Promise.all(ports.map((p) => isPortFree(host, p)));
  const taken = ports.filter((_, i) => !free[i]);
  if (taken.length > 0) {
    throw new RctlError('PORT_IN_USE', `Port${taken.length > 1 ? 's' : ''} ${taken.join(', ')} on ${host} ${taken.length > 1 ? 'are' : 'is'} already in use.`, {
      hint: 'Choose another --port-base (bus ports are port + 10000), or stop what listens there (`rctl ls` shows rctl clusters).',
      details: { taken },
    });
  }
}
