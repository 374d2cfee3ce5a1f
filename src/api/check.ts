import { checkCluster, type CheckResult, type Finding } from '../cluster/check.js';
import { fixCluster } from '../cluster/fix.js';
import { readLease, type LeaseInfo } from '../cluster/lease.js';
import { settledVerdict, waitSettled } from '../cluster/ready.js';
import { mastersOf, type Snapshot } from '../cluster/snapshot.js';
import { findStrayKeys } from '../cluster/stray-keys.js';
import { RctlError } from '../errors.js';
import type { NodeAddress } from '../redis/address.js';
import type { HandleCore } from './handle-core.js';
import { confirmed, type OperationOptions } from './operation.js';

export interface CheckReport {
  readonly healthy: boolean;
  readonly fingerprint: string;
  readonly checklist: CheckResult['checklist'];
  readonly findings: readonly Finding[];
  /** The operation changing the cluster right now, if any (it explains transient findings). */
  readonly lease: Pick<LeaseInfo, 'op' | 'user' | 'host' | 'pid' | 'since' | 'expiresInMs'> | null;
  readonly snapshot: Snapshot;
  readonly check: CheckResult;
}

/** The same findings as `rctl check`: read-only, never takes the lease (it shows who holds it). */
export async function checkUseCase(core: HandleCore, o: { replicas?: number | undefined } = {}): Promise<CheckReport> {
  const snapshot = await core.snapshot();
  const [stray, lease] = await Promise.all([findStrayKeys(core.conns, snapshot), readLease(core.conns, snapshot).catch(() => undefined)]);
  const expected = o.replicas ?? core.target.record?.replicasPerMaster;
  const check = checkCluster(snapshot, { replicasPerMaster: expected }, stray);
  return {
    healthy: check.healthy,
    fingerprint: snapshot.fingerprint,
    checklist: check.checklist,
    findings: check.findings,
    lease: lease ? { op: lease.op, user: lease.user, host: lease.host, pid: lease.pid, since: lease.since, expiresInMs: lease.expiresInMs } : null,
    snapshot,
    check,
  };
}

export interface FixOptions extends OperationOptions {
  /** Keys per MIGRATE (default 1000). */
  readonly pipeline?: number | undefined;
  /** MIGRATE timeout in ms (default 60000). */
  readonly timeoutMs?: number | undefined;
  /** Overwrite keys that already exist on the receiving node. */
  readonly replace?: boolean | undefined;
}

export interface FixReport {
  /** What was done, one line per action; empty when there was nothing to repair. */
  readonly actions: readonly string[];
  /** What needed repair before (OPEN_SLOT, SLOTS_UNCOVERED, MULTIPLE_OWNERS findings). */
  readonly repairable: readonly Finding[];
  readonly keysBefore: number | undefined;
  readonly keysAfter: number | undefined;
  readonly healthy: boolean;
  readonly findings: readonly Finding[];
  readonly snapshot: Snapshot;
  readonly check: CheckResult;
}

const REPAIRABLE = new Set(['OPEN_SLOT', 'SLOTS_UNCOVERED', 'MULTIPLE_OWNERS', 'CONFIG_DISAGREEMENT', 'SLOT_CLAIMED_TWICE']);

/** Disputes about slot owners: what fix settles (planSlotOwner), so fix does not wait for them to go away. */
const DISPUTES = new Set(['CONFIG_DISAGREEMENT', 'SLOT_CLAIMED_TWICE']);
const NOT_YET = new Set(['MEMBERSHIP_DISAGREEMENT', 'ROLE_DISAGREEMENT', 'NODE_LOADING']);

/**
 * Fix reads the cluster once gossip has settled (bounded). A dispute about slot owners that does not
 * settle by itself (claims whose epochs point the wrong way, after operations raced without the
 * lease) is exactly what fix repairs: after the bound, go ahead on it rather than give up.
 */
async function settledOrDisputed(core: HandleCore, seed: NodeAddress, o: OperationOptions): Promise<Snapshot> {
  try {
    return await waitSettled(core.conns, seed, { signal: o.signal });
  } catch (err) {
    if (!(err instanceof RctlError) || err.code !== 'TIMEOUT') throw err;
    const s = await core.snapshot();
    const findings = checkCluster(s).findings;
    // Only a dispute about owners is repaired here; members or roles still changing are waited out.
    if (!findings.some((f) => DISPUTES.has(f.code)) || findings.some((f) => NOT_YET.has(f.code))) throw err;
    o.onEvent?.({ type: 'note', message: `the nodes still disagree about slot owners after ${Math.round(Number(err.details?.['timeoutMs'] ?? 0) / 1000)} s: settling that is part of the repair` });
    return s;
  }
}

/**
 * Repair open slots, uncovered slots and multiple owners without losing keys, then judge the
 * cluster once what the repair changed has settled (bounded): the verdict is on what is still wrong.
 */
export async function fixUseCase(core: HandleCore, o: FixOptions = {}): Promise<FixReport> {
  // A repair must run even when the lease's own slot is not served (it may be what needs fixing).
  return core.exclusive('fix', o, { allowUnserved: true }, async (first, lease) => {
    const snapshot = await settledOrDisputed(core, first.seed, o);
    const stray = await findStrayKeys(core.conns, snapshot);
    const before = checkCluster(snapshot, {}, stray);
    const repairable = before.findings.filter((f) => REPAIRABLE.has(f.code));
    if (repairable.length === 0) {
      return { actions: [], repairable, keysBefore: undefined, keysAfter: undefined, healthy: before.healthy, findings: before.findings, snapshot, check: before };
    }
    await confirmed(o, `Repair ${repairable.length} finding(s) (${[...new Set(repairable.map((f) => f.code))].join(', ')})?`, 'Repairing the cluster');
    const ownKeys = lease.exclusive ? 1 : 0;
    const res = await fixCluster(snapshot, {
      conns: core.conns,
      password: core.target.password,
      onEvent: o.onEvent,
      pipeline: o.pipeline ?? 1000,
      timeoutMs: o.timeoutMs ?? 60_000,
      replace: Boolean(o.replace),
      ownKeys,
      stray,
    });
    // Ownership changes reach every node by gossip: judge once they settled (bounded), on what is still wrong.
    const expires = mastersOf(snapshot).reduce((n, m) => n + m.expires, 0);
    const verdict = await settledVerdict(core.conns, snapshot.seed, { signal: o.signal, expect: { keysBefore: { keys: res.keysBefore, expires }, ownKeys } });
    return { actions: res.actions, repairable, keysBefore: res.keysBefore, keysAfter: res.keysAfter, healthy: verdict.check.healthy, findings: verdict.check.findings, snapshot: verdict.snapshot, check: verdict.check };
  });
}
