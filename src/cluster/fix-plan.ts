import { addrKey, type NodeAddress } from '../redis/address.js';
import type { StrayKeys } from './check.js';
import type { SlotNode } from './slot-ops.js';
import { mastersOf, type NodeState, type Snapshot } from './snapshot.js';
import { countSlots, formatRanges, rangesFromSlots, SLOT_COUNT, slotsOf } from './slots.js';

/**
 * Pure decisions of `rctl fix` (redis-cli's `--cluster fix` cases): from a snapshot and per-node key
 * counts, the list of typed actions that repairs a slot. `fixCluster` reads, plans with these
 * functions, and applies the actions in order; nothing here talks to Redis.
 */
export type FixAction =
  /** Another claimant gives the slot up and imports it from the chosen owner, in one pipeline (DELSLOTS + SETSLOT IMPORTING). */
  | { readonly kind: 'release-and-import'; readonly node: SlotNode; readonly slot: number; readonly from: string }
  | { readonly kind: 'set-importing'; readonly node: SlotNode; readonly slot: number; readonly from: string }
  | { readonly kind: 'set-migrating'; readonly node: SlotNode; readonly slot: number; readonly to: string }
  /** SETSLOT STABLE + DELSLOTS + ADDSLOTSRANGE + BUMPEPOCH on the node: its claim wins by epoch. */
  | { readonly kind: 'claim'; readonly node: SlotNode; readonly slots: readonly number[] }
  /** Move every key of the slot; `target` is the receiver as `from` dials it; `asking` when `from` does not own the slot. */
  | { readonly kind: 'migrate'; readonly from: SlotNode; readonly target: NodeAddress; readonly slot: number; readonly asking: boolean }
  /** SETSLOT NODE: owner first, then the previous owner, then every other master. */
  | { readonly kind: 'assign'; readonly owner: SlotNode; readonly previous: SlotNode | undefined; readonly others: readonly SlotNode[]; readonly slot: number }
  | { readonly kind: 'stabilize'; readonly node: SlotNode; readonly slot: number }
  /** A line for the user; `{moved}` stands for the key count of the last `migrate` before it. */
  | { readonly kind: 'note'; readonly text: string }
  /** A state rctl will not guess about: stop here (labels are host:port). */
  | { readonly kind: 'refuse'; readonly slot: number; readonly migrating: readonly string[]; readonly importing: readonly string[]; readonly owner: string };

/** Key counts of one slot, by node id (masters absent from the map hold none). */
export type SlotKeys = ReadonlyMap<string, number>;

const label = (n: SlotNode): string => addrKey(n.addr);
const ref = (n: NodeState): SlotNode => ({ id: n.id, addr: n.addr });

/** The address of `to` as `from` dials it (what MIGRATE needs): `from`'s own view, else rctl's address. */
export function dialable(from: NodeState, to: NodeState): NodeAddress {
  const l = from.view.find((x) => x.id === to.id);
  return l && l.host ? { host: l.host, port: l.port } : to.addr;
}

const owns = (m: NodeState, slot: number): boolean => m.self.slots.some((r) => r.start <= slot && slot <= r.end);
const isImporting = (m: NodeState, slot: number): boolean => m.self.importing.some((x) => x.slot === slot);
const isMigrating = (m: NodeState, slot: number): boolean => m.self.migrating.some((x) => x.slot === slot);

/**
 * Slots to repair one by one: open on some master (migrating or importing), or holding keys on a
 * master that does not own them (`stray`, by node address), ascending.
 */
export function slotsToRepair(s: Snapshot, stray: StrayKeys): number[] {
  const open = new Set<number>(disputedSlots(s));
  for (const m of mastersOf(s)) {
    for (const x of m.self.migrating) open.add(x.slot);
    for (const x of m.self.importing) open.add(x.slot);
  }
  for (const list of stray.values()) for (const x of list) open.add(x.slot);
  return [...open].sort((a, b) => a - b);
}

