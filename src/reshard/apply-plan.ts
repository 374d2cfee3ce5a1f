import { addrKey, type NodeAddress } from '../cluster/address.js';
import type { CheckResult } from '../cluster/check.js';
import { parseClusterNodes, isMyself, type NodeLine } from '../cluster/cluster-nodes.js';
import type { AdminConnections } from '../cluster/connection.js';
import { mastersOf, nodeById, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { formatRanges, rangesFromSlots, slotsOf } from '../cluster/slots.js';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { LEASE_SLOT } from '../cluster/lease.js';
import { settledVerdict, type SettledVerdict } from '../cluster/ready.js';
import { mastersEmptiedBy } from './emptied.js';
import { planSlots, toWaves, type Plan, type SlotBatch, type Wave } from './plan.js';
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
  /** The cluster lease the caller holds: checked before every wave, so a lost lease stops the moves. */
  readonly lease?: { assertHeld(): void; readonly exclusive: boolean } | undefined;
  /**
   * Let Redis turn a master the plan empties into a replica of the receiver (its default,
   * cluster-allow-replica-migration yes). Off by default: a drain keeps the emptied master a master,
   * as scale-in does, and the verdict does not see a role change nobody asked for.
   */
  readonly allowReplicaMigration?: boolean;
  /** Clients delete keys during the move: fewer keys afterwards is a warning, not a problem. */
  readonly expectDeletes?: boolean;
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
  /** How long the final verdict waited for gossip to settle. */
  readonly settleMs: number;
  /** Masters the plan emptied (they stay masters unless allowReplicaMigration). */
  readonly emptied: readonly string[];
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
  // The lease is a key (with a TTL) of rctl's own: not the user's data, left out of every count.
  const ownKeys = o.lease?.exclusive ? 1 : 0;
  const keysBefore = masters.reduce((n, m) => n + m.keys, 0) - ownKeys;
  const expiresBefore = masters.reduce((n, m) => n + m.expires, 0) - ownKeys;
  const total = planSlots(plan);
  const warnings: string[] = [];
  const t0 = performance.now();
  let slotsMoved = 0;
  let keysMoved = 0;
  let waveIndex = 0;
  let interrupted = false;
  const emptied = mastersEmptiedBy(plan, snapshot);
  const restore = o.allowReplicaMigration ? async (): Promise<string[]> => [] : await keepMasters(o.conns, snapshot, emptied);
  let moveMs = 0;
  let verdict: SettledVerdict;
  /** The last wave moved and not yet verified. */
  let unverified: Wave | undefined;

  try {
    for (const wave of plan.waves) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      o.lease?.assertHeld();
      // One reading of every master serves twice: the wave before must have landed everywhere, and
      // (defence in depth behind the lease) what the plan assumed for this wave must still hold.
      const views = await readViews(o.conns, masters);
      if (unverified) assertWaveLanded(views, unverified);
      assertWaveReady(views, wave);
      const outcomes = await Promise.allSettled(wave.map((b) => moveBatch(snapshot, b, mo, warnings, onEvent)));
      for (const out of outcomes) {
        if (out.status === 'fulfilled') {
          slotsMoved += out.value.slots;
          keysMoved += out.value.keys;
        }
      }
      const failed = outcomes.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
      unverified = wave;
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
    if (unverified) assertWaveLanded(await readViews(o.conns, masters), unverified);
    moveMs = Math.round(performance.now() - t0);
    // The verdict waits, bounded, for what rctl itself changed to reach every node (replicas learn
    // new owners by gossip) and judges only what is still wrong then; lost keys never settle. It is
    // bounded, so it ignores the first Ctrl-C (which must still save the remaining plan).
    verdict = await settledVerdict(o.conns, snapshot.seed, { expect: { keysBefore: { keys: keysBefore, expires: expiresBefore }, ownKeys, deletesExpected: o.expectDeletes } });
  } catch (err) {
    // A stopped operation still says whether keys are missing now: a loss is never silent, even
    // when the stop itself was caused by something else (another operation racing this one).
    throw await withKeyCount(err, o.conns, snapshot, keysBefore + ownKeys, expiresBefore + ownKeys, o.expectDeletes ?? false);
  } finally {
    // Only now: replicas of an emptied master hear of its last slot by gossip, after the last wave.
    const failedRestores = await restore();
    for (const f of failedRestores) {
      const w = `Could not restore cluster-allow-replica-migration on ${f}; set it back with CONFIG SET.`;
      warnings.push(w);
      onEvent({ type: 'warning', message: w });
    }
  }
  const after = verdict.snapshot;
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
  return {
    slotsMoved,
    keysMoved,
    ms: moveMs,
    keysBefore,
    keysAfter: mastersOf(after).reduce((n, m) => n + m.keys, 0) - ownKeys,
    interrupted,
    remaining,
    check: verdict.check,
    snapshot: after,
    warnings,
    settleMs: verdict.waitedMs,
    emptied,
  };
}

