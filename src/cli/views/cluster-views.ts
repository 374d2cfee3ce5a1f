import { addrKey } from '../../redis/address.js';
import type { CheckResult } from '../../cluster/check.js';
import type { Snapshot, NodeState } from '../../cluster/snapshot.js';
import { countSlots, formatRanges } from '../../cluster/slots.js';
import { bytes, table } from './table.js';

/** Masters first (by first slot), each followed by its replicas. Linear in nodes (200-node clusters). */
export function orderedNodes(s: Snapshot): NodeState[] {
  const masters = s.nodes.filter((n) => n.role === 'master').sort((a, b) => (a.self.slots[0]?.start ?? 1e9) - (b.self.slots[0]?.start ?? 1e9) || a.addr.port - b.addr.port);
  const replicas = new Map<string, NodeState[]>();
  for (const n of s.nodes) if (n.role === 'replica' && n.self.masterId) replicas.set(n.self.masterId, [...(replicas.get(n.self.masterId) ?? []), n]);
  const out: NodeState[] = [];
  for (const m of masters) {
    out.push(m);
    out.push(...(replicas.get(m.id) ?? []).sort((a, b) => a.addr.port - b.addr.port));
  }
  const placed = new Set(out);
  out.push(...s.nodes.filter((n) => !placed.has(n)));
  return out;
}

/** Nodes of a snapshot by id, built once per snapshot (nodeRow runs once per node). */
const byIdOf = new WeakMap<Snapshot, Map<string, NodeState>>();
function nodeWithId(s: Snapshot, id: string): NodeState | undefined {
  let m = byIdOf.get(s);
  if (!m) {
    m = new Map(s.nodes.map((n) => [n.id, n]));
    byIdOf.set(s, m);
  }
  return m.get(id);
}

/** One node as --json shows it (docs/json.md, "node"): numbers and lists, no display strings. */
export function nodeRow(s: Snapshot, n: NodeState): Record<string, unknown> {
  const master = n.self.masterId ? nodeWithId(s, n.self.masterId) : undefined;
  return {
    id: n.id,
    address: addrKey(n.addr),
    role: n.role,
    masterId: n.self.masterId ?? null,
    masterAddress: master ? addrKey(master.addr) : null,
    slots: n.self.slots.map((r) => ({ start: r.start, end: r.end })),
    slotCount: countSlots(n.self.slots),
    keys: n.keys,
    usedMemory: n.usedMemory,
    link: n.role === 'replica' ? (n.masterLinkStatus ?? 'unknown') : n.self.linkState,
    flags: n.self.flags.filter((f) => f !== 'myself'),
    clusterState: n.clusterState,
    migrating: n.self.migrating,
    importing: n.self.importing,
  };
}

export function infoTable(s: Snapshot): string {
  const rows = orderedNodes(s).map((n) => {
    const r = nodeRow(s, n);
    const master = r['masterAddress'] ?? n.self.masterId?.slice(0, 8);
    const open = [...n.self.migrating.map((m) => `${m.slot}→`), ...n.self.importing.map((m) => `${m.slot}←`)];
    return [
      n.id.slice(0, 8),
      String(r['address']),
      n.role + (n.self.flags.some((f) => f.startsWith('fail')) ? ` (${n.self.flags.filter((f) => f.startsWith('fail')).join(',')})` : ''),
      String(master ?? '-'),
      `${formatRanges(n.self.slots)}${open.length ? ` [${open.join(',')}]` : ''}`,
      countSlots(n.self.slots),
      n.keys,
      bytes(n.usedMemory),
      String(r['link']),
    ];
  });
  let out = table(['id', 'address', 'role', 'master', 'slots', 'count', 'keys', 'memory', 'link'], rows);
  for (const u of s.unreachable) out += `\n! ${addrKey(u.addr)}${u.id ? ` (${u.id.slice(0, 8)})` : ''} unreachable: ${u.error}`;
  const keys = s.nodes.filter((n) => n.role === 'master').reduce((a, n) => a + n.keys, 0);
  return `${out}\n${s.nodes.filter((n) => n.role === 'master').length} masters, ${s.nodes.filter((n) => n.role === 'replica').length} replicas, ${keys} keys`;
}

export function checkView(s: Snapshot, r: CheckResult): string {
  const lines = [`Checked ${s.nodes.length + s.unreachable.length} nodes (via ${addrKey(s.seed)}):`];
  for (const c of r.checklist) lines.push(`  ${c.ok ? '[OK]  ' : '[FAIL]'} ${c.name}`);
  if (r.findings.length > 0) {
    lines.push('');
    for (const f of r.findings) {
      lines.push(`${f.severity === 'problem' ? 'problem' : 'warning'}: ${f.message}`);
      if (f.fix) lines.push(`  fix: ${f.fix}`);
    }
  }
  lines.push('', r.healthy ? 'Cluster is healthy.' : `Cluster has ${r.findings.filter((f) => f.severity === 'problem').length} problem(s).`);
  return lines.join('\n');
}
