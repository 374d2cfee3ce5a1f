import type { Redis } from 'ioredis';
import { addrKey, type NodeAddress } from '../redis/address.js';
import type { AdminConnections } from '../redis/connection.js';
import { RctlError, messageOf } from '../errors.js';
import { mapLimit } from '../util/pool.js';

/** A master as rctl reaches it (admin address) and as its peers reach it (announced address). */
export interface SlotNode {
  readonly id: string;
  readonly addr: NodeAddress;
}

export interface MigrateOptions {
  readonly conns: AdminConnections;
  readonly password: string | undefined;
  /** Keys per GETKEYSINSLOT and per MIGRATE. */
  readonly pipeline: number;
  /** MIGRATE's own I/O timeout (ms). */
  readonly timeoutMs: number;
  /** Overwrite keys that already exist on the target (BUSYKEY). */
  readonly replace: boolean;
}

type Result = [Error | null, unknown];

/** Run one pipeline on a node; return the per-command results (errors kept, not thrown). */
export async function pipelined(conns: AdminConnections, node: SlotNode, build: (p: ReturnType<Redis['pipeline']>) => void, timeoutMs?: number): Promise<Result[]> {
  return conns.run(node.addr, async (r) => {
    const p = r.pipeline();
    build(p);
    if (timeoutMs === undefined) return ((await p.exec()) ?? []) as Result[];
    // MIGRATE batches can legitimately take longer than the admin command timeout. ioredis arms
    // each command's timer when exec() writes it, synchronously: the longer bound is set for just
    // that call, so concurrent pipelines on the connection never inherit it.
    const saved = r.options.commandTimeout;
    r.options.commandTimeout = timeoutMs;
    let pending: Promise<unknown>;
    try {
      pending = p.exec();
    } finally {
      r.options.commandTimeout = saved;
    }
    return ((await pending) ?? []) as Result[];
  });
}

/** Throw the first error of a pipeline (with which node and command), ignoring `acceptable` messages. */
export function firstError(res: Result[], node: SlotNode, what: string, acceptable?: RegExp): void {
  for (const [err] of res) {
    if (err && !(acceptable && acceptable.test(err.message))) {
      throw new RctlError('REDIS_ERROR', `${addrKey(node.addr)} refused ${what}: ${err.message}`, { hint: 'Run `rctl check`; `rctl fix` repairs open slots.' });
    }
  }
}

export async function setSlotsState(conns: AdminConnections, node: SlotNode, slots: readonly number[], state: 'IMPORTING' | 'MIGRATING', peerId: string): Promise<void> {
  const res = await pipelined(conns, node, (p) => {
    for (const s of slots) p.call('CLUSTER', 'SETSLOT', String(s), state, peerId);
  });
  firstError(res, node, `CLUSTER SETSLOT ${state}`);
}

export async function stabilize(conns: AdminConnections, node: SlotNode, slots: readonly number[]): Promise<void> {
  const res = await pipelined(conns, node, (p) => {
    for (const s of slots) p.call('CLUSTER', 'SETSLOT', String(s), 'STABLE');
  });
  firstError(res, node, 'CLUSTER SETSLOT STABLE');
}

/**
 * COUNTKEYSINSLOT of many slots as one command: a read-only script instead of one command per slot
 * (a third of the commands a batch sends, and of the client's work, were these counts). `no-writes`
 * lets it run where a script that may write is refused (a master over maxmemory).
 */
const COUNT_SCRIPT = `#!lua flags=no-writes
local out = {}
for i = 1, #ARGV do out[i] = redis.call('CLUSTER', 'COUNTKEYSINSLOT', ARGV[i]) end
return out`;

/** Append the count of `slots` to a pipeline; read its reply with countsFrom. */
export function countKeysIn(p: Pipeline, slots: readonly number[]): void {
  p.call('EVAL', COUNT_SCRIPT, '0', ...slots.map(String));
}

/**
 * The counts of a countKeysIn reply. A node that refuses the script (scripting disabled by ACL or
 * rename-command, a Redis older than 7 without script flags) is asked again one command per slot,
 * so a refusal costs a round trip, never a wrong count; a real error surfaces there.
 */
export async function countsFrom(reply: Result | undefined, conns: AdminConnections, node: SlotNode, slots: readonly number[]): Promise<number[]> {
  const [err, v] = reply ?? [new Error('no reply'), undefined];
  if (!err && Array.isArray(v) && v.length === slots.length) return v.map(Number);
  return countKeys(conns, node, slots);
}

export async function countKeys(conns: AdminConnections, node: SlotNode, slots: readonly number[]): Promise<number[]> {
  const res = await pipelined(conns, node, (p) => {
    for (const s of slots) p.call('CLUSTER', 'COUNTKEYSINSLOT', String(s));
  });
  firstError(res, node, 'CLUSTER COUNTKEYSINSLOT');
  return res.map(([, n]) => Number(n));
}

