import { addrKey, type NodeAddress } from '../cluster/address.js';
import { checkCluster, type CheckResult } from '../cluster/check.js';
import { parseClusterNodes, isMyself } from '../cluster/cluster-nodes.js';
import type { AdminConnections } from '../cluster/connection.js';
import { mastersOf, nodeById, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { slotsOf } from '../cluster/slots.js';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { planSlots, toWaves, type Plan, type SlotBatch } from './plan.js';
import { assignSlots, countKeys, migrateSlots, pipelined, returnKeys, setSlotsState, stabilize, type MigrateOptions, type SlotNode } from '../cluster/slot-ops.js';

export interface ApplyOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: EventSink;
  /** Keys per GETKEYSINSLOT/MIGRATE (redis-cli: 10). */
  readonly pipeline?: number;
  /** MIGRATE timeout in ms (redis-cli: 60000). */
  readonly timeoutMs?: number;
  readonly replace?: boolean;
}

export interface ApplyResult {
  readonly slotsMoved: number;
  readonly keysMoved: number;
  readonly ms: number;
  /** Keys on all masters before and after (equal when nothing else wrote meanwhile). */
  readonly keysBefore: number;
  readonly keysAfter: number;
  readonly interrupted: boolean;
  /** What is left when interrupted, planned against the cluster as it is now. */
  readonly remaining: Plan | undefined;
  readonly check: CheckResult;
  readonly snapshot: Snapshot;
  readonly warnings: readonly string[];
}

export class StalePlanError extends RctlError {}

/** Refuse a plan made on another state of the cluster. */
export function assertFresh(plan: Plan, s: Snapshot): void {
  if (plan.fingerprint !== s.fingerprint) {
    throw new StalePlanError('REFUSED', `The cluster changed since this plan was made (planned on ${plan.fingerprint}, now ${s.fingerprint}).`, {
      hint: 'Make a new plan (rctl reshard / rebalance --out) and apply that one.',
    });
  }
}

/**
 * Execute a plan wave by wave. Within a wave every (from, to) batch runs concurrently; after each
 * wave every master must name the new owner of every moved slot and no slot may be left open.
 * Ctrl-C (the signal) is honoured between waves only, so a stop never leaves a slot open.
 */
export async function applyPlan(plan: Plan, snapshot: Snapshot, o: ApplyOptions): Promise<ApplyResult> {
  assertFresh(plan, snapshot);
  const onEvent = o.onEvent ?? noEvents;
  const mo: MigrateOptions = { conns: o.conns, password: o.password, pipeline: o.pipeline ?? 1000, timeoutMs: o.timeoutMs ?? 60_000, replace: o.replace ?? false };
  const masters = mastersOf(snapshot);
  const keysBefore = masters.reduce((n, m) => n + m.keys, 0);
  const total = planSlots(plan);
  const warnings: string[] = [];
  const t0 = performance.now();
  let slotsMoved = 0;
  let keysMoved = 0;
  let waveIndex = 0;
  let interrupted = false;

  for (const wave of plan.waves) {
    if (o.signal?.aborted) {
      interrupted = true;
      break;
    }
    const outcomes = await Promise.allSettled(
      wave.map((b) => moveBatch(snapshot, b, mo, warnings, onEvent)),
    );
    for (const out of outcomes) {
      if (out.status === 'fulfilled') {
        slotsMoved += out.value.slots;
        keysMoved += out.value.keys;
      }
    }
    const failed = outcomes.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    await verifyWave(o.conns, masters, wave);
    waveIndex++;
    const secs = (performance.now() - t0) / 1000;
    const slotsRate = slotsMoved / Math.max(secs, 1e-3);
    onEvent({
      type: 'progress',
      step: plan.kind,
      done: slotsMoved,
      total,
      unit: 'slots',
      keys: keysMoved,
      keysPerSec: keysMoved / Math.max(secs, 1e-3),
      etaSec: (total - slotsMoved) / Math.max(slotsRate, 1e-3),
    });
  }

  const after = await takeSnapshot(o.conns, snapshot.seed);
  const remainingWaves = plan.waves.slice(waveIndex);
  const remaining: Plan | undefined = interrupted
    ? {
        ...plan,
        fingerprint: after.fingerprint,
        waves: toWaves(
          remainingWaves.flatMap((w) => w.flatMap((b) => b.slots.map((slot) => ({ slot, from: b.from, to: b.to })))),
          Math.max(1, ...plan.waves.flat().map((b) => b.slots.length)),
          Math.max(1, ...plan.waves.map((w) => w.length)),
        ),
        notes: [`remaining part of an interrupted ${plan.kind}`],
      }
    : undefined;
  const check = checkCluster(after);
  return {
    slotsMoved,
    keysMoved,
    ms: Math.round(performance.now() - t0),
    keysBefore,
    keysAfter: mastersOf(after).reduce((n, m) => n + m.keys, 0),
    interrupted,
    remaining,
    check,
    snapshot: after,
    warnings,
  };
}

/** Addresses of `target` as the source's own view has it (what MIGRATE must dial). */
function peerAddress(source: NodeState, targetId: string, fallback: NodeAddress): NodeAddress {
  const line = source.view.find((l) => l.id === targetId);
  return line && line.host ? { host: line.host, port: line.port } : fallback;
}

