import { RctlError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { DEFAULT_CONCURRENCY, mapLimit, serial, type Serial } from '../util/pool.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { checkCluster, type CheckResult, type StrayKeys } from './check.js';
import { disputedSlots, planCoverage, planSlotClose, planSlotOwner, slotsToRepair, uncoveredSlots, type FixAction } from './fix-plan.js';
import { countKeys, firstError, migrateSlots, pipelined, setSlotsState, stabilize, type MigrateOptions, type SlotNode } from './slot-ops.js';
import { mastersOf, takeSnapshot, type NodeState, type Snapshot } from './snapshot.js';
import { findStrayKeys } from './stray-keys.js';
import { rangesFromSlots } from './slots.js';

export interface FixOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  readonly onEvent?: EventSink;
  readonly pipeline?: number;
  readonly timeoutMs?: number;
  readonly replace?: boolean;
  /** Keys of rctl's own in the cluster (the lease), left out of the key counts. */
  readonly ownKeys?: number;
  /** Most slots repaired at once (default DEFAULT_CONCURRENCY). */
  readonly concurrency?: number;
  /** Stray keys of `s0` when the caller counted them already (findStrayKeys). */
  readonly stray?: StrayKeys;
}

export interface FixResult {
  /** What was done, one line per action, in order. */
  readonly actions: readonly string[];
  readonly keysBefore: number;
  readonly keysAfter: number;
  readonly check: CheckResult;
  readonly snapshot: Snapshot;
}

/**
 * Repair what interrupted migrations and crashes leave behind, case by case as redis-cli's
 * `--cluster fix` does (open slots first, then uncovered slots), moving keys instead of dropping
 * them. Refuses while a master is unreachable: its slots would look uncovered and be reassigned.
 *
 * Many open slots (a big cluster after a crash mid-rebalance) are repaired together, not one by
 * one: one reading and one key count of all of them per phase, then each slot's actions in order,
 * different slots at once (bounded by `concurrency`). Slots are independent: each one's actions
 * touch only that slot's state, and Redis serialises the MIGRATEs of one source. A slot whose
 * state rctl will not guess about is left as it is while the others are repaired; the refusal is
 * reported at the end.
 */
export async function fixCluster(s0: Snapshot, o: FixOptions): Promise<FixResult> {
  const onEvent = o.onEvent ?? noEvents;
  const actions: string[] = [];
  const act = (a: string): void => {
    actions.push(a);
    onEvent({ type: 'note', message: a });
  };
  const unreachableMasters = s0.unreachable.length;
  if (unreachableMasters > 0) {
    throw new RctlError('REFUSED', `${unreachableMasters} node(s) cannot be reached (${s0.unreachable.map((u) => addrKey(u.addr)).join(', ')}); fixing now could reassign the slots of a master that is only down.`, {
      hint: 'Bring the node back, or remove it for good with `rctl del-node <id>`, then run `rctl fix` again.',
    });
  }
  const mo: MigrateOptions = { conns: o.conns, password: o.password, pipeline: o.pipeline ?? 1000, timeoutMs: o.timeoutMs ?? 60_000, replace: o.replace ?? false };
  const ownKeys = o.ownKeys ?? 0;
  const keysBefore = mastersOf(s0).reduce((n, m) => n + m.keys, 0) - ownKeys;

  // 1. Open slots, and slots whose keys sit on a node that does not own them.
  const stray = o.stray ?? (await findStrayKeys(o.conns, s0));
  const toRepair = slotsToRepair(s0, stray);
  if (toRepair.length > 0) {
    const note = (a: string): void => onEvent({ type: 'note', message: a });
    await fixSlots(s0.seed, toRepair, mo, { note, record: (a) => actions.push(a) }, o.concurrency ?? DEFAULT_CONCURRENCY);
  }

  // 2. Uncovered slots: to the node holding their keys, else spread over the masters with fewest slots.
  const s1 = await takeSnapshot(o.conns, s0.seed);
  const uncovered = uncoveredSlots(s1);
  if (mastersOf(s1).length > 0 && uncovered.length > 0) {
    const counts = new Map<string, number[]>();
    await mapLimit(mastersOf(s1), async (m) => counts.set(m.id, await countKeys(mo.conns, m, uncovered)), o.concurrency ?? DEFAULT_CONCURRENCY);
    await applyFixActions(planCoverage(s1, uncovered, counts), mo, act);
  }

  const snapshot = await takeSnapshot(o.conns, s0.seed);
  return { actions, keysBefore, keysAfter: mastersOf(snapshot).reduce((n, m) => n + m.keys, 0) - ownKeys, check: checkCluster(snapshot), snapshot };
}

