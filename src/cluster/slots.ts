/** Hash-slot arithmetic: ranges, even splits, formatting. Pure. */

export const SLOT_COUNT = 16384;

/** An inclusive slot range. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
}

export function rangeSize(r: SlotRange): number {
  return r.end - r.start + 1;
}

export function countSlots(ranges: readonly SlotRange[]): number {
  let n = 0;
  for (const r of ranges) n += rangeSize(r);
  return n;
}

/** Collapse a set/list of slots into sorted, merged ranges. */
export function rangesFromSlots(slots: Iterable<number>): SlotRange[] {
  const sorted = [...new Set(slots)].sort((a, b) => a - b);
  const out: SlotRange[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && last.end === s - 1) out[out.length - 1] = { start: last.start, end: s };
    else out.push({ start: s, end: s });
  }
  return out;
}

export function* slotsOf(ranges: readonly SlotRange[]): Generator<number> {
  for (const r of ranges) for (let s = r.start; s <= r.end; s++) yield s;
}

/** "0-5460,5461" style, the way humans read slot ownership. */
export function formatRanges(ranges: readonly SlotRange[]): string {
  if (ranges.length === 0) return '-';
  return ranges.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(',');
}

/**
 * Split all 16384 slots into `parts` contiguous ranges of near-equal size, rounding the running
 * boundary like `redis-cli --cluster create` does, so 3 masters get exactly its
 * 0-5460, 5461-10922, 10923-16383.
 */
export function splitEvenly(parts: number, total = SLOT_COUNT): SlotRange[] {
  if (!Number.isInteger(parts) || parts < 1 || parts > total) throw new RangeError(`cannot split ${total} slots into ${parts} parts`);
  const per = total / parts;
  const out: SlotRange[] = [];
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < parts; i++) {
    let last = Math.round(cursor + per - 1);
    if (last > total - 1 || i === parts - 1) last = total - 1;
    if (last < first) last = first;
    out.push({ start: first, end: last });
    first = last + 1;
    cursor += per;
  }
  return out;
}

/** Parse "0-5460" or "42" into a range; undefined when it is not one. */
export function parseRange(text: string): SlotRange | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > end || end >= SLOT_COUNT) return undefined;
  return { start, end };
}
