import Table from 'cli-table3';

/** A plain table (no colours: output is often piped into logs and CI). */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  if (cells.every((r) => r.length === head.length) && [head, ...cells].every((r) => r.every((c) => PLAIN.test(c)))) return plainTable(head, cells);
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of cells) t.push(r);
  return t.toString();
}

/** Printable ASCII: one column per character, so widths are lengths. */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * cli-table3's default layout, drawn directly: cli-table3 measures every cell through ANSI and
 * Unicode width code, ~1 ms per row (`rctl info` on 200 nodes spent 250 ms in it; this takes 10).
 * Used when every row is complete and every cell printable ASCII, where the output is identical;
 * anything else (wide characters, short rows that cli-table3 spans) goes through cli-table3.
 */
function plainTable(head: readonly string[], rows: readonly string[][]): string {
  const width = Array.from({ length: head.length }, (_, i) => Math.max(head[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0)) + 2);
  const rule = (l: string, m: string, r: string): string => l + width.map((w) => '─'.repeat(w)).join(m) + r;
  const line = (r: readonly string[]): string => `│${width.map((w, i) => ` ${(r[i] ?? '').padEnd(w - 2)} `).join('│')}│`;
  const out = [rule('┌', '┬', '┐'), line(head)];
  for (const r of rows) out.push(rule('├', '┼', '┤'), line(r));
  out.push(rule('└', '┴', '┘'));
  return out.join('\n');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export const ms = (n: number): string => (n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`);