/**
 * `CLUSTER SETSLOT <slot> NODE <ownerId>` for every slot, sent to `n` in one pipeline. With
 * `count`, COUNTKEYSINSLOT of every slot follows in the same pipeline (same connection, so it runs
 * after the claim) and the counts are returned; otherwise an empty list.
 */
export async function setSlotsNode(conns: AdminConnections, n: SlotNode, ownerId: string, slots: readonly number[], o: { acceptable?: RegExp; count?: boolean } = {}): Promise<number[]> {
  const res = await pipelined(conns, n, (p) => {
    for (const s of slots) p.call('CLUSTER', 'SETSLOT', String(s), 'NODE', ownerId);
    if (o.count) countKeysIn(p, slots);
  });
  firstError(res.slice(0, slots.length), n, 'CLUSTER SETSLOT NODE', o.acceptable);
  return o.count ? countsFrom(res[slots.length], conns, n, slots) : [];
}

/** A master that gave away its last slot may already be a replica (Redis 7, issue #9223). */
export const NOT_A_MASTER_ANYMORE = /only with masters/;

/**
 * Tell masters that only hear of a new owner (neither its old nor its new owner). They learn it by
 * gossip anyway (the owner bumped its epoch); telling them avoids redirects meanwhile, so a refusal
 * is a warning, returned, not an error.
 */
export async function announceOwner(conns: AdminConnections, owner: SlotNode, others: readonly SlotNode[], slots: readonly number[]): Promise<string[]> {
  return announceOwners(
    conns,
    others.map((n) => ({ node: n, moves: slots.map((slot) => ({ slot, owner: owner.id })) })),
  );
}

/** announceOwner for many owners at once: one pipeline per master, whatever each slot's new owner. */
export async function announceOwners(conns: AdminConnections, tell: readonly { node: SlotNode; moves: readonly { slot: number; owner: string }[] }[]): Promise<string[]> {
  const warnings: string[] = [];
  // Bounded: a rebalance of 60 masters tells 58 nodes of 2730 slots each. Sent at once, that was
  // ~158k queued commands (600 MB of rctl's memory), and the tail of a long pipeline to a busy node
  // outlived the command timeout. Chunks of ANNOUNCE_CHUNK, a few nodes at a time.
  const work = tell.flatMap(({ node, moves }) => {
    const chunks: { node: SlotNode; moves: readonly { slot: number; owner: string }[] }[] = [];
    for (let i = 0; i < moves.length; i += ANNOUNCE_CHUNK) chunks.push({ node, moves: moves.slice(i, i + ANNOUNCE_CHUNK) });
    return chunks;
  });
  await mapLimit(work, async ({ node, moves }) => {
    try {
      const res = await pipelined(conns, node, (p) => {
        for (const m of moves) p.call('CLUSTER', 'SETSLOT', String(m.slot), 'NODE', m.owner);
      });
      firstError(res, node, 'CLUSTER SETSLOT NODE', NOT_A_MASTER_ANYMORE);
    } catch (err) {
      warnings.push(messageOf(err));
    }
  }, 8);
  return warnings;
}

const ANNOUNCE_CHUNK = 512;

/**
 * Make `owner` the owner of `slots` everywhere: the owner first, then the old owner, then every
 * other master. The owner goes first so that a crash in between never leaves a slot without an
 * owner (redis-cli, issue #7116); the old owner may already have turned itself into a replica
 * after losing its last slot, which is fine (issue #9223).
 */
export async function assignSlots(conns: AdminConnections, owner: SlotNode, previous: SlotNode | undefined, others: readonly SlotNode[], slots: readonly number[]): Promise<string[]> {
  await setSlotsNode(conns, owner, owner.id, slots);
  if (previous) await setSlotsNode(conns, previous, owner.id, slots, { acceptable: NOT_A_MASTER_ANYMORE });
  return announceOwner(conns, owner, others, slots);
}

/**
 * Move every key of `slots` from `source` to `target` (announced address as the source reaches
 * it) with GETKEYSINSLOT + MIGRATE ... KEYS, one MIGRATE per slot per round (keys of different
 * slots in one MIGRATE are a CROSSSLOT error), all MIGRATEs of a round in one pipeline.
 * `asking`: the slot is importing (not owned) on the source, as when fix drains stray keys.
 */
export async function migrateSlots(o: MigrateOptions, source: SlotNode, target: NodeAddress, slots: readonly number[], asking = false): Promise<number> {
  return (await migrateSlotsWith(o, source, target, slots, { asking })).moved;
}

export type Pipeline = ReturnType<Redis['pipeline']>;