/** Key counts of `slots` on every master of the snapshot: slot -> master id -> keys (one pipeline per master). */
async function slotKeys(mo: MigrateOptions, s: Snapshot, slots: readonly number[], limit: number): Promise<Map<number, Map<string, number>>> {
  const out = new Map<number, Map<string, number>>(slots.map((slot) => [slot, new Map<string, number>()]));
  await mapLimit(
    mastersOf(s),
    async (m) => {
      const counts = await countKeys(mo.conns, m, slots);
      slots.forEach((slot, i) => out.get(slot)!.set(m.id, counts[i]!));
    },
    limit,
  );
  return out;
}

/**
 * All slots to repair, in two phases, each on a fresh reading: decide every slot's owner
 * (planSlotOwner) and apply, then decide how to close every slot (planSlotClose) and apply.
 * Keys move for many slots at once; who owns a slot changes one slot at a time. Why: a node that
 * loses a slot to a higher config epoch deletes its keys of that slot unless it is importing it
 * (cluster.c, clusterUpdateSlotsConfigWith, "dirty slots"), and `SETSLOT NODE` on the importing
 * side bumps that node's epoch (as does a claim's BUMPEPOCH). Slot A finished X -> Y: Y takes A
 * with a new epoch, then X is told. If in between X bumps its own epoch for another slot B it
 * imports (X -> Y and Z -> X repaired at once), X still claims A, now with a higher epoch than Y:
 * Y drops A and deletes A's keys, which X no longer has. Measured with test/integration/
 * fix-many.test.ts (40 slots over a ring of 6 masters): without the serialisation 3 of 5 runs lost
 * 81-121 of 3800 keys; with it, 11 of 11 runs lost none. Serialising the owner changes (owner,
 * then old owner, per slot) keeps every node's claims current whenever its epoch moves; MIGRATEs,
 * the slow part, still overlap. Within phase 1, every slot's shielding actions (other claimants
 * release the slot and import it, holders of its keys import it) run before any owner claims.
 */
async function fixSlots(
  seed: NodeAddress,
  slots: readonly number[],
  mo: MigrateOptions,
  out: { note: (a: string) => void; record: (a: string) => void },
  limit: number,
): Promise<void> {
  const refusals: { slot: number; err: RctlError }[] = [];
  // Notes are emitted as they happen (slots finish in any order) and recorded per slot, in slot order.
  const notes = new Map<number, string[]>(slots.map((slot) => [slot, []]));
  const ownership = serial();
  const runSlot = async (slot: number, actions: readonly FixAction[]): Promise<void> => {
    try {
      await applyFixActions(
        actions,
        mo,
        (a) => {
          notes.get(slot)!.push(a);
          out.note(a);
        },
        ownership,
      );
    } catch (err) {
      // A refusal concerns this slot only: the others are still repaired. Anything else (a node
      // going away) stops further slots from starting; the ones in flight finish.
      if (err instanceof RctlError && err.code === 'REFUSED') refusals.push({ slot, err });
      else throw err;
    }
  };
  const flush = (): void => {
    for (const slot of slots) for (const a of notes.get(slot)!.splice(0)) out.record(a);
  };

  const s1 = await takeSnapshot(mo.conns, seed);
  const keys1 = await slotKeys(mo, s1, slots, limit);
  const disputed = new Set(disputedSlots(s1));
  const owners = new Map<number, NodeState>();
  const shield: { slot: number; actions: FixAction[] }[] = [];
  const claim: { slot: number; actions: FixAction[] }[] = [];
  for (const slot of slots) {
    const { owner, actions } = planSlotOwner(s1, slot, keys1.get(slot)!, disputed.has(slot));
    owners.set(slot, owner);
    const cut = actions.findIndex((a) => a.kind === 'claim');
    shield.push({ slot, actions: cut < 0 ? actions : actions.slice(0, cut) });
    if (cut >= 0) claim.push({ slot, actions: actions.slice(cut) });
  }
  try {
    await mapLimit(shield.filter((x) => x.actions.length > 0), (x) => runSlot(x.slot, x.actions), limit);
    // A slot whose shielding was refused is not claimed either.
    await mapLimit(claim.filter((x) => !refusals.some((r) => r.slot === x.slot)), (x) => runSlot(x.slot, x.actions), limit);

    const s2 = await takeSnapshot(mo.conns, seed);
    const keys2 = await slotKeys(mo, s2, slots, limit);
    const close = slots.filter((slot) => !refusals.some((r) => r.slot === slot)).map((slot) => ({ slot, actions: planSlotClose(s2, slot, keys2.get(slot)!, owners.get(slot)!) }));
    await mapLimit(close.filter((x) => x.actions.length > 0), (x) => runSlot(x.slot, x.actions), limit);
  } finally {
    flush();
  }
  if (refusals.length === 1) throw refusals[0]!.err;
  if (refusals.length > 1) {
    refusals.sort((a, b) => a.slot - b.slot);
    const first = refusals[0]!.err;
    const others = refusals.slice(1).map((r) => r.slot);
    throw new RctlError('REFUSED', `${first.message.replace(/\.$/, '')} (and ${others.length} more slot(s) refused: ${others.join(', ')}; the other slots were repaired).`, { hint: first.hint, details: first.details });
  }
}

