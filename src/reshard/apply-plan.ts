import { addrKey, type NodeAddress } from '../redis/address.js';
import type { CheckResult } from '../cluster/check.js';
import { parseClusterNodes, parseInfo, isMyself, type NodeLine } from '../cluster/cluster-nodes.js';
import type { AdminConnections } from '../redis/connection.js';
import { mastersOf, nodeById, takeSnapshot, type NodeState, type Snapshot } from '../cluster/snapshot.js';
import { formatRanges, rangesFromSlots, SLOT_COUNT } from '../cluster/slots.js';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { LEASE_SLOT } from '../cluster/lease.js';
import { settledVerdict, type SettledVerdict } from '../cluster/ready.js';
import { claimOutranks } from './claim-epoch.js';
import { mastersEmptiedBy } from './emptied.js';
import { disjointRounds, planSlots, toWaves, type Plan, type SlotBatch, type Wave } from './plan.js';
import {
  announceOwners,
  assignSlots,
  countKeys,
  countKeysIn,
  countsFrom,
  firstError,
  migrateSlotsWith,
  NOT_A_MASTER_ANYMORE,
  pipelined,
  returnKeys,
  setSlotsNode,
  setSlotsState,
  stabilize,
  type MigrateOptions,
  type Pipeline,
  type SlotNode,
} from '../cluster/slot-ops.js';
import { mapLimit } from '../util/pool.js';
import { waitUntil } from '../util/wait.js';

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
  /** Most batches in flight at once across a wave (default DEFAULT_CONCURRENCY). */
  readonly concurrency?: number;
}

const PROGRESS_MS = 250;

/** Batches in flight at once when the caller does not say (measured: see bench/reshard.mjs). */
export const DEFAULT_CONCURRENCY = 8;

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
 * Execute a plan wave by wave. Within a wave up to `concurrency` batches run at once; after each
 * wave every master must name the new owner of every moved slot and no slot may be left open.
 * Ctrl-C (the signal) is honoured between waves only, so a stop never leaves a slot open.
 */
