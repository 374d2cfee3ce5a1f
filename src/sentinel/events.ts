import { Redis } from 'ioredis';
import type { NodeAddress } from '../redis/address.js';

export const DRILL_EVENTS = ['+sdown', '+odown', '+try-failover', '+elected-leader', '+selected-slave', '+promoted-slave', '+switch-master', '+convert-to-slave'] as const;

export interface EventLog {
  /** First time (ms after `t0`) any Sentinel published each event about our master. */
  readonly first: Map<string, number>;
  /** Every +switch-master message seen ("<name> <old-ip> <old-port> <new-ip> <new-port>"). */
  readonly switches: string[];
  close(): void;
}

/**
 * The new master of the switch away from `from`, if one was announced. Only a switch away from the
 * master we acted on counts: a slow Sentinel can still be announcing an earlier failover.
 */
export function switchedFrom(log: EventLog, from: NodeAddress): NodeAddress | undefined {
  for (const m of log.switches) {
    const [, oldIp, oldPort, newIp, newPort] = m.split(' ');
    if (oldIp === from.host && Number(oldPort) === from.port) return { host: newIp!, port: Number(newPort) };
  }
  return undefined;
}

/** Subscribe to every Sentinel's event channels (PSUBSCRIBE *) and note when each event first appears. */
export async function watchSentinelEvents(sentinels: readonly NodeAddress[], masterName: string, t0: () => number): Promise<EventLog> {
  const first = new Map<string, number>();
  const subs = sentinels.map((s) => new Redis({ host: s.host, port: s.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }));
  const log: EventLog = {
    first,
    switches: [],
    close: () => subs.forEach((r) => r.disconnect()),
  };
  await Promise.all(
    subs.map(async (r) => {
      r.on('error', () => undefined);
      r.on('pmessage', (_p: string, channel: string, message: string) => {
        // Events about other monitored masters are not ours.
        if (!message.includes(` ${masterName} `) && !message.startsWith(`${masterName} `)) return;
        if (!first.has(channel)) first.set(channel, Math.round(performance.now() - t0()));
        if (channel === '+switch-master') log.switches.push(message);
      });
      await r.connect();
      await r.psubscribe('*');
    }),
  );
  return log;
}
