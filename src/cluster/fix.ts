import { RctlError } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { addrKey, type NodeAddress } from './address.js';
import type { AdminConnections } from './connection.js';
import { checkCluster, type CheckResult } from './check.js';
import { assignSlots, countKeys, firstError, migrateSlots, pipelined, setSlotsState, stabilize, type MigrateOptions } from './slot-ops.js';
import { mastersOf, takeSnapshot, type NodeState, type Snapshot } from './snapshot.js';
import { findStrayKeys } from './stray-keys.js';
import { countSlots, formatRanges, rangesFromSlots, SLOT_COUNT, slotsOf } from './slots.js';

export interface FixOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  readonly onEvent?: EventSink;
  readonly pipeline?: number;
  readonly timeoutMs?: number;
  readonly replace?: boolean;
}

export interface FixResult {
  /** What was done, one line per action, in order. */
  readonly actions: readonly string[];
  readonly keysBefore: number;
  readonly keysAfter: number;
  readonly check: CheckResult;
  readonly snapshot: Snapshot;
}

const label = (n: NodeState): string => addrKey(n.addr);

/** The address of `to` as `from` dials it (what MIGRATE needs). */
function dialable(from: NodeState, to: NodeState): NodeAddress {
  const l = from.view.find((x) => x.id === to.id);
  return l && l.host ? { host: l.host, port: l.port } : to.addr;
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
  const keysBefore = mastersOf(s0).reduce((n, m) => n + m.keys, 0);

  // 1. Open slots, and slots whose keys sit on a node that does not own them.
  const stray = await findStrayKeys(o.conns, s0);
  const open = new Set<number>();
  for (const m of mastersOf(s0)) {
    for (const x of m.self.migrating) open.add(x.slot);
    for (const x of m.self.importing) open.add(x.slot);
  }
  for (const list of stray.values()) for (const x of list) open.add(x.slot);
  for (const slot of [...open].sort((a, b) => a - b)) {
    const s = await takeSnapshot(o.conns, s0.seed);
    await fixSlot(s, slot, mo, act);
  }

  // 2. Uncovered slots: to the node holding their keys, else spread over the masters with fewest slots.
  const s1 = await takeSnapshot(o.conns, s0.seed);
  await fixCoverage(s1, mo, act);

  const snapshot = await takeSnapshot(o.conns, s0.seed);
  return { actions, keysBefore, keysAfter: mastersOf(snapshot).reduce((n, m) => n + m.keys, 0), check: checkCluster(snapshot), snapshot };
}

