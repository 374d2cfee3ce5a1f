import type { Redis } from 'ioredis';
import { addrKey, type NodeAddress } from './address.js';
import type { AdminConnections } from './connection.js';
import { RctlError, messageOf } from '../errors.js';

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
    // MIGRATE batches can legitimately take longer than the admin command timeout.
    const saved = r.options.commandTimeout;
    r.options.commandTimeout = timeoutMs;
    try {
      return ((await p.exec()) ?? []) as Result[];
    } finally {
      r.options.commandTimeout = saved;
    }
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

export async function countKeys(conns: AdminConnections, node: SlotNode, slots: readonly number[]): Promise<number[]> {
  const res = await pipelined(conns, node, (p) => {
    for (const s of slots) p.call('CLUSTER', 'COUNTKEYSINSLOT', String(s));
  });
  firstError(res, node, 'CLUSTER COUNTKEYSINSLOT');
  return res.map(([, n]) => Number(n));
}

/**
 * Make `owner` the owner of `slots` everywhere: the owner first, then the old owner, then every
 * other master. The owner goes first so that a crash in between never leaves a slot without an
 * owner (redis-cli, issue #7116); the old owner may already have turned itself into a replica
 * after losing its last slot, which is fine (issue #9223).
 */
export async function assignSlots(conns: AdminConnections, owner: SlotNode, previous: SlotNode | undefined, others: readonly SlotNode[], slots: readonly number[]): Promise<string[]> {
  const setNode = (n: SlotNode): Promise<Result[]> =>
    pipelined(conns, n, (p) => {
      for (const s of slots) p.call('CLUSTER', 'SETSLOT', String(s), 'NODE', owner.id);
    });
  firstError(await setNode(owner), owner, 'CLUSTER SETSLOT NODE');
  if (previous) firstError(await setNode(previous), previous, 'CLUSTER SETSLOT NODE', /only with masters/);
  // Others learn it by gossip anyway (the owner bumped its epoch); telling them avoids redirects meanwhile.
  const warnings: string[] = [];
  await Promise.all(
    others.map(async (n) => {
      try {
        firstError(await setNode(n), n, 'CLUSTER SETSLOT NODE', /only with masters/);
      } catch (err) {
        warnings.push(messageOf(err));
      }
    }),
  );
  return warnings;
}

/**
 * Move every key of `slots` from `source` to `target` (announced address as the source reaches
 * it) with GETKEYSINSLOT + MIGRATE ... KEYS, one MIGRATE per slot per round (keys of different
 * slots in one MIGRATE are a CROSSSLOT error), all MIGRATEs of a round in one pipeline.
 * `asking`: the slot is importing (not owned) on the source, as when fix drains stray keys.
 */
export async function migrateSlots(o: MigrateOptions, source: SlotNode, target: NodeAddress, slots: readonly number[], asking = false): Promise<number> {
  let pending = [...slots];
  let moved = 0;
  let replaceSlots = new Set<number>();
  for (let round = 0; pending.length > 0; round++) {
    if (round > 100_000) throw new RctlError('REDIS_ERROR', `Keys keep appearing in slots being moved from ${addrKey(source.addr)}.`);
    const keysRes = await pipelined(o.conns, source, (p) => {
      for (const s of pending) p.callBuffer('CLUSTER', 'GETKEYSINSLOT', String(s), String(o.pipeline));
    });
    firstError(keysRes, source, 'CLUSTER GETKEYSINSLOT');
    const work = pending.map((slot, i) => ({ slot, keys: keysRes[i]![1] as Buffer[] })).filter((w) => w.keys.length > 0);
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
      },
      o.timeoutMs * 2 + 10_000,
    );
    const replies = asking ? res.filter((_, i) => i % 2 === 1) : res;
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
  return moved;
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