async function moveBatch(
  s: Snapshot,
  b: SlotBatch,
  mo: MigrateOptions,
  warnings: string[],
  onEvent: EventSink,
): Promise<{ slots: number; keys: number }> {
  const src = nodeById(s, b.from);
  const dst = nodeById(s, b.to);
  if (!src || !dst) throw new RctlError('REFUSED', `The plan names a node this cluster does not have (${!src ? b.from : b.to}).`, { hint: 'Make a new plan.' });
  const others: SlotNode[] = mastersOf(s).filter((m) => m.id !== src.id && m.id !== dst.id);
  const slots = b.slots;
  const before = await countKeys(mo.conns, src, slots);
  let opened = false;
  try {
    // Importing on the target first, then migrating on the source: the order redis-cli uses, so
    // that a client redirected by the source with ASK is always accepted by the target.
    await setSlotsState(mo.conns, dst, slots, 'IMPORTING', src.id);
    opened = true;
    await setSlotsState(mo.conns, src, slots, 'MIGRATING', dst.id);
    let moved = await migrateSlots(mo, src, peerAddress(src, dst.id, dst.addr), slots);
    // Nothing may be left behind before ownership changes (SETSLOT NODE would refuse anyway).
    for (let i = 0; i < 3; i++) {
      const left = await countKeys(mo.conns, src, slots);
      if (left.every((n) => n === 0)) break;
      if (i === 2) throw new RctlError('REDIS_ERROR', `${addrKey(src.addr)} still holds keys in slots being moved after MIGRATE drained them.`, { hint: 'Run `rctl fix`.' });
      moved += await migrateSlots(mo, src, peerAddress(src, dst.id, dst.addr), slots.filter((_, j) => left[j]! > 0));
    }
    warnings.push(...(await assignSlots(mo.conns, dst, src, others, slots)));
    const after = await countKeys(mo.conns, dst, slots);
    const expected = before.reduce((a, n) => a + n, 0);
    const got = after.reduce((a, n) => a + n, 0);
    if (got < expected) {
      const w = `slots ${slots[0]}-${slots[slots.length - 1]}: ${addrKey(dst.addr)} holds ${got} keys, ${expected} left ${addrKey(src.addr)} (concurrent deletes or expiries, or lost keys)`;
      warnings.push(w);
      onEvent({ type: 'warning', message: w });
    }
    return { slots: slots.length, keys: moved };
  } catch (err) {
    if (opened) await settleBatch(mo, src, dst, others, slots, err);
    throw err;
  }
}

/**
 * A batch failed after its slots were opened: leave nothing open. Slots whose keys all reached the
 * target are finished (assigned to it); the others get their moved keys back and are closed.
 */
async function settleBatch(mo: MigrateOptions, src: NodeState, dst: NodeState, others: SlotNode[], slots: readonly number[], cause: unknown): Promise<void> {
  try {
    const left = await countKeys(mo.conns, src, slots);
    const done = slots.filter((_, i) => left[i] === 0);
    const back = slots.filter((_, i) => left[i]! > 0);
    if (done.length > 0) await assignSlots(mo.conns, dst, src, others, done);
    if (back.length > 0) {
      await returnKeys(mo, src, dst, peerAddress(dst, src.id, src.addr), back);
      await stabilize(mo.conns, dst, back);
      await stabilize(mo.conns, src, back);
    }
  } catch (err) {
    throw new RctlError('REDIS_ERROR', `${messageOf(cause)} Closing the open slots failed too (${messageOf(err)}).`, {
      hint: 'Run `rctl fix` to finish or close the open slots, then `rctl check`.',
      cause,
    });
  }
}

/** After a wave: every master names the new owner for each moved slot, and has no open slot. */
async function verifyWave(conns: AdminConnections, masters: readonly NodeState[], wave: readonly SlotBatch[]): Promise<void> {
  const views = await Promise.all(
    masters.map(async (m) => {
      const res = await pipelined(conns, m, (p) => p.call('CLUSTER', 'NODES'));
      return { m, view: parseClusterNodes(String(res[0]?.[1] ?? '')) };
    }),
  );
  for (const { m, view } of views) {
    const owner = new Map<number, string>();
    for (const l of view) for (const slot of slotsOf(l.slots)) owner.set(slot, l.id);
    const self = view.find(isMyself);
    // A master that gave away its last slot may have become a replica (Redis 7): it is not asked.
    if (self && !self.flags.includes('master')) continue;
    for (const b of wave)
      for (const slot of b.slots)
        if (owner.get(slot) !== b.to)
          throw new RctlError('REDIS_ERROR', `After moving slot ${slot}, ${addrKey(m.addr)} names ${owner.get(slot)?.slice(0, 8) ?? 'no owner'} instead of ${b.to.slice(0, 8)}.`, {
            hint: 'Run `rctl check`; if it persists, `rctl fix`.',
          });
    if (self && (self.migrating.length > 0 || self.importing.length > 0)) {
      throw new RctlError('REDIS_ERROR', `After a wave, ${addrKey(m.addr)} still has open slots (${[...self.migrating.map((x) => x.slot), ...self.importing.map((x) => x.slot)].join(',')}).`, {
        hint: 'Run `rctl fix`.',
      });
    }
  }
}
