import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMyself, parseClusterNodes, type NodeLine } from '../../src/cluster/cluster-nodes.js';
import { keySlot } from '../../src/cluster/keyslot.js';
import { startBareNode, type BareNode } from '../helpers/cluster.js';
import { clusterClient, countBadKeys, writeKeys } from '../helpers/load.js';
import { rctl, tempHome } from '../helpers/rctl.js';

const home = tempHome();
const NAME = 'reads-fix-many';
const BASE = 9101;
const MASTERS = 6;
const PORTS = Array.from({ length: MASTERS }, (_, i) => BASE + i);
const BUS_BASE = 22101;
const SEED = `127.0.0.1:${BASE}`;
const BACKGROUND = 3000;
const SLOTS = 40;
const PER_SLOT = 20;

interface Opened {
  readonly slot: number;
  readonly tag: string;
  readonly source: NodeLine;
  readonly target: NodeLine;
  /** true: migrating on the source, importing on the target; false: only importing on the target. */
  readonly bothSides: boolean;
}

const conns = new Map<number, Redis>();
const node = (port: number): Redis => {
  let r = conns.get(port);
  if (!r) {
    r = new Redis({ port, lazyConnect: false });
    conns.set(port, r);
  }
  return r;
};
const myLine = async (port: number): Promise<NodeLine> => parseClusterNodes(String(await node(port).call('CLUSTER', 'NODES'))).find(isMyself)!;
const keysOf = (tag: string): string[] => Array.from({ length: PER_SLOT }, (_, j) => `{${tag}}:${j}`);
const totalKeys = async (): Promise<number> => (await Promise.all(PORTS.map((p) => node(p).dbsize()))).reduce((a, b) => a + b, 0);