async function withKeyCount(err: unknown, conns: AdminConnections, s: Snapshot, before: number, expires: number, deletesExpected: boolean): Promise<unknown> {
  if (!(err instanceof RctlError) || err.code === 'INTERRUPTED') return err;
  let now: number;
  try {
    // Every master, including one that became a master meanwhile: a fresh reading, not the plan's.
    const snap = await takeSnapshot(conns, s.seed);
    // Keys on a node that cannot be reached are not lost, just out of sight: no claim either way.
    if (snap.unreachable.length > 0) return err;
    now = mastersOf(snap).reduce((n, m) => n + m.keys, 0);
  } catch {
    return err;
  }
  const fewer = before - now;
  if (fewer <= 0) return err;
  const lost = fewer > expires && !deletesExpected;
  return new RctlError(lost ? 'KEYS_LOST' : err.code, `${err.message} The masters hold ${now} key(s) now, ${fewer} fewer than when it started${lost ? '' : ' (expiries or client deletes can explain it)'}.`, {
    hint: lost ? 'Stop every other operation on this cluster, then run `rctl check` and `rctl fix`; compare with your source of truth.' : err.hint,
    details: { ...(err.details ?? {}), keysBefore: before, keysNow: now },
    cause: err,
  });
}

/**
 * Switch off cluster-allow-replica-migration on the masters the plan empties and on their replicas
 * for the duration of the move (a replica whose master lost its last slot follows the receiver
 * too), and return how to put the previous values back. Once the last slot is gone no later
 * update concerns those nodes, so restoring the setting does not bring the migration back.
 */
async function keepMasters(conns: AdminConnections, s: Snapshot, emptied: readonly string[]): Promise<() => Promise<string[]>> {
  const nodes = s.nodes.filter((n) => emptied.includes(n.id) || (n.role === 'replica' && n.self.masterId !== undefined && emptied.includes(n.self.masterId)));
  const saved: { n: NodeState; prev: string }[] = [];
  const restore = async (): Promise<string[]> => {
    const failed: string[] = [];
    await Promise.all(
      saved.map(({ n, prev }) =>
        conns.run(n.addr, (r) => r.call('CONFIG', 'SET', 'cluster-allow-replica-migration', prev)).catch(() => {
          failed.push(`${addrKey(n.addr)} (back to ${prev})`);
        }),
      ),
    );
    return failed;
  };
  try {
    for (const n of nodes) {
      const prev = (await conns.run(n.addr, (r) => r.call('CONFIG', 'GET', 'cluster-allow-replica-migration'))) as string[];
      await conns.run(n.addr, (r) => r.call('CONFIG', 'SET', 'cluster-allow-replica-migration', 'no'));
      saved.push({ n, prev: prev[1] ?? 'yes' });
    }
  } catch (err) {
    // Nothing moved yet: put back what was set, then refuse.
    await restore();
    throw err;
  }
  return restore;
}

