import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, step, type EventSink } from '../events.js';
import { reportingProbe } from '../failover/progress.js';
import { waitUntil } from '../util/wait.js';
import { switchedFrom, watchSentinelEvents } from './events.js';
import { readReplication } from './sentinel-conn.js';
import { sentinelStatus } from './status.js';

/** Bounded wait: every Sentinel names `master`, it reports role:master, and the given nodes follow it with links up. */
export async function waitAgreed(
  conns: AdminConnections,
  sentinels: readonly NodeAddress[],
  masterName: string,
  master: NodeAddress,
  followers: readonly NodeAddress[],
  o: { timeoutMs: number; signal?: AbortSignal | undefined; onEvent?: EventSink },
): Promise<void> {
  const what = `every Sentinel to name ${addrKey(master)} and every replica to follow it`;
  await waitUntil(
    what,
    reportingProbe(o.onEvent ?? noEvents, `waiting for ${what}`, async () => {
      const st = await sentinelStatus(conns, sentinels, masterName);
      if (!st.master || addrKey(st.master) !== addrKey(master)) return { done: false, reason: st.problems[0] ?? `Sentinels name ${st.master ? addrKey(st.master) : 'different masters'}` };
      for (const f of followers) {
        const r = await readReplication(conns, f);
        if (r.role !== 'replica' || `${r.masterHost}:${r.masterPort}` !== addrKey(master)) return { done: false, reason: `${addrKey(f)} does not follow it yet` };
        if (r.link !== 'up') return { done: false, reason: `${addrKey(f)} master_link_status:${r.link}` };
      }
      return { done: true, value: undefined };
    }, o.timeoutMs),
    { timeoutMs: o.timeoutMs, intervalMs: 50, signal: o.signal },
  );
}

/**
 * A coordinated Sentinel failover. SENTINEL FAILOVER alone promotes a replica but leaves the old
 * master writable until Sentinel reconfigures it at its next INFO (~10 s): clients that keep
 * writing there get acknowledgements for writes that vanish when it resyncs as a replica (measured:
 * hundreds of thousands). So rctl pauses writes on the master (CLIENT PAUSE WRITE, auto-expiring),
 * waits until every replica has its offset, lets Sentinel fail over, demotes the old master itself
 * at once (REPLICAOF the new one) and only then unpauses: paused writes then fail with READONLY
 * (the client knows) instead of being acknowledged and lost.
 */
export async function sentinelFailover(
  conns: AdminConnections,
  sentinels: readonly NodeAddress[],
  masterName: string,
  dataNodes: readonly NodeAddress[],
  o: { onEvent?: EventSink; signal?: AbortSignal | undefined; timeoutMs?: number },
): Promise<{ oldMaster: NodeAddress; newMaster: NodeAddress; switchMs: number; agreedMs: number }> {
  const onEvent = o.onEvent ?? noEvents;
  const before = await sentinelStatus(conns, sentinels, masterName);
  if (!before.master) throw new RctlError('REFUSED', `The Sentinels disagree about the master of "${masterName}".`, { hint: 'Run `rctl sentinel status` and wait for them to agree.' });
  const oldMaster = before.master;
  let t0 = performance.now();
  const events = await watchSentinelEvents(sentinels, masterName, () => t0);
  const pauseMs = 15_000;
  let paused = false;
  try {
    t0 = performance.now();
    await step(onEvent, `pause writes on ${addrKey(oldMaster)} and wait until every replica has caught up`, async () => {
      await conns.run(oldMaster, (r) => r.call('CLIENT', 'PAUSE', String(pauseMs), 'WRITE'));
      paused = true;
      await waitUntil(
        'every replica to reach the master offset',
        async () => {
          const info = String(await conns.run(oldMaster, (r) => r.info('replication')));
          const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0);
          const behind = [...info.matchAll(/slave\d+:ip=([^,]+),port=(\d+),state=(\w+),offset=(\d+)/g)].filter((m) => m[3] === 'online' && Number(m[4]) < offset);
          return behind.length === 0 ? { done: true, value: undefined } : { done: false, reason: `${behind.length} replica(s) behind offset ${offset}` };
        },
        { timeoutMs: 5000, intervalMs: 5, signal: o.signal },
      );
    });
    await step(onEvent, `SENTINEL FAILOVER ${masterName}`, async () => {
      try {
        await conns.run(sentinels[0]!, (r) => r.call('SENTINEL', 'FAILOVER', masterName));
      } catch (err) {
        throw new RctlError('REFUSED', `Sentinel ${addrKey(sentinels[0]!)} refused the failover: ${messageOf(err)}`, { hint: 'A failover needs a replica that is up and synced (`rctl sentinel status`).' });
      }
    });
    const timeoutMs = o.timeoutMs ?? 60_000;
    await step(onEvent, 'wait for +switch-master', () =>
      waitUntil(`a Sentinel to announce +switch-master away from ${addrKey(oldMaster)}`, async () => (switchedFrom(events, oldMaster) ? { done: true, value: undefined } : { done: false, reason: `events so far: ${[...events.first.keys()].join(' ') || 'none'}` }), {
        timeoutMs,
        intervalMs: 10,
        signal: o.signal,
      }),
    );
    const switchMs = events.first.get('+switch-master')!;
    const newMaster = switchedFrom(events, oldMaster)!;
    await step(onEvent, `demote ${addrKey(oldMaster)} to a replica of ${addrKey(newMaster)} now, then unpause it`, async () => {
      await conns.run(oldMaster, (r) => r.call('REPLICAOF', newMaster.host, String(newMaster.port)));
      await conns.run(oldMaster, (r) => r.call('CLIENT', 'UNPAUSE'));
      paused = false;
    });
    await step(onEvent, 'wait until every Sentinel and replica agree', () =>
      waitAgreed(conns, sentinels, masterName, newMaster, dataNodes.filter((n) => addrKey(n) !== addrKey(newMaster)), { timeoutMs, signal: o.signal, onEvent }),
    );
    return { oldMaster, newMaster, switchMs, agreedMs: Math.round(performance.now() - t0) };
  } finally {
    if (paused) await conns.run(oldMaster, (r) => r.call('CLIENT', 'UNPAUSE')).catch(() => undefined);
    events.close();
  }
}