/**
 * Slots whose owner the nodes disagree about: two masters claim one in their own config, or two
 * nodes' views name different owners. Gossip settles such a dispute only when one claim carries a
 * higher config epoch than every other (cluster.c, clusterUpdateSlotsConfigWith); after operations
 * that raced without the lease, the claim everyone should take may carry the lower epoch, and then
 * the views stay apart for good. Fix settles them as it settles multiple owners: one owner, chosen
 * by where the keys are, claims the slot with a new epoch.
 */
export function disputedSlots(s: Snapshot): number[] {
  const ids = new Map<string, number>();
  const owner = new Int32Array(SLOT_COUNT).fill(-1);
  const disputed = new Set<number>();
  for (const n of s.nodes) {
    for (const l of n.view) {
      if (l.slots.length === 0 || !l.flags.includes('master')) continue;
      let id = ids.get(l.id);
      if (id === undefined) ids.set(l.id, (id = ids.size));
      for (const r of l.slots) {
        for (let slot = r.start; slot <= r.end; slot++) {
          const o = owner[slot]!;
          if (o === -1) owner[slot] = id;
          else if (o !== id) disputed.add(slot);
        }
      }
    }
  }
  return [...disputed].sort((a, b) => a - b);
}

/**
 * Step 1 for one slot: who owns it. Only nodes that claim the slot in their own config are owners.
 * A node that merely holds keys (say, the target of an interrupted move) is not: making it owner
 * would bump its epoch while the real owner still holds keys, and a node that loses a slot to a
 * higher epoch deletes that slot's keys unless it is importing it (cluster.c,
 * clusterUpdateSlotsConfigWith: dirty slots). With no owner or several, the master with most keys
 * wins (then one where the slot is open, then the lowest id); every other holder's keys are
 * shielded first (other claimants give the slot up and import it, plain holders import it), then
 * the owner claims it with a new epoch.
 */
export function planSlotOwner(s: Snapshot, slot: number, keys: SlotKeys, disputed = false): { owner: NodeState; actions: FixAction[] } {
  const masters = mastersOf(s);
  const keysOn = (m: NodeState): number => keys.get(m.id) ?? 0;
  const open = (m: NodeState): number => Number(isImporting(m, slot) || isMigrating(m, slot));
  const configured = masters.filter((m) => owns(m, slot));
  // One claimant that the others do not believe (a disputed slot) must claim it again, with a new epoch.
  if (configured.length === 1 && !disputed) return { owner: configured[0]!, actions: [] };
  const pool = configured.length > 1 ? configured : masters;
  const owner = [...pool].sort((a, b) => keysOn(b) - keysOn(a) || open(b) - open(a) || a.id.localeCompare(b.id))[0];
  if (!owner) throw new Error(`no master to own slot ${slot}`);
  const actions: FixAction[] = [];
  for (const n of masters) {
    if (n.id === owner.id) continue;
    if (owns(n, slot)) {
      actions.push({ kind: 'release-and-import', node: ref(n), slot, from: owner.id });
      actions.push({ kind: 'note', text: `slot ${slot}: ${label(n)} also claimed it; it now imports it from ${label(owner)}, its keys to follow` });
    } else if (keysOn(n) > 0 && !isImporting(n, slot)) {
      actions.push({ kind: 'set-importing', node: ref(n), slot, from: owner.id });
    }
  }
  actions.push({ kind: 'claim', node: ref(owner), slots: [slot] });
  const why = configured.length === 0 ? 'no owner' : configured.length === 1 ? 'nodes disagreed about its owner' : `${configured.length} owners`;
  actions.push({ kind: 'note', text: `slot ${slot}: ${why}, gave it to ${label(owner)} (${keysOn(owner)} keys there)` });
  return { owner, actions };
}