/** The own line of every master, read now. */
async function ownLines(conns: AdminConnections, nodes: readonly SlotNode[]): Promise<Map<string, NodeLine>> {
  const out = new Map<string, NodeLine>();
  await Promise.all(
    nodes.map(async (n) => {
      const res = await pipelined(conns, n, (p) => p.call('CLUSTER', 'NODES'));
      if (res[0]?.[0]) throw res[0][0];
      const self = parseClusterNodes(String(res[0]?.[1] ?? '')).find(isMyself);
      if (self) out.set(n.id, self);
    }),
  );
  return out;
}

const owns = (l: NodeLine | undefined, slot: number): boolean => Boolean(l?.slots.some((r) => r.start <= slot && slot <= r.end));
const isOpen = (l: NodeLine | undefined, slot: number): boolean => Boolean(l && (l.migrating.some((m) => m.slot === slot) || l.importing.some((m) => m.slot === slot)));

/** A re-verification failed: stop, and in cleaning up never hand a slot to anyone. */
class SafetyStop extends RctlError {}

function changedUnder(what: string): RctlError {
  return new SafetyStop('REFUSED', `Stopped before ${what}: the cluster changed under rctl (another operation, or a failover).`, {
    hint: 'Nothing further was moved and no slot was left open by rctl. Run `rctl check`; make a new plan once no other operation runs.',
  });
}

/** Every master's CLUSTER NODES, read now: its own line (open slots) and its view of the owners. */
interface MasterView {
  readonly m: NodeState;
  readonly view: readonly NodeLine[];
  readonly self: NodeLine | undefined;
}

async function readViews(conns: AdminConnections, masters: readonly NodeState[]): Promise<MasterView[]> {
  return Promise.all(
    masters.map(async (m) => {
      const res = await pipelined(conns, m, (p) => p.call('CLUSTER', 'NODES'));
      if (res[0]?.[0]) throw res[0][0];
      const view = parseClusterNodes(String(res[0]?.[1] ?? ''));
      return { m, view, self: view.find(isMyself) };
    }),
  );
}

/**
 * Before a wave: every source still owns its slots, no one else claims them, and no master has any
 * of them open. A second operation (a concurrent redis-cli, or rctl with the lease broken) is
 * caught here instead of being raced.
 */
