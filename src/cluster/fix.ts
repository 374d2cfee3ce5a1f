import { RctlError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { addrKey } from './address.js';
import type { AdminConnections } from './connection.js';
import { checkCluster, type CheckResult } from './check.js';
import { planCoverage, planSlotClose, planSlotOwner, slotsToRepair, uncoveredSlots, type FixAction } from './fix-plan.js';
import { assignSlots, countKeys, firstError, migrateSlots, pipelined, setSlotsState, stabilize, type MigrateOptions, type SlotNode } from './slot-ops.js';
import { mastersOf, takeSnapshot, type Snapshot } from './snapshot.js';
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
  const stray = await findStrayKeys(o.conns, s0);
  for (const slot of slotsToRepair(s0, stray)) {
    const s = await takeSnapshot(o.conns, s0.seed);
    await fixSlot(s, slot, mo, act);
  }

  // 2. Uncovered slots: to the node holding their keys, else spread over the masters with fewest slots.
  const s1 = await takeSnapshot(o.conns, s0.seed);
  const uncovered = uncoveredSlots(s1);
  if (mastersOf(s1).length > 0 && uncovered.length > 0) {
    const counts = new Map<string, number[]>();
    await Promise.all(mastersOf(s1).map(async (m) => counts.set(m.id, await countKeys(mo.conns, m, uncovered))));
    await applyFixActions(planCoverage(s1, uncovered, counts), mo, act);
  }

  const snapshot = await takeSnapshot(o.conns, s0.seed);
  return { actions, keysBefore, keysAfter: mastersOf(snapshot).reduce((n, m) => n + m.keys, 0) - ownKeys, check: checkCluster(snapshot), snapshot };
}

/** Key counts of one slot on every master of the snapshot. */
async function slotKeys(mo: MigrateOptions, s: Snapshot, slot: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  await Promise.all(mastersOf(s).map(async (m) => out.set(m.id, (await countKeys(mo.conns, m, [slot]))[0]!)));
  return out;
}

/** One slot: read, decide the owner (planSlotOwner), apply; re-read (the states changed), decide how to close it, apply. */
async function fixSlot(s0: Snapshot, slot: number, mo: MigrateOptions, act: (a: string) => void): Promise<void> {
  const { owner, actions } = planSlotOwner(s0, slot, await slotKeys(mo, s0, slot));
  await applyFixActions(actions, mo, act);
  const s = await takeSnapshot(mo.conns, s0.seed);
  await applyFixActions(planSlotClose(s, slot, await slotKeys(mo, s, slot), owner), mo, act);
}

/** Execute planned actions in order; a `refuse` stops with an error naming the slot's state. */
async function applyFixActions(actions: readonly FixAction[], mo: MigrateOptions, act: (a: string) => void): Promise<void> {
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
        await claimSlots(mo, a.node, a.slots);
        break;
      case 'migrate':
        moved = await migrateSlots(mo, a.from, a.target, [a.slot], a.asking);
        break;
      case 'assign':
        await assignSlots(mo.conns, a.owner, a.previous, a.others, [a.slot]);
        break;
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