/**
 * Step 2 for one slot, on a fresh snapshot and key counts taken after step 1: close it.
 * 1. migrating on one node, importing on another: finish the move;
 * 2. importing only (or keys on non-owners): move the keys to the owner, close;
 * 3. migrating on one, importing on several without keys: finish towards the intended target, close elsewhere;
 * 4. migrating with nobody importing: close, if the keys are at the owner.
 * Anything else (keys where rctl would have to guess) ends with a `refuse` action.
 * `owner` comes from step 1; if it is no longer a master in `s`, the step-1 reading is used.
 */
export function planSlotClose(s: Snapshot, slot: number, keys: SlotKeys, owner: NodeState): FixAction[] {
  const masters = mastersOf(s);
  const keysOn = (m: NodeState): number => keys.get(m.id) ?? 0;
  const chosen = masters.find((m) => m.id === owner.id) ?? owner;
  const others = (...except: NodeState[]): SlotNode[] => masters.filter((m) => !except.some((e) => e.id === m.id)).map(ref);
  const mig = masters.filter((m) => isMigrating(m, slot));
  const importing = masters.filter((m) => !isMigrating(m, slot) && (isImporting(m, slot) || (m.id !== chosen.id && keysOn(m) > 0)));
  const refuse = (): FixAction => ({ kind: 'refuse', slot, migrating: mig.map((m) => label(m)), importing: importing.map((m) => label(m)), owner: label(chosen) });
  const actions: FixAction[] = [];
  // Holders of stray keys that are not importing yet must be, before anything moves (see planSlotOwner).
  for (const n of importing) if (!isImporting(n, slot) && n.id !== chosen.id) actions.push({ kind: 'set-importing', node: ref(n), slot, from: chosen.id });

  if (mig.length === 1 && importing.length === 1) {
    // Case 1: an interrupted move; finish it.
    const [src, dst] = [mig[0]!, importing[0]!];
    actions.push(
      { kind: 'set-importing', node: ref(dst), slot, from: src.id },
      { kind: 'set-migrating', node: ref(src), slot, to: dst.id },
      { kind: 'migrate', from: ref(src), target: dialable(src, dst), slot, asking: false },
      { kind: 'assign', owner: ref(dst), previous: ref(src), others: others(src, dst), slot },
      { kind: 'note', text: `slot ${slot}: finished the move ${label(src)} -> ${label(dst)} ({moved} keys)` },
    );
  } else if (mig.length === 0 && importing.length > 0) {
    // Case 2: keys sit on importing (or stray) nodes; move them to the owner and close.
    for (const n of importing) {
      if (n.id === chosen.id) continue;
      if (keysOn(n) > 0) {
        actions.push(
          { kind: 'migrate', from: ref(n), target: dialable(n, chosen), slot, asking: true },
          { kind: 'note', text: `slot ${slot}: moved {moved} keys from ${label(n)} to the owner ${label(chosen)}` },
        );
      }
      actions.push({ kind: 'stabilize', node: ref(n), slot });
    }
    actions.push(
      { kind: 'stabilize', node: ref(chosen), slot },
      { kind: 'assign', owner: ref(chosen), previous: undefined, others: others(chosen), slot },
      { kind: 'note', text: `slot ${slot}: closed, owner ${label(chosen)}` },
    );
  } else if (mig.length === 1 && importing.length > 1) {
    // Case 3: one migrating, several importing without keys: finish towards the intended target.
    const src = mig[0]!;
    if (importing.some((n) => keysOn(n) > 0)) return [...actions, refuse()];
    const to = src.self.migrating.find((x) => x.slot === slot)?.to;
    const dst = importing.find((n) => n.id === to);
    if (dst) {
      actions.push(
        { kind: 'set-migrating', node: ref(src), slot, to: dst.id },
        { kind: 'migrate', from: ref(src), target: dialable(src, dst), slot, asking: false },
        { kind: 'assign', owner: ref(dst), previous: ref(src), others: others(src, dst), slot },
        ...importing.filter((n) => n.id !== dst.id).map((n): FixAction => ({ kind: 'stabilize', node: ref(n), slot })),
        { kind: 'note', text: `slot ${slot}: finished the move ${label(src)} -> ${label(dst)} ({moved} keys), closed it elsewhere` },
      );
    } else {
      actions.push(
        ...[src, ...importing].map((n): FixAction => ({ kind: 'stabilize', node: ref(n), slot })),
        { kind: 'note', text: `slot ${slot}: closed on ${[src, ...importing].map((n) => label(n)).join(', ')}` },
      );
    }
  } else if (mig.length === 1 && importing.length === 0) {
    // Case 4: migrating with nobody importing: safe to close if the keys are at the owner.
    const n = mig[0]!;
    if (n.id !== chosen.id && keysOn(n) > 0) return [...actions, refuse()];
    actions.push({ kind: 'stabilize', node: ref(n), slot }, { kind: 'note', text: `slot ${slot}: closed on ${label(n)} (nothing was importing it)` });
  } else if (mig.length > 0) {
    actions.push(refuse());
  }
  return actions;
}