/**
 * Execute planned actions in order; a `refuse` stops with an error naming the slot's state.
 * `ownership` runs the steps that change who owns a slot (claims, SETSLOT NODE on the new and the
 * old owner), one at a time across the slots being repaired at once: see fixSlots.
 */
async function applyFixActions(actions: readonly FixAction[], mo: MigrateOptions, act: (a: string) => void, ownership: Serial = (fn) => fn()): Promise<void> {
  let moved = 0;
  for (const a of actions) {
    switch (a.kind) {
      case 'release-and-import': {
        const res = await pipelined(mo.conns, a.node, (p) => {
          p.call('CLUSTER', 'DELSLOTS', String(a.slot));
          p.call('CLUSTER', 'SETSLOT', String(a.slot), 'IMPORTING', a.from);
        });
        firstError(res, a.node, 'CLUSTER DELSLOTS + SETSLOT IMPORTING');
        break;
      }
      case 'set-importing':
        await setSlotsState(mo.conns, a.node, [a.slot], 'IMPORTING', a.from);
        break;
      case 'set-migrating':
        await setSlotsState(mo.conns, a.node, [a.slot], 'MIGRATING', a.to);
        break;
      case 'claim':
        await ownership(() => claimSlots(mo, a.node, a.slots));
        break;
      case 'migrate':
        moved = await migrateSlots(mo, a.from, a.target, [a.slot], a.asking);
        break;
      case 'assign': {
        // The new owner first (it bumps its epoch), then the old one, as assignSlots does; the
        // others only hear of it (no epoch changes there), outside the serialised section.
        const { owner, previous } = a;
        await ownership(async () => {
          await setSlotNode(mo, owner, a.slot, owner.id);
          if (previous) await setSlotNode(mo, previous, a.slot, owner.id, /only with masters/);
        });
        // Others learn it by gossip anyway (the owner bumped its epoch); telling them avoids redirects meanwhile.
        await Promise.allSettled(a.others.map((n) => setSlotNode(mo, n, a.slot, owner.id, /only with masters/)));
        break;
      }
      case 'stabilize':
        await stabilize(mo.conns, a.node, [a.slot]);
        break;
      case 'note':
        act(a.text.replace('{moved}', String(moved)));
        break;
      case 'refuse':
        throw new RctlError('REFUSED', `Slot ${a.slot} is in a state rctl will not guess about: migrating on ${a.migrating.join(', ') || 'none'}, importing on ${a.importing.join(', ') || 'none'}, owner ${a.owner}.`, {
          hint: 'Inspect it with `rctl info` and CLUSTER COUNTKEYSINSLOT on each node; close it by hand with CLUSTER SETSLOT <slot> STABLE where no keys are at stake.',
        });
    }
  }
}

/** CLUSTER SETSLOT <slot> NODE <ownerId> on `n` (a master that gave away its last slot may be a replica already, Redis #9223). */
async function setSlotNode(mo: MigrateOptions, n: SlotNode, slot: number, ownerId: string, acceptable?: RegExp): Promise<void> {
  const res = await pipelined(mo.conns, n, (p) => p.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ownerId));
  firstError(res, n, 'CLUSTER SETSLOT NODE', acceptable);
}

/** Take ownership of slots nobody (else) should own: clear their state, (re)add them, bump the epoch so the claim wins. */
async function claimSlots(mo: MigrateOptions, owner: SlotNode, slots: readonly number[]): Promise<void> {
  const res = await pipelined(mo.conns, owner, (p) => {
    for (const s of slots) p.call('CLUSTER', 'SETSLOT', String(s), 'STABLE');
    for (const s of slots) p.call('CLUSTER', 'DELSLOTS', String(s));
    for (const r of rangesFromSlots(slots)) p.call('CLUSTER', 'ADDSLOTSRANGE', String(r.start), String(r.end));
    p.call('CLUSTER', 'BUMPEPOCH');
  });
  // DELSLOTS of a slot it does not have fails harmlessly; ADDSLOTSRANGE and BUMPEPOCH must work.
  firstError(res.slice(slots.length * 2), owner, 'CLUSTER ADDSLOTSRANGE/BUMPEPOCH');
}