export async function applyPlan(plan: Plan, snapshot: Snapshot, o: ApplyOptions): Promise<ApplyResult> {
  assertFresh(plan, snapshot);
  const onEvent = o.onEvent ?? noEvents;
  const mo: MigrateOptions = { conns: o.conns, password: o.password, pipeline: o.pipeline ?? 1000, timeoutMs: o.timeoutMs ?? 60_000, replace: o.replace ?? false };
  const concurrency = Math.max(1, Math.floor(o.concurrency ?? DEFAULT_CONCURRENCY));
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
  let lastProgress = 0;
  /** A progress event after a wave, and after a batch at most every PROGRESS_MS. */
  const progress = (waveDone: boolean): void => {
    const now = performance.now();
    if (!waveDone && now - lastProgress < PROGRESS_MS) return;
    lastProgress = now;
    const secs = Math.max((now - t0) / 1000, 1e-3);
    onEvent({ type: 'progress', step: plan.kind, done: slotsMoved, total, unit: 'slots', keys: keysMoved, keysPerSec: keysMoved / secs, etaSec: (total - slotsMoved) / Math.max(slotsMoved / secs, 1e-3) });
  };

  try {
    for (const wave of plan.waves) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      o.lease?.assertHeld();
      // One reading of every master serves three times: the wave before must have landed
      // everywhere, what the plan assumed for this wave must still hold (defence in depth behind
      // the lease), and no master but a slot's source and target may hold keys of it.
      let views = await readViews(o.conns, masters, wave);
      if (epochCollision(views)) {
        await untilEpochsDistinct(o.conns, masters);
        views = await readViews(o.conns, masters, wave);
      }
      if (unverified) assertWaveLanded(views, unverified);
      assertWaveReady(views, wave);
      assertNoOtherHolders(views);
      // At most `concurrency` batches in flight, taken in wave order (toWaves spreads a wave's
      // batches over as many different nodes as it can), in rounds where no node both gives and
      // takes (disjointRounds: a claim's epoch bump must not meet a stale claim of the same node).
      // After a failure no further batch starts: one that never started opened nothing; the ones
      // in flight finish and leave nothing open.
      const moved: SlotBatch[] = [];
      let failure: { reason: unknown } | undefined;
      for (const [r, round] of disjointRounds(wave).entries()) {
        if (failure) break;
        // Claims of the round before may have collided (two targets bumping to the same epoch):
        // let Redis settle that before anyone claims again.
        if (r > 0) await untilEpochsDistinct(o.conns, masters);
        await mapLimit(
          round,
          async (b) => {
            if (failure) return;
            try {
              const r = await moveBatch(snapshot, b, mo, warnings, onEvent);
              slotsMoved += r.slots;
              keysMoved += r.keys;
              moved.push(b);
              progress(false);
            } catch (reason) {
              failure ??= { reason };
            }
          },
          concurrency,
        );
      }
      // The masters that neither gave nor received a slot learn its new owner once per wave, one
      // pipeline each (gossip tells them anyway; this spares clients redirects meanwhile). The
      // next reading checks that every one of them names the new owners.
      warnings.push(...(await announceOwners(o.conns, masters.map((m) => ({ node: m, moves: moved.filter((b) => b.from !== m.id && b.to !== m.id).flatMap((b) => b.slots.map((slot) => ({ slot, owner: b.to }))) })))));
      progress(true);
      if (failure) throw failure.reason;
      unverified = wave;
      waveIndex++;
    }
    if (unverified) assertWaveLanded(await readViews(o.conns, masters, []), unverified);
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
          Math.max(1, ...plan.waves.map(batchesPerPair)),
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

/** The most batches one (from, to) pair has in a wave: the plan's batches per wave. */
function batchesPerPair(w: Wave): number {
  const n = new Map<string, number>();
  for (const b of w) n.set(`${b.from}>${b.to}`, (n.get(`${b.from}>${b.to}`) ?? 0) + 1);
  return Math.max(0, ...n.values());
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

const owns = (l: NodeLine | undefined, slot: number): boolean => Boolean(l?.slots.some((r) => r.start <= slot && slot <= r.end));
const isOpen = (l: NodeLine | undefined, slot: number): boolean => Boolean(l && (l.migrating.some((m) => m.slot === slot) || l.importing.some((m) => m.slot === slot)));

/** A re-verification failed: stop, and in cleaning up never hand a slot to anyone. */
class SafetyStop extends RctlError {}

function changedUnder(what: string): RctlError {
  return new SafetyStop('REFUSED', `Stopped before ${what}: the cluster changed under rctl (another operation, or a failover).`, {
    hint: 'Nothing further was moved and no slot was left open by rctl. Run `rctl check`; make a new plan once no other operation runs.',
  });
}

/**
 * Every master's CLUSTER NODES, read now: its own line (open slots) and its view of the owners;
 * and how many keys it holds of each slot of the coming wave that it neither gives nor receives.
 */
interface MasterView {
  readonly m: NodeState;
  readonly view: readonly NodeLine[];
  readonly self: NodeLine | undefined;
  /** Slot -> keys this master holds of it, for the wave's slots it is not a party to. */
  readonly strayCounts: ReadonlyMap<number, number>;
}

/** The lines of a CLUSTER NODES reply (a reply of a pipeline), or the node's error. */
function viewOf(res: [Error | null, unknown] | undefined, n: SlotNode): NodeLine[] {
  if (!res) return [];
  firstError([res], n, 'CLUSTER NODES');
  return parseClusterNodes(String(res[1] ?? ''));
}

/** The own line in a CLUSTER NODES reply, or the node's error. */
const ownLine = (res: [Error | null, unknown] | undefined, n: SlotNode): NodeLine | undefined => viewOf(res, n).find(isMyself);

/**
 * Two masters owning slots with the same config epoch: a collision Redis has not resolved yet. It
 * resolves it by bumping one of them past every epoch it knows (clusterHandleConfigEpochCollision),
 * so that master's epoch may jump above a target's claim made meanwhile; nodes that still had the
 * slot under that master would then hand it back and the target would delete the keys it received.
 * Bumps made without consensus collide easily (concurrent claims, a reshard right after another).
 * Masters without slots are left out: their epoch owns nothing a claim could lose to.
 */
function epochCollision(views: readonly MasterView[]): string | undefined {
  const seen = new Map<number, string>();
  for (const { m, self } of views) {
    if (!self || !self.flags.includes('master') || self.slots.length === 0) continue;
    const other = seen.get(self.configEpoch);
    if (other) return `${other} and ${addrKey(m.addr)} share config epoch ${self.configEpoch}`;
    seen.set(self.configEpoch, addrKey(m.addr));
  }
  return undefined;
}

/** Wait (bounded) until no two masters owning slots share a config epoch (epochCollision). */
async function untilEpochsDistinct(conns: AdminConnections, masters: readonly NodeState[]): Promise<void> {
  await waitUntil(
    "the masters' config epochs to be distinct (Redis resolves a collision by itself)",
    async () => {
      const c = epochCollision(await readViews(conns, masters, []));
      return c ? { done: false, reason: c } : { done: true, value: undefined };
    },
    { timeoutMs: EPOCH_WAIT_MS, intervalMs: 50, hint: 'Run `rctl check`; a collision that never resolves means the two masters do not hear each other.' },
  );
}

/**
 * How long a target may take to hear the source's epoch: every cluster bus message carries the
 * sender's epochs, and a node pings every peer it has not heard from for half the node timeout
 * (15 s by default), besides one random peer every second.
 */
const EPOCH_WAIT_MS = 20_000;

/**
 * The target's claim must carry a config epoch above the source's. Otherwise the other nodes keep
 * the source as owner (they take a claim only from a higher epoch), answer the target with an
 * UPDATE, and the target gives the slot back and deletes the keys it received (cluster.c: a node
 * that hears its slot claimed by a higher epoch drops its keys of it): keys lost. The claim bumps
 * the target's epoch past the highest one it knows, so it must know the source's current one.
 * Right after the source itself claimed slots (an earlier round, wave or operation) the target
 * may not have heard of it yet: wait for gossip, bounded. On timeout nothing may be claimed.
 */
async function untilTargetOutranks(mo: MigrateOptions, src: SlotNode, dst: SlotNode, srcEpoch: number): Promise<void> {
  try {
    await waitUntil(
      `${addrKey(dst.addr)} to hear the config epoch of ${addrKey(src.addr)} (${srcEpoch})`,
      async () => {
        const res = await pipelined(mo.conns, dst, (p) => {
          p.call('CLUSTER', 'NODES');
          p.call('CLUSTER', 'INFO');
        });
        firstError(res.slice(1), dst, 'CLUSTER INFO');
        const current = Number(parseInfo(String(res[1]?.[1] ?? ''))['cluster_current_epoch'] ?? 0);
        return claimOutranks(viewOf(res[0], dst), srcEpoch, current) ? { done: true, value: undefined } : { done: false, reason: `its current epoch is ${current}` };
      },
      { timeoutMs: EPOCH_WAIT_MS, intervalMs: 50 },
    );
  } catch (err) {
    throw targetBehind(src, dst, srcEpoch, messageOf(err));
  }
}

function targetBehind(src: SlotNode, dst: SlotNode, srcEpoch: number, why: string): RctlError {
  return new SafetyStop('REFUSED', `Stopped before ${addrKey(dst.addr)} claims slots of ${addrKey(src.addr)}: it has not heard the source's config epoch ${srcEpoch} (${why}), so its claim could lose and its copies of the keys be deleted.`, {
    hint: 'Run `rctl check` (gossip between the two may be broken); retry once `rctl check` passes.',
  });
}

async function readViews(conns: AdminConnections, masters: readonly NodeState[], wave: Wave): Promise<MasterView[]> {
  return Promise.all(
    masters.map(async (m) => {
      const foreign = wave.filter((b) => b.from !== m.id && b.to !== m.id).flatMap((b) => b.slots);
      const res = await pipelined(conns, m, (p) => {
        p.call('CLUSTER', 'NODES');
        if (foreign.length > 0) countKeysIn(p, foreign);
      });
      firstError(res.slice(0, 1), m, 'CLUSTER NODES');
      const counts = foreign.length > 0 ? await countsFrom(res[1], conns, m, foreign) : [];
      const view = parseClusterNodes(String(res[0]?.[1] ?? ''));
      return { m, view, self: view.find(isMyself), strayCounts: new Map(foreign.map((slot, i) => [slot, counts[i]!])) };
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
  const n = slots.length;
  // Right before opening (a batch may start well after the wave's reading), in one round trip:
  // the source still owns every slot and neither side has it open; the source's key counts and
  // epoch; and whether the target's claim will outrank that epoch (else wait, then read again).
  const readEnds = async (): Promise<{ srcEpoch: number; before: number[]; outranked: boolean }> => {
    const [srcRes, dstRes] = await Promise.all([
      pipelined(mo.conns, src, (p) => {
        p.call('CLUSTER', 'NODES');
        countKeysIn(p, slots);
      }),
      pipelined(mo.conns, dst, (p) => p.call('CLUSTER', 'NODES')),
    ]);
    const srcLine = ownLine(srcRes[0], src);
    const dstView = viewOf(dstRes[0], dst);
    const dstLine = dstView.find(isMyself);
    for (const slot of slots) {
      if (!owns(srcLine, slot)) throw changedUnder(`moving slot ${slot}: ${addrKey(src.addr)} no longer owns it`);
      if (owns(dstLine, slot)) throw changedUnder(`moving slot ${slot}: ${addrKey(dst.addr)} already owns it`);
      if (isOpen(srcLine, slot) || isOpen(dstLine, slot)) throw changedUnder(`moving slot ${slot}: it is already open on ${addrKey(src.addr)} or ${addrKey(dst.addr)}`);
    }
    const srcEpoch = srcLine?.configEpoch ?? 0;
    return { srcEpoch, before: await countsFrom(srcRes[1], mo.conns, src, slots), outranked: claimOutranks(dstView, srcEpoch) };
  };
  let ends = await readEnds();
  for (let i = 0; !ends.outranked; i++) {
    if (i === 3) throw targetBehind(src, dst, ends.srcEpoch, 'its epoch keeps changing');
    await untilTargetOutranks(mo, src, dst, ends.srcEpoch);
    ends = await readEnds();
  }
  const { srcEpoch, before } = ends;
  let opened = false;
  try {
    // Importing on the target first, then migrating on the source: the order redis-cli uses, so
    // that a client redirected by the source with ASK is always accepted by the target.
    await setSlotsState(mo.conns, dst, slots, 'IMPORTING', src.id);
    opened = true;
    // MIGRATING, then the first page of keys of each slot that had any, in one round trip: one
    // connection runs them in order, so the page is read with the slot migrating already. A key
    // written in between is found by the count after the MIGRATEs.
    const withKeys = slots.filter((_, i) => before[i]! > 0);
    const opening = await pipelined(mo.conns, src, (p) => {
      for (const slot of slots) p.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', dst.id);
      for (const slot of withKeys) p.callBuffer('CLUSTER', 'GETKEYSINSLOT', String(slot), String(mo.pipeline));
    });
    firstError(opening.slice(0, n), src, 'CLUSTER SETSLOT MIGRATING');
    firstError(opening.slice(n), src, 'CLUSTER GETKEYSINSLOT');
    const pages = new Map<number, Buffer[]>(slots.map((slot) => [slot, []]));
    withKeys.forEach((slot, j) => pages.set(slot, opening[n + j]![1] as Buffer[]));
    const peer = peerAddress(src, dst.id, dst.addr);
    // Read right after the MIGRATEs, on the same connection: what the source still holds of each
    // slot, and its own line (it must still own them: a failover or another operation may not).
    const then = (p: Pipeline): void => {
      countKeysIn(p, slots);
      p.call('CLUSTER', 'NODES');
    };
    let round = await migrateSlotsWith(mo, src, peer, slots, { firstPages: pages, then });
    let moved = round.moved;
    // Nothing may be left behind before ownership changes (SETSLOT NODE would refuse anyway).
    for (let i = 0; ; i++) {
      const left = await countsFrom(round.then[0], mo.conns, src, slots);
      if (left.every((c) => c === 0)) break;
      if (i === 2) throw new RctlError('REDIS_ERROR', `${addrKey(src.addr)} still holds keys in slots being moved after MIGRATE drained them.`, { hint: 'Run `rctl fix`.' });
      round = await migrateSlotsWith(mo, src, peer, slots.filter((_, j) => left[j]! > 0), { then });
      moved += round.moved;
    }
    const still = ownLine(round.then[1], src);
    for (const slot of slots) if (!owns(still, slot)) throw changedUnder(`assigning slot ${slot}: ${addrKey(src.addr)} lost it while its keys were moving`);
    // The source's epoch moves only if it resolved an epoch collision meanwhile (it claims nothing
    // in this round): then the target must hear the new one too before it claims.
    if ((still?.configEpoch ?? 0) > srcEpoch) await untilTargetOutranks(mo, src, dst, still?.configEpoch ?? 0);
    // No other master holds keys of these slots: checked in the wave's reading, before any of
    // them opened. Keys of a slot can reach a master only as its owner or while it imports the
    // slot, and neither happened to the others since (they own none of these slots, and opening
    // one on them is what the next wave's reading and assertWaveLanded would catch).
    //
    // The target claims first, the source next, the other masters at the end of the wave
    // (redis-cli's order: a crash in between never leaves a slot without owner, #7116; a source
    // that lost its last slot may already be a replica, #9223). The target counts what arrived in
    // the same round trip, after its claim.
    const after = await setSlotsNode(mo.conns, dst, dst.id, slots, { count: true });
    await setSlotsNode(mo.conns, src, dst.id, slots, { acceptable: NOT_A_MASTER_ANYMORE });
    const expected = before.reduce((a, c) => a + c, 0);
    const got = after.reduce((a, c) => a + c, 0);
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
    return { slots: n, keys: moved };
  } catch (err) {
    // Keys found missing after the claim: the slots are closed already; touch nothing more.
    if (opened && !(err instanceof RctlError && err.code === 'KEYS_LOST')) await settleBatch(mo, src, dst, others, slots, err, !(err instanceof SafetyStop));
    throw err;
  }
}

/**
 * The target's claim bumps its epoch; a node that holds keys of a slot it hears was claimed by a
 * higher epoch deletes them (cluster.c, dirty slots). So before a wave opens anything, no master
 * but a slot's source and target may hold any key of it. A master that gave away its last slot
 * may have become a replica (Redis 7): a replica holds its master's keys, it is not asked.
 */
function assertNoOtherHolders(views: readonly MasterView[]): void {
  for (const { m, self, strayCounts } of views) {
    if (self && !self.flags.includes('master')) continue;
    const held = [...strayCounts].filter(([, c]) => c > 0).map(([slot]) => slot);
    if (held.length > 0) {
      throw new SafetyStop('REFUSED', `Stopped before moving slot(s) ${formatRanges(rangesFromSlots(held))}: ${addrKey(m.addr)} holds keys of them without owning them, and would delete them once the new owner is announced.`, {
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

/** Slot -> index in `view` of the line that claims it (-1: none). */
function ownerIndex(view: readonly NodeLine[]): Int32Array {
  const owner = new Int32Array(SLOT_COUNT).fill(-1);
  view.forEach((l, i) => {
    for (const r of l.slots) owner.fill(i, r.start, r.end + 1);
  });
  return owner;
}

/** After a wave: every master names the new owner for each moved slot, and has no open slot. */
function assertWaveLanded(views: readonly MasterView[], wave: Wave): void {
  for (const { m, view, self } of views) {
    // A master that gave away its last slot may have become a replica (Redis 7): it is not asked.
    if (self && !self.flags.includes('master')) continue;
    const owner = ownerIndex(view);
    const ownerOf = (slot: number): string | undefined => view[owner[slot]!]?.id;
    for (const b of wave)
      for (const slot of b.slots)
        if (ownerOf(slot) !== b.to)
          throw new RctlError('REDIS_ERROR', `After moving slot ${slot}, ${addrKey(m.addr)} names ${ownerOf(slot)?.slice(0, 8) ?? 'no owner'} instead of ${b.to.slice(0, 8)}.`, {
            hint: 'Run `rctl check`; if it persists, `rctl fix`.',
          });
    if (self && (self.migrating.length > 0 || self.importing.length > 0)) {
      throw new RctlError('REDIS_ERROR', `After a wave, ${addrKey(m.addr)} still has open slots (${[...self.migrating.map((x) => x.slot), ...self.importing.map((x) => x.slot)].join(',')}).`, {
        hint: 'Run `rctl fix`.',
      });
    }
  }
}
