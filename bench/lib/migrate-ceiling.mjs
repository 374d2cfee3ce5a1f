// The MIGRATE ceiling of bench:reshard: how fast the same slots move with no checks at all.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { run } from './nodes.mjs';

/**
 * The MIGRATE ceiling: the same slots (rctl's own plan, saved with --dry-run) moved one source ->
 * target pair at a time with the cheapest loop that still leaves a consistent cluster: per chunk
 * of slots, SETSLOT IMPORTING and MIGRATING pipelined, GETKEYSINSLOT with a page bigger than any
 * slot, one MIGRATE ... KEYS per slot pipelined, SETSLOT NODE on target and source. No checks, no
 * counting, no waits. Returns the time of the moving loop alone.
 */
export async function ceilingMove(rctlBin, seed, targetId, slotCount) {
  const dir = mkdtempSync(join(tmpdir(), 'rctl-bench-plan-'));
  const file = join(dir, 'plan.json');
  try {
    const r = await run(process.execPath, [rctlBin, 'reshard', '--seed', `${seed.host}:${seed.port}`, '--from', 'all', '--to', targetId, '--slots', String(slotCount), '--dry-run', '--out', file, '--json']);
    if (r.code !== 0) throw new Error(`rctl reshard --dry-run failed: ${r.stdout}${r.stderr}`);
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    const ids = Object.keys(plan.nodes);
    const conn = new Map(ids.map((id) => {
      const [host, port] = plan.nodes[id].split(':');
      return [id, new Redis({ host, port: Number(port) })];
    }));
    const dstAddr = plan.nodes[targetId].split(':');
    const pairs = new Map();
    for (const w of plan.waves) for (const b of w) {
      const slots = b.slots.split(',').flatMap((x) => {
        const [a, z] = x.split('-').map(Number);
        return Array.from({ length: (z ?? a) - a + 1 }, (_, i) => a + i);
      });
      pairs.set(b.from, [...(pairs.get(b.from) ?? []), ...slots]);
    }
    const CHUNK = 64;
    const dst = conn.get(targetId);
    let keys = 0;
    const t0 = performance.now();
    for (const [from, slots] of pairs) {
      const src = conn.get(from);
      for (let i = 0; i < slots.length; i += CHUNK) {
        const chunk = slots.slice(i, i + CHUNK);
        const pi = dst.pipeline();
        for (const s of chunk) pi.call('CLUSTER', 'SETSLOT', String(s), 'IMPORTING', from);
        const pm = src.pipeline();
        for (const s of chunk) pm.call('CLUSTER', 'SETSLOT', String(s), 'MIGRATING', targetId);
        await Promise.all([pi.exec(), pm.exec()]);
        const pg = src.pipeline();
        for (const s of chunk) pg.call('CLUSTER', 'GETKEYSINSLOT', String(s), '100000');
        const pages = (await pg.exec()).map(([, k]) => k);
        const pmg = src.pipeline();
        let n = 0;
        chunk.forEach((s, j) => {
          if (pages[j].length === 0) return;
          n += pages[j].length;
          pmg.call('MIGRATE', dstAddr[0], dstAddr[1], '', '0', '60000', 'KEYS', ...pages[j]);
        });
        for (const [err] of await pmg.exec()) if (err) throw err;
        keys += n;
        const pn = dst.pipeline();
        for (const s of chunk) pn.call('CLUSTER', 'SETSLOT', String(s), 'NODE', targetId);
        await pn.exec();
        const ps = src.pipeline();
        for (const s of chunk) ps.call('CLUSTER', 'SETSLOT', String(s), 'NODE', targetId);
        await ps.exec();
      }
    }
    const ms = performance.now() - t0;
    for (const r of conn.values()) r.disconnect();
    return { ms, keys };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

