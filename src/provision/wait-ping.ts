import { RctlError } from '../errors.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { waitUntil } from '../util/wait.js';
import { portInUse } from './ports.js';
import type { ProvisionedNode, Provider } from './provider.js';

/** Bounded wait for PING; a node that died meanwhile fails fast with the provider's diagnosis. */
export async function waitForPing(conns: AdminConnections, provider: Provider, nodes: readonly ProvisionedNode[], signal?: AbortSignal, cluster?: string): Promise<void> {
  await Promise.all(
    nodes.map((n) => {
      const addr: NodeAddress = { host: n.host, port: n.port };
      let probes = 0;
      return waitUntil(
        `${addrKey(addr)} to answer PING`,
        async () => {
          try {
            await conns.run(addr, (r) => r.ping());
            // Two creates racing for the same ports both pass the port check; the loser's redis-server
            // exits (bind: Address already in use) while the winner's answers on that port. So the
            // node that answers must be the process just started.
            if (n.pid !== undefined) {
              const pid = /process_id:(\d+)/.exec(String(await conns.run(addr, (r) => r.info('server'))))?.[1];
              if (pid !== undefined && Number(pid) !== n.pid) throw await portInUse(n.host, [n.port], cluster);
            }
            return { done: true, value: undefined };
          } catch (err) {
            if (err instanceof RctlError && (err.code === 'AUTH' || err.code === 'PORT_IN_USE')) throw err;
            // Asking the provider costs a Docker API call: only every few probes.
            if (++probes % 8 === 0) {
              const why = await provider.diagnose(n);
              const bind = why && /:(\d+): bind: Address already in use/i.exec(why);
              if (bind) throw await portInUse(n.host, [Number(bind[1])], cluster);
              if (why) throw new RctlError('PROVISION_FAILED', `Node ${addrKey(addr)} did not start: ${why}`, { hint: 'Nothing was left behind. Fix the cause above and run create again.' });
            }
            return { done: false, reason: err instanceof Error ? err.message : String(err) };
          }
        },
        // Probes of 200 nodes every 20 ms would keep the machine busy while the nodes start.
        { timeoutMs: 30_000 + 100 * nodes.length, intervalMs: Math.max(20, nodes.length), signal, hint: 'The node never answered; see its log (`docker logs`, or redis.log in its directory).' },
      );
    }),
  );
}