function assertWaveReady(views: readonly MasterView[], wave: Wave): void {
  const lines = new Map(views.map((v) => [v.m.id, v.self]));
  for (const b of wave)
    for (const slot of b.slots) {
      if (!owns(lines.get(b.from), slot)) throw changedUnder(`moving slot ${slot}: ${b.from.slice(0, 8)} no longer owns it`);
      for (const [id, l] of lines) {
        if (id !== b.from && owns(l, slot)) throw changedUnder(`moving slot ${slot}: ${id.slice(0, 8)} claims it too`);
        if (isOpen(l, slot)) throw changedUnder(`moving slot ${slot}: it is already migrating or importing on ${id.slice(0, 8)}`);
      }
    }
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
  // Right before opening: the source still owns every slot and neither side has it open.
  const lines = await ownLines(mo.conns, [src, dst]);
  for (const slot of slots) {
    if (!owns(lines.get(src.id), slot)) throw changedUnder(`moving slot ${slot}: ${addrKey(src.addr)} no longer owns it`);
    if (owns(lines.get(dst.id), slot)) throw changedUnder(`moving slot ${slot}: ${addrKey(dst.addr)} already owns it`);
    if (isOpen(lines.get(src.id), slot) || isOpen(lines.get(dst.id), slot)) throw changedUnder(`moving slot ${slot}: it is already open on ${addrKey(src.addr)} or ${addrKey(dst.addr)}`);
  }
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
    // The target's claim bumps its epoch; a node that holds keys of a slot it hears was claimed
    // by a higher epoch deletes them (cluster.c, dirty slots). Nobody else may hold any.
    await assertNoOtherHolders(mo.conns, others, slots);
    const still = await ownLines(mo.conns, [src]);
    for (const slot of slots) if (!owns(still.get(src.id), slot)) throw changedUnder(`assigning slot ${slot}: ${addrKey(src.addr)} lost it while its keys were moving`);
    warnings.push(...(await assignSlots(mo.conns, dst, src, others, slots)));
    const after = await countKeys(mo.conns, dst, slots);
    const expected = before.reduce((a, n) => a + n, 0);
    const got = after.reduce((a, n) => a + n, 0);
    if (got < expected) {
      // A whole slot that arrived empty is not a client deleting a few keys: stop everything.
      // The lease's slot may hold only the lease, which another rctl may have broken meanwhile.
      const emptiedSlots = slots.filter((slot, i) => before[i]! > 0 && after[i] === 0 && !(slot === LEASE_SLOT && before[i] === 1));
      if (emptiedSlots.length > 0) {
        throw new RctlError('KEYS_LOST', `Keys are missing after moving slots ${formatRanges(rangesFromSlots(emptiedSlots))} from ${addrKey(src.addr)} to ${addrKey(dst.addr)}: ${addrKey(dst.addr)} holds ${got} of the ${expected} key(s) that were there; nothing further was moved.`, {
          hint: 'Stop every other operation on this cluster, then run `rctl check` (it shows whether a replica still holds them).',
          details: { slots: emptiedSlots, expected, found: got },
        });
      }
      const w = `slots ${slots[0]}-${slots[slots.length - 1]}: ${addrKey(dst.addr)} holds ${got} keys, ${expected} left ${addrKey(src.addr)} (deleted or expired by clients meanwhile)`;
      warnings.push(w);
      onEvent({ type: 'warning', message: w });
    }
    return { slots: slots.length, keys: moved };
  } catch (err) {
    // Keys found missing after the claim: the slots are closed already; touch nothing more.
    if (opened && !(err instanceof RctlError && err.code === 'KEYS_LOST')) await settleBatch(mo, src, dst, others, slots, err, !(err instanceof SafetyStop));
    throw err;
  }
}

async function assertNoOtherHolders(conns: AdminConnections, others: readonly SlotNode[], slots: readonly number[]): Promise<void> {
  const counts = await Promise.all(others.map(async (n) => ({ n, c: await countKeys(conns, n, slots) })));
  for (const { n, c } of counts) {
    const held = slots.filter((_, i) => c[i]! > 0);
    if (held.length > 0) {
      throw new SafetyStop('REFUSED', `Stopped before assigning slot(s) ${formatRanges(rangesFromSlots(held))}: ${addrKey(n.addr)} holds keys of them without owning them, and would delete them once the new owner is announced.`, {
        hint: 'Run `rctl fix`: it moves those keys to the owner first.',
      });
    }
  }
}

/**
 * A batch failed after its slots were opened: leave nothing open. Slots whose keys all reached the
 * target are finished (assigned to it); the others get their moved keys back and are closed.
 */
async function settleBatch(mo: MigrateOptions, src: NodeState, dst: NodeState, others: SlotNode[], slots: readonly number[], cause: unknown, mayAssign: boolean): Promise<void> {
  try {
    const left = await countKeys(mo.conns, src, slots);
    // After a safety stop nothing is assigned: a claim bumps the target's epoch, and a node still
    // holding keys of the slot would delete them. Every key goes back to the source instead.
    const done = mayAssign ? slots.filter((_, i) => left[i] === 0) : [];
    const back = mayAssign ? slots.filter((_, i) => left[i]! > 0) : [...slots];
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
function assertWaveLanded(views: readonly MasterView[], wave: Wave): void {
  for (const { m, view, self } of views) {
    const owner = new Map<number, string>();
    for (const l of view) for (const slot of slotsOf(l.slots)) owner.set(slot, l.id);
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
