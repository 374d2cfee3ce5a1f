import { addrKey } from '../redis/address.js';
import { isFailing, isGhost, isMaster, type NodeLine } from './cluster-nodes.js';
import { mastersOf, ownershipOf, replicasOf, slotSignature, type NodeState, type Snapshot } from './snapshot.js';
import { formatRanges, rangesFromSlots, SLOT_COUNT, slotsOf, type SlotRange } from './slots.js';

export type Severity = 'problem' | 'warning';

export interface Finding {
  readonly severity: Severity;
  readonly code:
    | 'NODE_UNREACHABLE'
    | 'NODE_LOADING'
    | 'CONFIG_DISAGREEMENT'
    | 'ROLE_DISAGREEMENT'
    | 'MEMBERSHIP_DISAGREEMENT'
    | 'OPEN_SLOT'
    | 'SLOTS_UNCOVERED'
    | 'NODE_FAILING'
    | 'STATE_NOT_OK'
    | 'REPLICA_LINK_DOWN'
    | 'MISSING_REPLICAS'
    | 'NO_REPLICAS'
    | 'MULTIPLE_OWNERS'
    | 'SLOT_CLAIMED_TWICE'
    | 'REPLICA_DIVERGED'
    | 'KEYS_DROPPED';
  readonly message: string;
  /** Nodes involved, as host:port. */
  readonly nodes: readonly string[];
  readonly slots?: readonly SlotRange[];
  /** The command that repairs it. */
  readonly fix?: string;
}

export interface CheckExpectations {
  /** Replicas every master should have (known when rctl created the cluster or --replicas is given). */
  readonly replicasPerMaster?: number | undefined;
  /**
   * Keys on all masters before the operation whose result is being judged, and how many of them
   * had a TTL: fewer keys afterwards than could have expired is loss (or deletes by clients).
   */
  readonly keysBefore?: { readonly keys: number; readonly expires: number } | undefined;
  /** Keys rctl itself keeps while it runs (its lease), left out of key counts. */
  readonly ownKeys?: number | undefined;
  /** The user said clients delete keys meanwhile (--expect-deletes): a drop is a warning. */
  readonly deletesExpected?: boolean | undefined;
}

/** Per node: slots it holds keys for but does not own (gathered by the caller; see countKeysInUnownedSlots). */
export type StrayKeys = ReadonlyMap<string, readonly { slot: number; keys: number }[]>;

export interface CheckResult {
  readonly healthy: boolean;
  readonly findings: readonly Finding[];
  /** Each check that ran and whether it passed, for the checklist view. */
  readonly checklist: readonly { name: string; ok: boolean }[];
}

const label = (n: NodeState): string => `${addrKey(n.addr)} (${n.id.slice(0, 8)})`;

/**
 * Nodes grouped by their view of slot ownership (slotSignature), in order of first appearance.
 * Most views equal the first one: those are recognised line by line against it (parsed slot lists
 * are shared between views, see LineCache, so this is mostly identity comparisons) instead of
 * building and sorting a signature of every view (N views of N/2 masters).
 */
function viewsBySlotOwnership(nodes: readonly NodeState[]): Map<string, NodeState[]> {
  const sigs = new Map<string, NodeState[]>();
  const first = nodes[0];
  if (!first) return sigs;
  const reference = new Map<string, string>();
  for (const l of first.view) {
    const part = ownershipOf(l);
    if (part !== undefined) reference.set(l.id, part);
  }
  const sameAsFirst = (view: readonly NodeLine[]): boolean => {
    let owners = 0;
    for (const l of view) {
      const part = ownershipOf(l);
      if (part === undefined) continue;
      if (reference.get(l.id) !== part) return false;
      owners++;
    }
    return owners === reference.size;
  };
  const firstSig = slotSignature(first.view);
  for (const n of nodes) {
    const sig = n === first || sameAsFirst(n.view) ? firstSig : slotSignature(n.view);
    const same = sigs.get(sig);
    if (same) same.push(n);
    else sigs.set(sig, [n]);
  }
  return sigs;
}

/**
 * Everything `redis-cli --cluster check` flags (disagreement, open slots, uncovered slots, and with
 * --cluster-search-multiple-owners stray keys), plus what it does not look at: unreachable and failing
 * nodes, cluster_state, replica links and expected replica counts. Pure: works on a snapshot.
 */
