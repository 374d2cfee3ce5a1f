import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/views/table.js';

/** What cli-table3 itself draws, the reference for the fast path. */
function reference(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

describe('table', () => {
  const cases: [string[], (string | number)[][]][] = [
    [['a', 'bb'], [['x', 1], ['yyyy', 'z'], ['', 3]]],
    [['name', 'kind'], []],
    [['id', 'address', 'role'], [['abc', '127.0.0.1:1', 'master (fail?,fail)'], ['d', 'e', '']]],
    [['w'], [['   spaced   '], ['~!@#$%^&*()']]],
    // Not plain ASCII, or rows shorter than the header: drawn by cli-table3 itself.
    [['a', 'b'], [['é漢', 1]]],
    [['a', 'b', 'c'], [['x']]],
  ];
  it.each(cases)('draws exactly what cli-table3 draws (%j)', (head, rows) => {
    expect(table(head, rows)).toBe(reference(head, rows));
  });

  it('a 200-row table of plain cells is the same too', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [`abcdef${i}`, `127.0.0.1:${22301 + i}`, i % 2 ? 'replica' : 'master', i * 7]);
    expect(table(['id', 'address', 'role', 'keys'], rows)).toBe(reference(['id', 'address', 'role', 'keys'], rows));
  });
});