async function fixSlot(s0: Snapshot, slot: number, mo: MigrateOptions, act: (a: string) => void): Promise<void> {
  const counts = async (s: Snapshot): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    await Promise.all(mastersOf(s).map(async (m) => out.set(m.id, (await countKeys(mo.conns, m, [slot]))[0]!)));
    return out;
  };
  const owns = (m: NodeState): boolean => m.self.slots.some((r) => r.start <= slot && slot <= r.end);
  const isImporting = (m: NodeState): boolean => m.self.importing.some((x) => x.slot === slot);
  const isMigrating = (m: NodeState): boolean => m.self.migrating.some((x) => x.slot === slot);
  let keys = await counts(s0);
  const keysOn = (m: NodeState): number => keys.get(m.id) ?? 0;

  // Only nodes that claim the slot in their own config are owners. A node that merely holds keys
  // (say, the target of an interrupted move) is not: making it owner would bump its epoch while
  // the real owner still holds keys, and a node that loses a slot to a higher epoch deletes that
  // slot's keys unless it is importing it (cluster.c, clusterUpdateSlotsConfigWith: dirty slots).
  const configured = mastersOf(s0).filter(owns);
  let owner: NodeState;
  if (configured.length === 1) {
    owner = configured[0]!;
  } else {
    const pool = configured.length > 1 ? configured : mastersOf(s0);
    owner = [...pool].sort((a, b) => keysOn(b) - keysOn(a) || Number(isImporting(b) || isMigrating(b)) - Number(isImporting(a) || isMigrating(a)) || a.id.localeCompare(b.id))[0]!;
    // First shield every other holder's keys: other claimants give the slot up and import it from
    // the chosen owner in one pipeline (no gossip is processed in between); plain holders import it.
    for (const n of mastersOf(s0)) {
      if (n.id === owner.id) continue;
      if (owns(n)) {
        const res = await pipelined(mo.conns, n, (p) => {
          p.call('CLUSTER', 'DELSLOTS', String(slot));
          p.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', owner.id);
        });
        firstError(res, n, 'CLUSTER DELSLOTS + SETSLOT IMPORTING');
        act(`slot ${slot}: ${label(n)} also claimed it; it now imports it from ${label(owner)}, its keys to follow`);
      } else if (keysOn(n) > 0 && !isImporting(n)) {
        await setSlotsState(mo.conns, n, [slot], 'IMPORTING', owner.id);
      }
    }
    // Then claim (or re-assert) the slot for the owner with a new epoch.
    await claimSlots(mo, owner, [slot]);
    act(`slot ${slot}: ${configured.length === 0 ? 'no owner' : `${configured.length} owners`}, gave it to ${label(owner)} (${keysOn(owner)} keys there)`);
  }

  // Re-read: the states above changed.
  const s = await takeSnapshot(mo.conns, s0.seed);
  keys = await counts(s);
  const masters = mastersOf(s);
  const chosen = masters.find((m) => m.id === owner.id) ?? owner;
  const others = (...except: NodeState[]): NodeState[] => masters.filter((m) => !except.some((e) => e.id === m.id));
  const mig = masters.filter(isMigrating);
  const importing = masters.filter((m) => !isMigrating(m) && (isImporting(m) || (m.id !== chosen.id && keysOn(m) > 0)));
  // Holders of stray keys that are not importing yet must be, before anything moves (see above).
  for (const n of importing) if (!isImporting(n) && n.id !== chosen.id) await setSlotsState(mo.conns, n, [slot], 'IMPORTING', chosen.id);

  if (mig.length === 1 && importing.length === 1) {
    // Case 1: an interrupted move; finish it.
    const [src, dst] = [mig[0]!, importing[0]!];
    await setSlotsState(mo.conns, dst, [slot], 'IMPORTING', src.id);
    await setSlotsState(mo.conns, src, [slot], 'MIGRATING', dst.id);
    const moved = await migrateSlots(mo, src, dialable(src, dst), [slot]);
    await assignSlots(mo.conns, dst, src, others(src, dst), [slot]);
    act(`slot ${slot}: finished the move ${label(src)} -> ${label(dst)} (${moved} keys)`);
  } else if (mig.length === 0 && importing.length > 0) {
    // Case 2: keys sit on importing (or stray) nodes; move them to the owner and close.
    for (const n of importing) {
      if (n.id === chosen.id) continue;
      if (keysOn(n) > 0) {
        const moved = await migrateSlots(mo, n, dialable(n, chosen), [slot], true);
        act(`slot ${slot}: moved ${moved} keys from ${label(n)} to the owner ${label(chosen)}`);
      }
      await stabilize(mo.conns, n, [slot]);
    }
    await stabilize(mo.conns, chosen, [slot]);
    await assignSlots(mo.conns, chosen, undefined, others(chosen), [slot]);
    act(`slot ${slot}: closed, owner ${label(chosen)}`);
  } else if (mig.length === 1 && importing.length > 1) {
    // Case 3: one migrating, several importing without keys: finish towards the intended target.
    const src = mig[0]!;
    if (importing.some((n) => keysOn(n) > 0)) throw unhandled(slot, mig, importing, chosen);
    const to = src.self.migrating.find((x) => x.slot === slot)?.to;
    const dst = importing.find((n) => n.id === to);
    if (dst) {
      await setSlotsState(mo.conns, src, [slot], 'MIGRATING', dst.id);
      const moved = await migrateSlots(mo, src, dialable(src, dst), [slot]);
      await assignSlots(mo.conns, dst, src, others(src, dst), [slot]);
      for (const n of importing) if (n.id !== dst.id) await stabilize(mo.conns, n, [slot]);
      act(`slot ${slot}: finished the move ${label(src)} -> ${label(dst)} (${moved} keys), closed it elsewhere`);
    } else {
      for (const n of [src, ...importing]) await stabilize(mo.conns, n, [slot]);
      act(`slot ${slot}: closed on ${[src, ...importing].map(label).join(', ')}`);
    }
  } else if (mig.length === 1 && importing.length === 0) {
    // Case 4: migrating with nobody importing: safe to close if the keys are at the owner.
    const n = mig[0]!;
    if (n.id !== chosen.id && keysOn(n) > 0) throw unhandled(slot, mig, importing, chosen);
    await stabilize(mo.conns, n, [slot]);
    act(`slot ${slot}: closed on ${label(n)} (nothing was importing it)`);
  } else if (mig.length > 0) {
    throw unhandled(slot, mig, importing, chosen);
  }
}