export function checkCluster(s: Snapshot, expect: CheckExpectations = {}, stray?: StrayKeys): CheckResult {
  const findings: Finding[] = [];
  const checklist: { name: string; ok: boolean }[] = [];
  const step = (name: string, f: Finding[]): void => {
    checklist.push({ name, ok: f.every((x) => x.severity !== 'problem') });
    findings.push(...f);
  };
  const at = (id: string): string => {
    const n = s.nodes.find((x) => x.id === id);
    return n ? addrKey(n.addr) : id.slice(0, 8);
  };

  step(
    'every node reachable',
    s.unreachable.map((u) =>
      // A replica loading its first full sync answers LOADING: it is there, just busy.
      /LOADING|loading its dataset/.test(u.error)
        ? {
            severity: 'problem' as const,
            code: 'NODE_LOADING' as const,
            message: `Node ${addrKey(u.addr)}${u.id ? ` (${u.id.slice(0, 8)})` : ''} is loading its dataset.`,
            nodes: [addrKey(u.addr)],
            fix: 'Wait for it to finish loading (a full sync or a restart).',
          }
        : {
            severity: 'problem' as const,
            code: 'NODE_UNREACHABLE' as const,
            message: `Node ${addrKey(u.addr)}${u.id ? ` (${u.id.slice(0, 8)})` : ''} is known to the cluster but cannot be reached: ${u.error}`,
            nodes: [addrKey(u.addr)],
            fix: 'Start the node again, or remove it with `rctl del-node <id>` if it is gone for good.',
          },
    ),
  );

  // Agreement: every node's view of slot ownership, of membership and of roles.
  const sigs = viewsBySlotOwnership(s.nodes);
  step(
    'all nodes agree about slots',
    sigs.size > 1
      ? [
          {
            severity: 'problem',
            code: 'CONFIG_DISAGREEMENT',
            message: `Nodes don't agree about slot ownership (${sigs.size} different views: ${[...sigs.values()].map((g) => g.map((n) => addrKey(n.addr)).join('+')).join(' vs ')}).`,
            nodes: s.nodes.map((n) => addrKey(n.addr)),
            fix: 'Usually transient right after a change; run `rctl check` again. If it persists, `rctl fix`.',
          },
        ]
      : [],
  );
  const ids = new Set(s.nodes.map((n) => n.id));
  for (const u of s.unreachable) if (u.id) ids.add(u.id);
  // Reachable nodes by id, with their position: findings keep the order of s.nodes.
  const index = new Map<string, number>();
  s.nodes.forEach((n, i) => index.set(n.id, i));
  const membership: Finding[] = [];
  const roles: Finding[] = [];
  // Who flags whom as failing, in the order of the views (used by the fail/pfail step below).
  const flagged = new Map<string, string[]>();
  // One pass over each view (N views of N lines: 40,000 lines on 200 nodes), one map lookup per line.
  for (const n of s.nodes) {
    let known = 0;
    const mismatched: { at: number; seen: NodeLine }[] = [];
    for (const l of n.view) {
      if (isFailing(l)) flagged.set(l.id, [...(flagged.get(l.id) ?? []), `${addrKey(n.addr)} says ${l.flags.includes('fail') ? 'fail' : 'pfail'}`]);
      if (!isGhost(l) && ids.has(l.id)) known++;
      const i = index.get(l.id);
      if (i === undefined || l.id === n.id) continue;
      const other = s.nodes[i]!;
      const seenRole = isMaster(l) ? 'master' : 'replica';
      if (seenRole !== other.role || (other.role === 'replica' && l.masterId !== other.self.masterId)) mismatched.push({ at: i, seen: l });
    }
    if (known < ids.size) {
      const inView = new Set(n.view.filter((l) => !isGhost(l)).map((l) => l.id));
      const missing = [...ids].filter((id) => !inView.has(id));
      membership.push({
        severity: 'problem',
        code: 'MEMBERSHIP_DISAGREEMENT',
        message: `${label(n)} does not know ${missing.map(at).join(', ')}.`,
        nodes: [addrKey(n.addr)],
        fix: 'Wait a moment and check again; if it persists, `rctl fix` re-introduces the nodes (CLUSTER MEET).',
      });
    }
    for (const { at: i, seen } of mismatched.sort((a, b) => a.at - b.at)) {
      const other = s.nodes[i]!;
      const seenRole = isMaster(seen) ? 'master' : 'replica';
      roles.push({
        severity: 'problem',
        code: 'ROLE_DISAGREEMENT',
        message: `${label(n)} thinks ${label(other)} is a ${seenRole}${seen.masterId ? ` of ${at(seen.masterId)}` : ''}, but it is a ${other.role}${other.self.masterId ? ` of ${at(other.self.masterId)}` : ''}.`,
        nodes: [addrKey(n.addr), addrKey(other.addr)],
        fix: 'Usually transient after a failover or replica change; run `rctl check` again in a second.',
      });
    }
  }
  step('all nodes know each other', membership);
  step('all nodes agree about roles', roles);

  const open: Finding[] = [];
  for (const n of s.nodes) {
    for (const m of n.self.migrating)
      open.push({
        severity: 'problem',
        code: 'OPEN_SLOT',
        message: `Slot ${m.slot} is migrating on ${label(n)} to ${at(m.to)}.`,
        nodes: [addrKey(n.addr)],
        slots: [{ start: m.slot, end: m.slot }],
        fix: '`rctl fix` finishes or closes the migration without losing keys.',
      });
    for (const m of n.self.importing)
      open.push({
        severity: 'problem',
        code: 'OPEN_SLOT',
        message: `Slot ${m.slot} is importing on ${label(n)} from ${at(m.from)}.`,
        nodes: [addrKey(n.addr)],
        slots: [{ start: m.slot, end: m.slot }],
        fix: '`rctl fix` finishes or closes the migration without losing keys.',
      });
  }
  step('no open slots', open);

  // Coverage as the union of what the masters claim for themselves (redis-cli's view too).
  const covered = new Uint8Array(SLOT_COUNT);
  for (const m of mastersOf(s)) for (const r of m.self.slots) covered.fill(1, r.start, r.end + 1);
  const uncovered: number[] = [];
  for (let i = 0; i < SLOT_COUNT; i++) if (!covered[i]) uncovered.push(i);
  const uncoveredRanges = rangesFromSlots(uncovered);
  step(
    `all ${SLOT_COUNT} slots covered`,
    uncovered.length > 0
      ? [
          {
            severity: 'problem',
            code: 'SLOTS_UNCOVERED',
            message: `${uncovered.length} slot(s) have no owner among reachable masters: ${formatRanges(uncoveredRanges)}.`,
            nodes: [],
            slots: uncoveredRanges,
            fix: '`rctl fix` assigns them (to the node holding their keys, else to a master).',
          },
        ]
      : [],
  );

  const failing: Finding[] = [];
  for (const [id, who] of flagged)
    failing.push({
      severity: 'problem',
      code: 'NODE_FAILING',
      message: `Node ${at(id)} is flagged as failing (${who.join('; ')}).`,
      nodes: [at(id)],
      fix: 'Bring the node back; once it answers again its flag clears. If it is gone for good, `rctl del-node`.',
    });
  step('no node in fail/pfail', failing);

  step(
    'cluster_state ok on every node',
    s.nodes
      .filter((n) => n.clusterState !== 'ok')
      .map((n) => ({
        severity: 'problem' as const,
        code: 'STATE_NOT_OK' as const,
        message: `${label(n)} reports cluster_state:${n.clusterState}.`,
        nodes: [addrKey(n.addr)],
        fix: 'Look at the other findings: uncovered slots or failing masters cause this.',
      })),
  );

  const links: Finding[] = [];
  for (const n of s.nodes)
    if (n.role === 'replica' && n.masterLinkStatus !== 'up')
      links.push({
        severity: 'problem',
        code: 'REPLICA_LINK_DOWN',
        message: `Replica ${label(n)} has master_link_status:${n.masterLinkStatus ?? 'unknown'} (master ${n.self.masterId ? at(n.self.masterId) : '?'}): it cannot be promoted until it has synced.`,
        nodes: [addrKey(n.addr)],
        fix: 'Wait for its first sync; if it stays down check the master is reachable and masterauth is set.',
      });
  step('every replica linked to its master', links);

  const reps: Finding[] = [];
  for (const m of mastersOf(s)) {
    if (m.self.slots.length === 0) continue;
    const count = replicasOf(s, m.id).length;
    if (expect.replicasPerMaster !== undefined && count < expect.replicasPerMaster)
      reps.push({
        severity: 'problem',
        code: 'MISSING_REPLICAS',
        message: `Master ${label(m)} has ${count} replica(s), expected ${expect.replicasPerMaster}.`,
        nodes: [addrKey(m.addr)],
        fix: '`rctl add-node --replica-of <master-id>` adds one.',
      });
    else if (expect.replicasPerMaster === undefined && count === 0 && s.nodes.some((n) => n.role === 'replica'))
      reps.push({
        severity: 'warning',
        code: 'NO_REPLICAS',
        message: `Master ${label(m)} has no replica: losing it loses slots ${formatRanges(m.self.slots)}.`,
        nodes: [addrKey(m.addr)],
        fix: '`rctl add-node --replica-of <master-id>` adds one.',
      });
  }
  step('every master has its replicas', reps);

  // Two masters that each list a slot as their own in their own line: the one with the lower
  // epoch will drop the slot, and its keys of that slot with it, when it hears of the other.
  const claims = new Map<number, NodeState[]>();
  for (const m of mastersOf(s))
    for (const slot of slotsOf(m.self.slots)) {
      const who = claims.get(slot);
      if (who) who.push(m);
      else claims.set(slot, [m]);
    }
  const twice = new Map<string, number[]>();
  for (const [slot, who] of claims) if (who.length > 1) {
    const k = who.map((n) => n.id).sort().join(',');
    twice.set(k, [...(twice.get(k) ?? []), slot]);
  }
  step(
    'every slot claimed by one master',
    [...twice].map(([k, slots]) => {
      const who = k.split(',').map((id) => s.nodes.find((n) => n.id === id)!);
      const ranges = rangesFromSlots(slots);
      return {
        severity: 'problem' as const,
        code: 'SLOT_CLAIMED_TWICE' as const,
        message: `${who.map(label).join(' and ')} each claim slot(s) ${formatRanges(ranges)}; the one with the lower config epoch deletes its keys of those slots when it hears of the other.`,
        nodes: who.map((n) => addrKey(n.addr)),
        slots: ranges,
        fix: 'Run `rctl fix` now: it moves the keys to one owner before anyone drops them.',
      };
    }),
  );

  // A replica in sync (same replication offset) holding a different number of keys than its master
  // means the two datasets differ: keys readable on the replica are missing on the master.
  const diverged: Finding[] = [];
  for (const r of s.nodes) {
    if (r.role !== 'replica' || !r.self.masterId || r.masterLinkStatus !== 'up') continue;
    const m = s.nodes.find((n) => n.id === r.self.masterId);
    if (!m || m.replOffset === undefined || r.replOffset !== m.replOffset || m.keys === r.keys) continue;
    diverged.push({
      severity: 'problem',
      code: 'REPLICA_DIVERGED',
      message: `Replica ${label(r)} holds ${r.keys} key(s) and its master ${label(m)} ${m.keys}, at the same replication offset${r.keys > m.keys ? `: ${r.keys - m.keys} key(s) readable on the replica are missing on the master` : ''}.`,
      nodes: [addrKey(r.addr), addrKey(m.addr)],
      fix: r.keys > m.keys ? `Copy the missing keys back from the replica before anything else, e.g. promote it with \`rctl failover ${r.id.slice(0, 8)}\`.` : 'Resync the replica: `rctl replica attach` it again.',
    });
  }
  step('replicas hold what their masters hold', diverged);

  if (expect.keysBefore) {
    const now = mastersOf(s).reduce((n, m) => n + m.keys, 0) - (expect.ownKeys ?? 0);
    const before = expect.keysBefore;
    const dropped = before.keys - now;
    step(
      'no keys lost during the operation',
      dropped > 0
        ? [
            {
              severity: dropped > before.expires && !expect.deletesExpected ? ('problem' as const) : ('warning' as const),
              code: 'KEYS_DROPPED' as const,
              message: `The masters hold ${now} key(s), ${dropped} fewer than the ${before.keys} before the operation${dropped > before.expires ? ` (more than the ${before.expires} that had a TTL: deleted by clients, or lost)` : ` (at most ${before.expires} had a TTL and may have expired)`}.`,
              nodes: [],
              fix: 'If no client deleted keys meanwhile, keys were lost: stop changing the cluster and compare with your source of truth; `rctl check` shows whether replicas still hold them (REPLICA_DIVERGED).',
            },
          ]
        : [],
    );
  }

  if (stray) {
    const owners: Finding[] = [];
    for (const [key, list] of stray) {
      if (list.length === 0) continue;
      const ranges = rangesFromSlots(list.map((x) => x.slot));
      owners.push({
        severity: 'problem',
        code: 'MULTIPLE_OWNERS',
        message: `${key} holds ${list.reduce((a, x) => a + x.keys, 0)} key(s) in ${list.length} slot(s) it does not own: ${formatRanges(ranges)}.`,
        nodes: [key],
        slots: ranges,
        fix: '`rctl fix` moves those keys to the slot owner.',
      });
    }
    step('no keys outside their owner', owners);
  }

  return { healthy: findings.every((f) => f.severity !== 'problem'), findings, checklist };
}
