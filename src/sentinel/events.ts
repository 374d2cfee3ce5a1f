import { Redis } from 'ioredis';
import type { NodeAddress } from '../cluster/address.js';

export const DRILL_EVENTS = ['+sdown', '+odown', '+try-failover', '+elected-leader', '+selected-slave', '+promoted-slave', '+switch-master', '+convert-to-slave'] as const;

export interface EventLog {
  /** First time (ms after `t0`) any Sentinel published each event about our master. */
  readonly first: Map<string, number>;
  /** The last +switch-master message ("<name> <old-ip> <old-port> <new-ip> <new-port>"). */
  switchMaster: string | undefined;
  close(): void;
}

/** Subscribe to every Sentinel's event channels (PSUBSCRIBE *) and note when each event first appears. */
export async function watchSentinelEvents(sentinels: readonly NodeAddress[], masterName: string, t0: () => number): Promise<EventLog> {
  const first = new Map<string, number>();
  const subs = sentinels.map((s) => new Redis({ host: s.host, port: s.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }));
  const log: EventLog = {
    first,
    switchMaster: undefined,
    close: () => subs.forEach((r) => r.disconnect()),
  };
  await Promise.all(
    subs.map(async (r) => {
      r.on('error', () => undefined);
      r.on('pmessage', (_p: string, channel: string, message: string) => {
        // Events about other monitored masters are not ours.
        if (!message.includes(` ${masterName} `) && !message.startsWith(`${masterName} `)) return;
        if (!first.has(channel)) first.set(channel, Math.round(performance.now() - t0()));
        if (channel === '+switch-master') log.switchMaster = message;
      });
      await r.connect();
      await r.psubscribe('*');
    }),
  );
  return log;
}