// Every master is the source of some open slots and the target of others (a ring of pairs): the
// layout where repairing slots concurrently loses keys unless owner changes are serialised (a node
// bumping its epoch while it still claims a slot already handed over; see fixSlots in fix.ts).
describe('rctl fix with many open slots at once', () => {
  let opened: Opened[] = [];
  let bare: BareNode[] = [];

  beforeAll(async () => {
    // Bus ports in this suite's own range (port + 10000 would be 19101+, another suite's client ports).
    bare = await Promise.all(PORTS.map((port, i) => startBareNode(port, ['--cluster-port', String(BUS_BASE + i)])));
    const c = await rctl(['create', '--name', NAME, '--nodes', PORTS.map((p) => `127.0.0.1:${p}`).join(','), '--masters', String(MASTERS), '--replicas', '0'], { home });
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const client = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    await writeKeys(client, BACKGROUND);

    // Masters in slot order; every slot's owner from its own line.
    const masters = (await Promise.all(PORTS.map(myLine))).sort((a, b) => a.slots[0]!.start - b.slots[0]!.start);
    const ownerOf = (slot: number): number => masters.findIndex((m) => m.slots.some((r) => r.start <= slot && slot <= r.end));
    // 40 distinct slots, spread evenly over the 6 masters (hash tags fx0, fx1, ... pick the slots).
    const perOwner = new Map<number, number>();
    const used = new Set<number>();
    const picks: { tag: string; slot: number; owner: number }[] = [];
    for (let i = 0; picks.length < SLOTS; i++) {
      const tag = `fx${i}`;
      const slot = keySlot(tag);
      const owner = ownerOf(slot);
      if (used.has(slot) || (perOwner.get(owner) ?? 0) >= Math.ceil(SLOTS / MASTERS)) continue;
      used.add(slot);
      perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
      picks.push({ tag, slot, owner });
    }
    for (const p of picks) for (const k of keysOf(p.tag)) await client.set(k, `v-${k}`);
    client.disconnect();

    // The state a killed resharding tool leaves, on 40 slots at once, over 6 source->target pairs:
    // target importing, source migrating, half of the slot's keys moved. Every 5th slot also lost
    // its migrating state on the source (only the target still imports, with half the keys).
    opened = picks.map((p, i) => ({ slot: p.slot, tag: p.tag, source: masters[p.owner]!, target: masters[(p.owner + 1 + (i % 5 === 4 ? 1 : 0)) % MASTERS]!, bothSides: i % 5 !== 4 }));
    for (const o of opened) {
      const src = node(o.source.port);
      await node(o.target.port).call('CLUSTER', 'SETSLOT', String(o.slot), 'IMPORTING', o.source.id);
      await src.call('CLUSTER', 'SETSLOT', String(o.slot), 'MIGRATING', o.target.id);
      await src.call('MIGRATE', '127.0.0.1', String(o.target.port), '', '0', '5000', 'KEYS', ...keysOf(o.tag).slice(0, PER_SLOT / 2));
      if (!o.bothSides) await src.call('CLUSTER', 'SETSLOT', String(o.slot), 'STABLE');
    }
  });

  afterAll(async () => {
    for (const r of conns.values()) r.disconnect();
    await rctl(['destroy', '--name', NAME, '--yes'], { home });
    await Promise.all(bare.map((b) => b.stop()));
  });

  it('closes all 40 slots in one run, exit 0, without losing or changing a key', async () => {
    const before = await rctl(['check', '--seed', SEED, '--json'], { home });
    expect(before.code).toBe(1);
    const open = (before.json?.['findings'] as { code: string }[]).filter((f) => f.code === 'OPEN_SLOT');
    // Both sides open on 32 slots, only the target on 8.
    expect(open).toHaveLength(32 * 2 + 8);
    // Every target holds keys of the slots it imports, which it does not own: found exactly (the
    // cheap DBSIZE-vs-owned-slots count differs there, so those masters get the per-slot count).
    const stray = (before.json?.['findings'] as { code: string; nodes: string[]; slots: { start: number; end: number }[] }[]).filter((f) => f.code === 'MULTIPLE_OWNERS');
    const straySlots = stray.flatMap((f) => f.slots.flatMap((r) => Array.from({ length: r.end - r.start + 1 }, (_, k) => `${f.nodes[0]} ${r.start + k}`)));
    expect(straySlots.sort()).toEqual(opened.map((o) => `127.0.0.1:${o.target.port} ${o.slot}`).sort());
    expect(await totalKeys()).toBe(BACKGROUND + SLOTS * PER_SLOT);

    const r = await rctl(['fix', '--seed', SEED, '--yes', '--json'], { home });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json?.['healthy']).toBe(true);
    expect(r.json?.['keysBefore']).toBe(BACKGROUND + SLOTS * PER_SLOT);
    expect(r.json?.['keysAfter']).toBe(BACKGROUND + SLOTS * PER_SLOT);
    const actions = r.json?.['actions'] as string[];
    for (const o of opened) expect(actions.some((a) => a.startsWith(`slot ${o.slot}: `)), `no action for slot ${o.slot}`).toBe(true);

    // No open slot anywhere, and each slot where the repair says: an interrupted move is finished
    // (all keys on the target), a slot only the target imported goes back to its owner.
    for (const port of PORTS) {
      const me = await myLine(port);
      expect(me.migrating, `${port} migrating`).toEqual([]);
      expect(me.importing, `${port} importing`).toEqual([]);
    }
    const background = new Map<number, number>();
    for (let i = 0; i < BACKGROUND; i++) background.set(keySlot(`k:${i}`), (background.get(keySlot(`k:${i}`)) ?? 0) + 1);
    for (const o of opened) {
      const owner = o.bothSides ? o.target : o.source;
      const other = o.bothSides ? o.source : o.target;
      const expected = PER_SLOT + (background.get(o.slot) ?? 0);
      expect(Number(await node(owner.port).call('CLUSTER', 'COUNTKEYSINSLOT', String(o.slot))), `slot ${o.slot} on its owner`).toBe(expected);
      expect(Number(await node(other.port).call('CLUSTER', 'COUNTKEYSINSLOT', String(o.slot))), `slot ${o.slot} elsewhere`).toBe(0);
    }

    // Exactly the same keys, every one readable with its value.
    expect(await totalKeys()).toBe(BACKGROUND + SLOTS * PER_SLOT);
    const client = clusterClient([{ host: '127.0.0.1', port: BASE }]);
    try {
      expect(await countBadKeys(client, BACKGROUND)).toBe(0);
      const wrong: string[] = [];
      for (const o of opened) for (const k of keysOf(o.tag)) if ((await client.get(k)) !== `v-${k}`) wrong.push(k);
      expect(wrong).toEqual([]);
    } finally {
      client.disconnect();
    }
    expect((await rctl(['check', '--seed', SEED], { home })).code).toBe(0);
  });
});