/** Slots no master claims in its own config, ascending. */
export function uncoveredSlots(s: Snapshot): number[] {
  const covered = new Set<number>();
  for (const m of mastersOf(s)) for (const slot of slotsOf(m.self.slots)) covered.add(slot);
  const out: number[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) if (!covered.has(i)) out.push(i);
  return out;
}

/**
 * Uncovered slots: each goes to the master holding most of its keys (then lowest id), or, without
 * keys anywhere, to the master with fewest slots so far (then lowest id). Other holders import the
 * slot from its new owner before the owner claims it (see planSlotOwner), then their keys move.
 * `counts`: per master id, the key count of each slot of `uncovered`, in that order.
 */
export function planCoverage(s: Snapshot, uncovered: readonly number[], counts: ReadonlyMap<string, readonly number[]>): FixAction[] {
  const masters = mastersOf(s);
  if (masters.length === 0 || uncovered.length === 0) return [];
  const count = (m: NodeState, i: number): number => counts.get(m.id)?.[i] ?? 0;
  const slotCount = new Map(masters.map((m) => [m.id, countSlots(m.self.slots)]));
  const give = new Map<string, number[]>();
  const multi: { slot: number; owner: NodeState; holders: NodeState[] }[] = [];
  uncovered.forEach((slot, i) => {
    const holders = masters.filter((m) => count(m, i) > 0);
    let to: NodeState;
    if (holders.length === 0) to = [...masters].sort((a, b) => slotCount.get(a.id)! - slotCount.get(b.id)! || a.id.localeCompare(b.id))[0]!;
    else {
      to = [...holders].sort((a, b) => count(b, i) - count(a, i) || a.id.localeCompare(b.id))[0]!;
      if (holders.length > 1) multi.push({ slot, owner: to, holders: holders.filter((h) => h.id !== to.id) });
    }
    slotCount.set(to.id, slotCount.get(to.id)! + 1);
    give.set(to.id, [...(give.get(to.id) ?? []), slot]);
  });
  const actions: FixAction[] = [];
  for (const { slot, owner, holders } of multi) for (const h of holders) actions.push({ kind: 'set-importing', node: ref(h), slot, from: owner.id });
  for (const [id, slots] of give) {
    const owner = masters.find((m) => m.id === id)!;
    actions.push({ kind: 'claim', node: ref(owner), slots }, { kind: 'note', text: `uncovered slots ${formatRanges(rangesFromSlots(slots))} assigned to ${label(owner)}` });
  }
  for (const { slot, owner, holders } of multi) {
    for (const h of holders) {
      actions.push(
        { kind: 'migrate', from: ref(h), target: dialable(h, owner), slot, asking: true },
        { kind: 'stabilize', node: ref(h), slot },
        { kind: 'note', text: `slot ${slot}: moved {moved} keys from ${label(h)} to its new owner ${label(owner)}` },
      );
    }
  }
  return actions;
}