/** What a caller of migrateSlotsWith already has, and what it wants read right after the MIGRATEs. */
export interface MigrateExtras {
  /** The slots are importing (not owned) on the source: every command needs ASKING. */
  readonly asking?: boolean;
  /**
   * The first page of keys of some slots, read by the caller in a pipeline it sent anyway (after
   * the slots were opened): the first round uses it instead of GETKEYSINSLOT. Slots not in the
   * map are read as usual.
   */
  readonly firstPages?: ReadonlyMap<number, Buffer[]>;
  /**
   * Commands appended to every MIGRATE pipeline, so they run on the source right after its
   * MIGRATEs without a round trip of their own; the replies of the last pipeline are returned.
   * When there was nothing to migrate they run alone.
   */
  readonly then?: (p: Pipeline) => void;
}

/** migrateSlots, reusing keys already read and reading more right after the MIGRATEs (MigrateExtras). */
export async function migrateSlotsWith(o: MigrateOptions, source: SlotNode, target: NodeAddress, slots: readonly number[], x: MigrateExtras = {}): Promise<{ moved: number; then: Result[] }> {
  const asking = x.asking ?? false;
  let pending = [...slots];
  let moved = 0;
  let replaceSlots = new Set<number>();
  let then: Result[] | undefined;
  for (let round = 0; pending.length > 0; round++) {
    if (round > 100_000) throw new RctlError('REDIS_ERROR', `Keys keep appearing in slots being moved from ${addrKey(source.addr)}.`);
    const known = round === 0 && x.firstPages ? x.firstPages : undefined;
    const toRead = known ? pending.filter((s) => !known.has(s)) : pending;
    const keysRes =
      toRead.length === 0
        ? []
        : await pipelined(o.conns, source, (p) => {
            for (const s of toRead) p.callBuffer('CLUSTER', 'GETKEYSINSLOT', String(s), String(o.pipeline));
          });
    firstError(keysRes, source, 'CLUSTER GETKEYSINSLOT');
    const read = new Map(toRead.map((s, i) => [s, keysRes[i]![1] as Buffer[]]));
    const work = pending.map((slot) => ({ slot, keys: known?.get(slot) ?? read.get(slot) ?? [] })).filter((w) => w.keys.length > 0);
    if (work.length === 0) break;
    const migrateArgs = (keys: Buffer[], replace: boolean): (string | Buffer)[] => [
      target.host,
      String(target.port),
      '',
      '0',
      String(o.timeoutMs),
      ...(replace ? ['REPLACE'] : []),
      ...(o.password ? ['AUTH', o.password] : []),
      'KEYS',
      ...keys,
    ];
    const res = await pipelined(
      o.conns,
      source,
      (p) => {
        for (const w of work) {
          if (asking) p.call('ASKING');
          p.call('MIGRATE', ...migrateArgs(w.keys, o.replace || replaceSlots.has(w.slot)));
        }
        x.then?.(p);
      },
      o.timeoutMs * 2 + 10_000,
    );
    const sent = asking ? work.length * 2 : work.length;
    then = res.slice(sent);
    const replies = asking ? res.slice(0, sent).filter((_, i) => i % 2 === 1) : res.slice(0, sent);
    const nextReplace = new Set<number>();
    for (let i = 0; i < work.length; i++) {
      const w = work[i]!;
      const [err] = replies[i]!;
      if (!err) {
        moved += w.keys.length;
        continue;
      }
      const msg = err.message;
      if (/NOKEY/.test(msg)) continue; // the keys expired or were deleted meanwhile
      // MIGRATE relays the target's refusal as "ERR Target instance replied with error: BUSYKEY ...".
      if (/BUSYKEY/.test(msg)) {
        await resolveBusyKeys(o, source, target, w.slot, w.keys, asking);
        nextReplace.add(w.slot);
        continue;
      }
      if (/IOERR|timeout/i.test(msg)) throw await migrateTimeoutError(o, source, target, w.slot, w.keys, msg);
      throw new RctlError('REDIS_ERROR', `MIGRATE of slot ${w.slot} from ${addrKey(source.addr)} to ${addrKey(target)} failed: ${msg}`, {
        hint: 'Run `rctl check`; `rctl fix` finishes or closes the slot.',
        details: { slot: w.slot },
      });
    }
    replaceSlots = nextReplace;
    // A slot that returned a full page may hold more keys; the others are drained (new writes to a
    // migrating slot go to the target through ASK redirects).
    pending = work.filter((w) => w.keys.length >= o.pipeline || nextReplace.has(w.slot)).map((w) => w.slot);
  }
  if (!then) then = x.then ? await pipelined(o.conns, source, (p) => x.then?.(p)) : [];
  return { moved, then };
}

/**
 * BUSYKEY: the target already holds some of these keys. Like redis-cli: identical values are
 * replaced (the copy is the same); different values stop the move unless --replace was given.
 */
