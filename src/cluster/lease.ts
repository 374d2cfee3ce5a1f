import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { ChainableCommander, Redis } from 'ioredis';
import { RctlError, messageOf } from '../errors.js';
import { noEvents, type EventSink } from '../events.js';
import { sleep } from '../util/abort.js';
import { addrKey, type NodeAddress } from '../redis/address.js';
import { AdminConnections } from '../redis/connection.js';
import { keySlot } from './keyslot.js';
import { mastersOf, type Snapshot } from './snapshot.js';

/**
 * The cluster-wide lease that makes operations which change a cluster exclude each other.
 *
 * Why in the cluster itself: two operators, two CI jobs or a retry loop on different machines must
 * see each other, also on clusters rctl did not create, so the lease cannot live in ~/.rctl. A Redis
 * Cluster has no node-local metadata store, so the lease is one small key with a hash tag; it lives
 * in one slot (1169), moves with that slot like any key (MIGRATE keeps its TTL) and is followed
 * through MOVED/ASK redirects. It carries a TTL and is renewed while the operation runs, so a holder
 * that dies (SIGKILL, lost machine) stops blocking others once the TTL runs out.
 *
 * Two concurrent `redis-cli --cluster reshard` runs lose keys: a node that loses a slot by a config
 * update deletes its keys of that slot (cluster.c, dirty slots). rctl must not, so every command that
 * changes a cluster takes this lease first and refuses at once when someone else holds it.
 */
export const LEASE_KEY = '{rctl}:lease';
export const LEASE_SLOT = keySlot(LEASE_KEY);
export const DEFAULT_LEASE_TTL_MS = 20_000;

/** What the lease key holds: who, what, since when. */
export interface LeaseHolder {
  readonly v: 1;
  readonly token: string;
  /** The command, e.g. "reshard". */
  readonly op: string;
  readonly user: string;
  readonly host: string;
  readonly pid: number;
  /** ISO time the lease was taken. */
  readonly since: string;
  /** Its TTL: the holder renews every third of it. */
  readonly ttlMs?: number;
}

/** A holder as read back: with how long until it expires unless renewed. */
export interface LeaseInfo extends Omit<LeaseHolder, 'ttlMs'> {
  /** The key's value as stored. */
  readonly raw: string;
  readonly expiresInMs: number;
  readonly ttlMs: number;
}

// Compare-and-renew / compare-and-delete: only the holder's token may extend or release it.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return -1 end`;
// GET and PTTL in one script: one command, so one ASKING covers both while the slot moves.
const READ = `return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return -1 end`;


/**
 * Runs commands on whichever master serves the lease slot now, following MOVED and ASK the way a
 * cluster client would (the slot may be moving, or its master may have failed over). Admin
 * connections never follow redirects by themselves, on purpose; this is the one place that does.
 */
class SlotRouter {
  private owner: NodeAddress | undefined;

  constructor(
    private readonly conns: AdminConnections,
    private readonly candidates: NodeAddress[],
    owner: NodeAddress | undefined,
  ) {
    this.owner = owner;
  }

  async call(build: (r: Redis, asking: boolean) => Promise<unknown>): Promise<unknown> {
    const tried = new Set<string>();
    let target = this.owner ?? this.candidates[0];
    let asking = false;
    let lastErr: unknown;
    for (let hop = 0; hop < 8 && target; hop++) {
      try {
        const addr: NodeAddress = target;
        const res = await this.conns.run(addr, (r) => build(r, asking));
        if (!asking) this.owner = addr;
        return res;
      } catch (err) {
        lastErr = err;
        const msg = messageOf(err);
        const moved = /MOVED \d+ (\S+):(\d+)/.exec(msg);
        const ask = /ASK \d+ (\S+):(\d+)/.exec(msg);
        if (moved) {
          target = { host: moved[1]!, port: Number(moved[2]) };
          asking = false;
          continue;
        }
        if (ask) {
          target = { host: ask[1]!, port: Number(ask[2]) };
          asking = true;
          continue;
        }
        if (err instanceof RctlError && err.code === 'AUTH') throw err;
        // Unreachable, CLUSTERDOWN, TRYAGAIN: try another node, which redirects us to the owner.
        tried.add(addrKey(target));
        this.owner = undefined;
        asking = false;
        target = this.candidates.find((c) => !tried.has(addrKey(c)));
      }
    }
    throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
  }
}

