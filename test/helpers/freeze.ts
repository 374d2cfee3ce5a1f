import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { isMyself, parseClusterNodes } from '../../src/cluster/cluster-nodes.js';
import { slotSignature } from '../../src/cluster/snapshot.js';
import { pollUntil } from './poll.js';

/**
 * Interrupting a running reshard at "some moment" (a timer after a progress line) lands wherever it
 * lands: between two slots the cluster is healthy, inside a batch a slot is open. These helpers make
 * the moment deterministic: freeze the process (SIGSTOP) while a slot is open, let Redis finish
 * whatever the process had already sent, and hand back the exact open state. Whatever the test does
 * next (SIGKILL it, kill a node, SIGCONT) starts from a state it knows.
 */

export interface OpenState {
  /** Slot -> port of the node where it is migrating / importing (each node's own CLUSTER NODES line). */
  readonly migrating: ReadonlyMap<number, number>;
  readonly importing: ReadonlyMap<number, number>;
  /** Every open slot, ascending. */
  readonly slots: readonly number[];
  /** Keys in the open slots, summed over all the given nodes: what is at stake. */
  readonly keys: number;
}

interface Reading {
  readonly state: OpenState;
  /** Something that changes as long as Redis still executes what the frozen process sent. */
  readonly fingerprint: string;
  /** Every node's view of slot ownership is the same (gossip settled). */
  readonly agreed: boolean;
  /** No client but ours has unread commands. */
  readonly idle: boolean;
}

/** One connection per node, for a test's direct look at the nodes; `close()` when done. */
export function nodeConnections(ports: readonly number[]): { at: (port: number) => Redis; close: () => void } {
  const conns = new Map(
    ports.map((port) => {
      const r = new Redis({ port, lazyConnect: false, maxRetriesPerRequest: 1 });
      r.on('error', () => undefined);
      return [port, r] as const;
    }),
  );
  return { at: (port) => conns.get(port)!, close: () => conns.forEach((r) => r.disconnect()) };
}

async function read(ports: readonly number[], at: (port: number) => Redis): Promise<Reading> {
  const views = await Promise.all(
    ports.map(async (port) => {
      const r = at(port);
      const res = (await r.pipeline().call('CLUSTER', 'NODES').call('CLIENT', 'LIST').call('CLIENT', 'ID').exec()) ?? [];
      const [nodes, clients, me] = res.map(([err, v]) => {
        if (err) throw err;
        return String(v);
      });
      const view = parseClusterNodes(String(nodes));
      const busy = String(clients)
        .split('\n')
        .filter((l) => l.trim() && !new RegExp(`^id=${me} `).test(l))
        .some((l) => !/ qbuf=0 /.test(l));
      return { port, view, self: view.find(isMyself)!, busy };
    }),
  );
  const migrating = new Map<number, number>();
  const importing = new Map<number, number>();
  for (const v of views) {
    for (const m of v.self.migrating) migrating.set(m.slot, v.port);
    for (const m of v.self.importing) importing.set(m.slot, v.port);
  }
  const slots = [...new Set([...migrating.keys(), ...importing.keys()])].sort((a, b) => a - b);
  const counts = await Promise.all(
    views
      .filter((v) => v.self.flags.includes('master'))
      .map(async (v) => {
        const p = at(v.port).pipeline();
        for (const s of slots) p.call('CLUSTER', 'COUNTKEYSINSLOT', String(s));
        return ((await p.exec()) ?? []).map(([, n]) => Number(n));
      }),
  );
  const keys = counts.flat().reduce((a, b) => a + b, 0);
  const signatures = new Set(views.map((v) => slotSignature(v.view)));
  return {
    state: { migrating, importing, slots, keys },
    fingerprint: JSON.stringify([[...migrating], [...importing], counts, [...signatures]]),
    agreed: signatures.size === 1,
    idle: views.every((v) => !v.busy),
  };
}

/**
 * Wait (bounded) until the nodes are quiet: no client has unread commands, the open state and the
 * key counts of the open slots did not change between two readings, and every node agrees on who
 * owns what. Throws if that never happens.
 */
export async function quiesce(ports: readonly number[], at: (port: number) => Redis, timeoutMs = 20_000): Promise<OpenState> {
  let prev = '';
  const r = await pollUntil(
    async () => {
      const x = await read(ports, at);
      const stable = x.fingerprint === prev;
      prev = x.fingerprint;
      return { ...x, stable };
    },
    (x) => x.stable && x.idle && x.agreed,
    { timeoutMs, intervalMs: 50 },
  );
  if (!(r.stable && r.idle && r.agreed)) throw new Error(`nodes ${ports.join(',')} did not quiesce within ${timeoutMs} ms (stable ${r.stable}, idle ${r.idle}, agreed ${r.agreed})`);
  return r.state;
}

/**
 * Slots migrating on `sourcePort` whose destination already holds some of their keys: a move in
 * the middle (keys on both sides), not one just opened.
 */
async function movingWithKeysMoved(sourcePort: number, at: (port: number) => Redis): Promise<boolean> {
  const view = parseClusterNodes(String(await at(sourcePort).call('CLUSTER', 'NODES')));
  const mig = view.find(isMyself)?.migrating ?? [];
  if (mig.length === 0) return false;
  const counts = await Promise.all(
    mig.map(async (m) => {
      const to = view.find((l) => l.id === m.to);
      return to ? Number(await at(to.port).call('CLUSTER', 'COUNTKEYSINSLOT', String(m.slot))) : 0;
    }),
  );
  return counts.some((n) => n > 0);
}

/**
 * Freeze `child` (a running reshard) in the middle of moving a slot (open on both sides, some of
 * its keys already at the destination), and return the open state once Redis executed everything
 * the child had sent and gossip settled. `ports`: every node of the cluster (`at` must reach each);
 * `sourcePort`: the master slots move from. If the freeze landed where nothing is open once quiet
 * (a batch had just closed), the child is resumed and frozen again. The child is left stopped: the
 * caller SIGKILLs or SIGCONTs it.
 */
export async function freezeWithSlotOpen(child: ChildProcess, ports: readonly number[], sourcePort: number, at: (port: number) => Redis, o: { attempts?: number; timeoutMs?: number } = {}): Promise<OpenState> {
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  for (let attempt = 0; attempt < (o.attempts ?? 20); attempt++) {
    // Poll as fast as the nodes answer: a batch keeps its slots open for many MIGRATE round trips.
    const seen = await pollUntil(async () => exited() || (await movingWithKeysMoved(sourcePort, at)), (v) => v, { timeoutMs: o.timeoutMs ?? 120_000, intervalMs: 1 });
    if (exited()) throw new Error(`the process exited (code ${child.exitCode}, signal ${child.signalCode}) before a slot was seen half moved`);
    if (!seen) throw new Error(`no slot was seen half moved from port ${sourcePort}`);
    child.kill('SIGSTOP');
    const state = await quiesce(ports, at);
    if (state.slots.length > 0) return state;
    child.kill('SIGCONT');
  }
  throw new Error('every freeze landed between two batches');
}