async function resolveBusyKeys(o: MigrateOptions, source: SlotNode, target: NodeAddress, slot: number, keys: Buffer[], asking: boolean): Promise<void> {
  if (o.replace) return;
  const targetNode: SlotNode = { id: '', addr: target };
  const [src, dst] = await Promise.all([
    pipelined(o.conns, source, (p) => {
      for (const k of keys) {
        if (asking) p.call('ASKING');
        p.callBuffer('DUMP', k);
      }
    }),
    pipelined(o.conns, targetNode, (p) => {
      for (const k of keys) {
        p.call('ASKING');
        p.callBuffer('DUMP', k);
      }
    }),
  ]);
  const srcDumps = asking ? src.filter((_, i) => i % 2 === 1) : src;
  const dstDumps = dst.filter((_, i) => i % 2 === 1);
  const differing = keys.filter((_, i) => {
    const a = srcDumps[i]?.[1] as Buffer | null;
    const b = dstDumps[i]?.[1] as Buffer | null;
    return a !== null && b !== null && a !== undefined && b !== undefined && !a.equals(b);
  });
  if (differing.length > 0) {
    const names = differing.slice(0, 5).map((k) => JSON.stringify(k.toString('utf8')));
    throw new RctlError('REFUSED', `${differing.length} key(s) of slot ${slot} exist on both ${addrKey(source.addr)} and ${addrKey(target)} with different values: ${names.join(', ')}${differing.length > 5 ? ', ...' : ''}.`, {
      hint: 'Rerun with --replace to overwrite the target copies, or delete one copy and run `rctl fix`.',
      details: { slot, keys: differing.map((k) => k.toString('utf8')) },
    });
  }
}

/** A MIGRATE that timed out: name the biggest key of the batch and its size. */
async function migrateTimeoutError(o: MigrateOptions, source: SlotNode, target: NodeAddress, slot: number, keys: Buffer[], msg: string): Promise<RctlError> {
  let biggest = { key: '', bytes: 0 };
  try {
    const sizes = await pipelined(o.conns, source, (p) => {
      for (const k of keys) p.call('MEMORY', 'USAGE', k);
    });
    sizes.forEach(([err, n], i) => {
      if (!err && Number(n) > biggest.bytes) biggest = { key: keys[i]!.toString('utf8'), bytes: Number(n) };
    });
  } catch {
    // the source may be the node in trouble; report without sizes
  }
  const what = biggest.key ? `; its biggest key is "${biggest.key}" (${(biggest.bytes / 1048576).toFixed(1)} MiB)` : '';
  return new RctlError('TIMEOUT', `MIGRATE of slot ${slot} from ${addrKey(source.addr)} to ${addrKey(target)} timed out (${msg})${what}.`, {
    hint: `Raise --timeout (now ${o.timeoutMs} ms) or lower --pipeline (now ${o.pipeline} keys per MIGRATE) for big keys.`,
    details: { slot, key: biggest.key || undefined, bytes: biggest.bytes || undefined },
  });
}

/**
 * Undo a partial move of `slots` from `from` (the source, still owner) to `to` (importing): keys
 * that exist on both sides are dropped on `to` (the move of those was never acknowledged, so the
 * owner's copy is the real one); keys only on `to` migrate back. Both sides must then be closed.
 */
export async function returnKeys(o: MigrateOptions, from: SlotNode, to: SlotNode, toSeenFromTo: NodeAddress, slots: readonly number[]): Promise<number> {
  let returned = 0;
  for (const slot of slots) {
    for (let round = 0; round < 10_000; round++) {
      const [[err, raw]] = (await pipelined(o.conns, to, (p) => p.callBuffer('CLUSTER', 'GETKEYSINSLOT', String(slot), String(o.pipeline)))) as [[Error | null, Buffer[]]];
      if (err) throw err;
      if (raw.length === 0) break;
      const exists = await pipelined(o.conns, from, (p) => {
        for (const k of raw) p.call('EXISTS', k);
      });
      const dup = raw.filter((_, i) => Number(exists[i]?.[1]) === 1);
      const only = raw.filter((_, i) => Number(exists[i]?.[1]) !== 1);
      if (dup.length > 0) {
        const res = await pipelined(o.conns, to, (p) => {
          p.call('ASKING');
          p.call('DEL', ...dup);
        });
        firstError(res, to, 'DEL of duplicate keys');
      }
      if (only.length > 0) {
        const res = await pipelined(
          o.conns,
          to,
          (p) => {
            p.call('ASKING');
            p.call('MIGRATE', toSeenFromTo.host, String(toSeenFromTo.port), '', '0', String(o.timeoutMs), ...(o.password ? ['AUTH', o.password] : []), 'KEYS', ...only);
          },
          o.timeoutMs * 2 + 10_000,
        );
        firstError(res, to, 'MIGRATE back');
        returned += only.length;
      }
    }
  }
  return returned;
}