/**
 * One command, preceded by ASKING in the same pipeline when redirected by ASK: ASKING is a
 * one-shot flag of the connection, so nothing may run between the two.
 */
const run = (cmd: (p: ChainableCommander) => void) => async (r: Redis, asking: boolean): Promise<unknown> => {
  const p = r.pipeline();
  if (asking) p.call('ASKING');
  cmd(p);
  const res = (await p.exec()) ?? [];
  const mine = res[asking ? 1 : 0];
  if (!mine) throw new Error('empty pipeline reply');
  if (mine[0]) throw mine[0];
  return mine[1];
};

function routerFor(conns: AdminConnections, s: Snapshot): SlotRouter {
  // A master restarted after a failover may still claim the slot with a stale epoch: ask the
  // claimant with the highest config epoch (the one Redis itself will keep).
  const owner = mastersOf(s)
    .filter((m) => m.self.slots.some((r) => r.start <= LEASE_SLOT && LEASE_SLOT <= r.end))
    .sort((a, b) => b.self.configEpoch - a.self.configEpoch)[0];
  return new SlotRouter(conns, [...mastersOf(s), ...s.nodes.filter((n) => n.role === 'replica')].map((n) => n.addr), owner?.addr);
}

function parseHolder(raw: unknown): LeaseHolder | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const v = JSON.parse(raw) as LeaseHolder;
    return v && v.v === 1 && typeof v.token === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Who holds the lease now, if anyone (read-only commands show it; they never take it). */
export async function readLease(conns: AdminConnections, s: Snapshot): Promise<LeaseInfo | undefined> {
  const router = routerFor(conns, s);
  const [raw, pttl] = (await router.call(run((p) => p.eval(READ, 1, LEASE_KEY)))) as [unknown, unknown];
  const h = parseHolder(raw);
  if (!h) return undefined;
  return { ...h, raw: String(raw), expiresInMs: Math.max(0, Number(pttl)), ttlMs: h.ttlMs ?? DEFAULT_LEASE_TTL_MS };
}

export function describeHolder(h: Pick<LeaseInfo, 'op' | 'user' | 'host' | 'pid' | 'since' | 'expiresInMs'>): string {
  return `\`rctl ${h.op}\` by ${h.user}@${h.host} (pid ${h.pid}) since ${h.since}, expiring in ${(h.expiresInMs / 1000).toFixed(0)} s unless renewed`;
}

export interface AcquireOptions {
  /** The command taking it, shown to whoever is refused. */
  readonly op: string;
  readonly ttlMs?: number;
  readonly onEvent?: EventSink;
  /**
   * Repairs (fix, a forced failover, removing a dead node) must still run when the lease's slot has
   * no reachable owner; they then go ahead without exclusivity and say so.
   */
  readonly allowUnserved?: boolean;
}

