import type { ApplyResult } from '../../reshard/apply-plan.js';
import { planSlots, summarize, type Plan } from '../../reshard/plan.js';
import { formatRanges } from '../../cluster/slots.js';
import { ms, table } from './table.js';

const short = (p: Plan, id: string): string => `${p.nodes[id] ?? id.slice(0, 8)} (${id.slice(0, 8)})`;

export function planTable(p: Plan, keysPerSlot?: ReadonlyMap<number, number>): string {
  const rows = summarize(p, keysPerSlot);
  const lines = [`Plan: ${p.kind}, ${planSlots(p)} slot(s) in ${p.waves.length} wave(s), cluster fingerprint ${p.fingerprint}`];
  for (const n of p.notes) lines.push(`  · ${n}`);
  if (rows.length > 0) {
    lines.push(
      table(
        ['from', 'to', 'slots', 'ranges', 'est. keys'],
        rows.map((r) => {
          const ranges = formatRanges(r.ranges);
          return [short(p, r.from), short(p, r.to), r.slots, ranges.length > 60 ? `${ranges.slice(0, 57)}...` : ranges, r.keys ?? '?'];
        }),
      ),
    );
  }
  return lines.join('\n');
}

export function planJson(p: Plan, keysPerSlot?: ReadonlyMap<number, number>): Record<string, unknown> {
  return {
    kind: p.kind,
    fingerprint: p.fingerprint,
    slots: planSlots(p),
    waves: p.waves.length,
    notes: p.notes,
    moves: summarize(p, keysPerSlot).map((r) => ({ from: r.from, fromAddress: p.nodes[r.from], to: r.to, toAddress: p.nodes[r.to], slots: r.slots, ranges: r.ranges.map((x) => ({ start: x.start, end: x.end })), keys: r.keys ?? null })),
  };
}

export function applyView(r: ApplyResult): string {
  const secs = r.ms / 1000;
  const lines = [
    `${r.interrupted ? 'Stopped at a safe point' : 'Done'}: moved ${r.slotsMoved} slot(s) and ${r.keysMoved} key(s) in ${ms(r.ms)}${secs > 0 ? ` (${Math.round(r.keysMoved / secs)} keys/s)` : ''}.`,
    r.keysAfter === r.keysBefore ? `Keys on all masters: ${r.keysBefore} before, ${r.keysAfter} after: none lost.` : `Keys on all masters: ${r.keysBefore} before, ${r.keysAfter} after (${r.keysAfter - r.keysBefore >= 0 ? '+' : ''}${r.keysAfter - r.keysBefore}; clients were writing meanwhile?).`,
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const id of r.emptied) {
    const n = r.snapshot.nodes.find((x) => x.id === id);
    const where = n ? `${n.addr.host}:${n.addr.port}` : id.slice(0, 8);
    lines.push(n?.role === 'replica' ? `${where} gave away its last slot and became a replica (--allow-replica-migration).` : `${where} holds no slot now and stays a master (remove it with \`rctl del-node ${id.slice(0, 8)}\`).`);
  }
  const problems = r.check.findings.filter((f) => f.severity === 'problem');
  lines.push(problems.length === 0 ? 'Check after the move: healthy.' : `Check after the move: ${problems.length} problem(s):\n${problems.map((f) => `  - ${f.message}`).join('\n')}`);
  return lines.join('\n');
}