function unhandled(slot: number, mig: NodeState[], imp: NodeState[], owner: NodeState): RctlError {
  return new RctlError('REFUSED', `Slot ${slot} is in a state rctl will not guess about: migrating on ${mig.map(label).join(', ') || 'none'}, importing on ${imp.map(label).join(', ') || 'none'}, owner ${label(owner)}.`, {
    hint: 'Inspect it with `rctl info` and CLUSTER COUNTKEYSINSLOT on each node; close it by hand with CLUSTER SETSLOT <slot> STABLE where no keys are at stake.',
  });
}

/** Take ownership of slots nobody (else) should own: clear their state, (re)add them, bump the epoch so the claim wins. */
async function claimSlots(mo: MigrateOptions, owner: NodeState, slots: readonly number[]): Promise<void> {
  const res = await pipelined(mo.conns, owner, (p) => {
    for (const s of slots) p.call('CLUSTER', 'SETSLOT', String(s), 'STABLE');
    for (const s of slots) p.call('CLUSTER', 'DELSLOTS', String(s));
    for (const r of rangesFromSlots(slots)) p.call('CLUSTER', 'ADDSLOTSRANGE', String(r.start), String(r.end));
    p.call('CLUSTER', 'BUMPEPOCH');
  });
  // DELSLOTS of a slot it does not have fails harmlessly; ADDSLOTSRANGE and BUMPEPOCH must work.
  firstError(res.slice(slots.length * 2), owner, 'CLUSTER ADDSLOTSRANGE/BUMPEPOCH');
}

async function fixCoverage(s: Snapshot, mo: MigrateOptions, act: (a: string) => void): Promise<void> {
  const masters = mastersOf(s);
  if (masters.length === 0) return;
  const covered = new Set<number>();
  for (const m of masters) for (const slot of slotsOf(m.self.slots)) covered.add(slot);
  const uncovered: number[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) if (!covered.has(i)) uncovered.push(i);
  if (uncovered.length === 0) return;
  const counts = new Map<string, number[]>();
  await Promise.all(masters.map(async (m) => counts.set(m.id, await countKeys(mo.conns, m, uncovered))));
  const slotCount = new Map(masters.map((m) => [m.id, countSlots(m.self.slots)]));
  const give = new Map<string, number[]>();
  const multi: { slot: number; holders: NodeState[] }[] = [];
  uncovered.forEach((slot, i) => {
    const holders = masters.filter((m) => counts.get(m.id)![i]! > 0);
    let to: NodeState;
    if (holders.length === 0) to = [...masters].sort((a, b) => slotCount.get(a.id)! - slotCount.get(b.id)! || a.id.localeCompare(b.id))[0]!;
    else {
      to = [...holders].sort((a, b) => counts.get(b.id)![i]! - counts.get(a.id)![i]! || a.id.localeCompare(b.id))[0]!;
      if (holders.length > 1) multi.push({ slot, holders: holders.filter((h) => h !== to) });
    }
    slotCount.set(to.id, slotCount.get(to.id)! + 1);
    give.set(to.id, [...(give.get(to.id) ?? []), slot]);
  });
  // Other holders import the slot from its new owner before the owner claims it (see fixSlot).
  for (const { slot, holders } of multi) {
    const owner = masters.find((m) => give.get(m.id)?.includes(slot))!;
    for (const h of holders) await setSlotsState(mo.conns, h, [slot], 'IMPORTING', owner.id);
  }
  for (const [id, slots] of give) {
    const owner = masters.find((m) => m.id === id)!;
    await claimSlots(mo, owner, slots);
    act(`uncovered slots ${formatRanges(rangesFromSlots(slots))} assigned to ${label(owner)}`);
  }
  for (const { slot, holders } of multi) {
    const owner = masters.find((m) => give.get(m.id)?.includes(slot))!;
    for (const h of holders) {
      const moved = await migrateSlots(mo, h, dialable(h, owner), [slot], true);
      await stabilize(mo.conns, h, [slot]);
      act(`slot ${slot}: moved ${moved} keys from ${label(h)} to its new owner ${label(owner)}`);
    }
  }
}