/** A held lease: renewed in the background until released. */
export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private lastRenewed = Date.now();
  private lostReason: string | undefined;

  constructor(
    private readonly router: SlotRouter | undefined,
    readonly holder: LeaseHolder | undefined,
    private readonly ttlMs: number,
    private readonly onEvent: EventSink,
    private readonly ownConns?: AdminConnections,
  ) {
    if (router && holder) {
      // A third of the TTL: two renewals may fail (a failover of the lease slot's master) before it lapses.
      this.timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(500, Math.floor(ttlMs / 3)));
      this.timer.unref();
    }
  }

  /** True when the operation runs without a lease (the slot was not served, or leases are disabled). */
  get exclusive(): boolean {
    return this.holder !== undefined;
  }

  /** Stop here if the lease was lost: someone else may be changing the cluster now. */
  assertHeld(): void {
    // Not renewed for (almost) a TTL: Redis may have expired it already, whatever the timer knows.
    if (!this.lostReason && this.holder && Date.now() - this.lastRenewed > this.ttlMs - Math.min(5_000, this.ttlMs / 4)) {
      this.lose(`it was not renewed for ${((Date.now() - this.lastRenewed) / 1000).toFixed(0)} s (a node busy with a long MIGRATE, or unreachable)`);
    }
    if (this.lostReason) {
      throw new RctlError('LOCKED', `Stopped: this operation lost the cluster's lease (${this.lostReason}); another operation may be changing the cluster.`, {
        hint: 'Nothing further was changed. Run `rctl check` and, once no other operation runs, `rctl fix`.',
      });
    }
  }

  private async renew(): Promise<void> {
    if (!this.router || !this.holder || this.lostReason) return;
    try {
      const sentAt = Date.now();
      const n = Number(await this.router.call(run((p) => p.eval(RENEW, 1, LEASE_KEY, JSON.stringify(this.holder), String(this.ttlMs)))));
      if (n === -1) this.lose('another holder replaced it, or it was broken with --break-lock');
      // The TTL counts from when Redis applied the renewal, which is no earlier than when it was sent.
      else this.lastRenewed = sentAt;
    } catch (err) {
      // The lease slot's master may be failing over (a drill does that on purpose): keep trying
      // until the TTL would have run out.
      if (Date.now() - this.lastRenewed > this.ttlMs) this.lose(`it could not be renewed for ${(this.ttlMs / 1000).toFixed(0)} s: ${messageOf(err)}`);
    }
  }

  private lose(reason: string): void {
    this.lostReason = reason;
    if (this.timer) clearInterval(this.timer);
    try {
      this.onEvent({ type: 'warning', message: `The cluster's lease was lost: ${reason}.` });
    } catch {
      // runs from a timer: a failing event sink must not become an unhandled rejection
    }
  }

  /** Give the lease back (only if it is still ours). Never throws: it would expire anyway. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      if (!this.router || !this.holder || this.lostReason) return;
      await this.router.call(run((p) => p.eval(RELEASE, 1, LEASE_KEY, JSON.stringify(this.holder))));
    } catch (err) {
      this.onEvent({ type: 'warning', message: `Could not release the cluster's lease (${messageOf(err)}); it expires within ${(this.ttlMs / 1000).toFixed(0)} s.` });
    } finally {
      await this.ownConns?.closeAll();
    }
  }
}

/** For read-only paths of a changing command (--dry-run): nothing is held, nothing to release. */
export const noLease = (): Lease => new Lease(undefined, undefined, DEFAULT_LEASE_TTL_MS, noEvents);

function newHolder(op: string, ttlMs: number): LeaseHolder {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { v: 1, token: randomBytes(8).toString('hex'), op, user, host: hostname(), pid: process.pid, since: new Date().toISOString(), ttlMs };
}

/** Testing only: RCTL_UNSAFE_NO_LEASE=1 runs without the lease (reproduces what redis-cli allows). */
const leasesDisabled = (): boolean => process.env['RCTL_UNSAFE_NO_LEASE'] === '1';

/**
 * Take the lease or refuse at once, naming the holder. SET NX PX is atomic on the slot's master,
 * so of two operations starting together exactly one gets it.
 */
export async function acquireLease(conns: AdminConnections, s: Snapshot, o: AcquireOptions): Promise<Lease> {
  const onEvent = o.onEvent ?? noEvents;
  const ttlMs = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  if (leasesDisabled()) {
    onEvent({ type: 'warning', message: 'RCTL_UNSAFE_NO_LEASE=1: running without the cluster lease; concurrent operations can lose keys.' });
    return new Lease(undefined, undefined, ttlMs, onEvent);
  }
  // Its own connections: renewals must not queue behind (or split) the operation's pipelines.
  const own = new AdminConnections({ password: conns.password });
  const router = routerFor(own, s);
  const holder = newHolder(o.op, ttlMs);
  let ok: unknown;
  try {
    ok = await router.call(run((p) => p.set(LEASE_KEY, JSON.stringify(holder), 'PX', ttlMs, 'NX')));
  } catch (err) {
    await own.closeAll();
    if (err instanceof RctlError && err.code === 'AUTH') throw err;
    if (o.allowUnserved) {
      onEvent({ type: 'warning', message: `Could not take the cluster's lease (slot ${LEASE_SLOT} is not served: ${messageOf(err)}); going ahead without it because this is a repair.` });
      return new Lease(undefined, undefined, ttlMs, onEvent);
    }
    throw new RctlError('REFUSED', `Cannot take the cluster's lease: slot ${LEASE_SLOT}, where rctl keeps it, is not served (${messageOf(err)}).`, {
      hint: 'Run `rctl check`; `rctl fix` repairs uncovered slots.',
    });
  }
  if (ok === 'OK') return new Lease(router, holder, ttlMs, onEvent, own);
  await own.closeAll();
  const current = await readLease(conns, s).catch(() => undefined);
  throw lockedError(current);
}

function lockedError(current: LeaseInfo | undefined): RctlError {
  const who = current ? describeHolder(current) : 'another operation';
  return new RctlError('LOCKED', `Another operation is changing this cluster: ${who}.`, {
    hint: 'Wait for it to finish. If that process is gone, its lease expires by itself, or break it now with --break-lock (asks first; --yes confirms).',
    details: current ? { lease: { op: current.op, user: current.user, host: current.host, pid: current.pid, since: current.since, expiresInMs: current.expiresInMs } } : {},
  });
}

/** Delete the lease whoever holds it (`--break-lock`, after the user confirmed). Returns what was broken. */
export async function breakLease(conns: AdminConnections, s: Snapshot): Promise<LeaseInfo | undefined> {
  const current = await readLease(conns, s);
  // Compare-and-delete on the exact value read, so a lease taken meanwhile by someone else survives.
  if (current) await routerFor(conns, s).call(run((p) => p.eval(RELEASE, 1, LEASE_KEY, current.raw)));
  return current;
}

/**
 * After breaking a lease: how long its holder, if still running, needs to notice (its next renewal
 * fails) so that it stops at its next safe point. None when the holder is a dead process here.
 */
export function breakGraceMs(h: LeaseInfo, isAlive: (pid: number) => boolean = pidAlive, thisHost: string = hostname()): number {
  if (h.host === thisHost && !isAlive(h.pid)) return 0;
  return Math.ceil(h.ttlMs / 3) + 2_000;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TakeOptions extends AcquireOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * Asked when another operation holds the lease (`--break-lock`): true breaks it. Absent, a held
   * lease is refused (LOCKED).
   */
  readonly confirmBreak?: (holder: RctlError) => Promise<boolean>;
}

/**
 * Take the lease; if another operation holds it and the caller may break it (and confirms),
 * break it, give a holder that may still run time to notice, and take it.
 */
export async function takeLease(conns: AdminConnections, s: Snapshot, o: TakeOptions): Promise<Lease> {
  try {
    return await acquireLease(conns, s, o);
  } catch (err) {
    if (!(err instanceof RctlError) || err.code !== 'LOCKED' || !o.confirmBreak || !(await o.confirmBreak(err))) throw err;
    const onEvent = o.onEvent ?? noEvents;
    const broken = await breakLease(conns, s);
    if (broken) {
      onEvent({ type: 'warning', message: `Broke the lease of ${describeHolder(broken)}.` });
      const grace = breakGraceMs(broken);
      if (grace > 0) {
        onEvent({ type: 'note', message: `Waiting ${(grace / 1000).toFixed(0)} s so that its holder, if it still runs, notices and stops at its next safe point.` });
        await sleep(grace, o.signal);
      }
    }
    return acquireLease(conns, s, o);
  }
}
