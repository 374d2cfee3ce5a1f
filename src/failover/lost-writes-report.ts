/**
 * The lost-write report: pure arithmetic over what the writers recorded and what a read-back found.
 * Kept apart from the writers so every case (loss, wrong values, writes that failed but landed,
 * keys the read-back could not answer) is unit-tested without a cluster.
 */

/** One write as a side writer recorded it. Times are ms since the writers' t0. */
export interface WriteRecord {
  /** The side (writer) that sent it. */
  readonly side: string;
  /** Per side: 0, 1, 2... */
  readonly id: number;
  readonly key: string;
  readonly value: string;
  readonly sentMs: number;
  /** When the reply came: the acknowledgement (ok) or the error (error). */
  readonly doneMs: number;
  readonly outcome: 'ok' | 'error';
  readonly error?: string;
  /** `host:port` of the node that acknowledged it (ok only; undefined when the client could not tell). */
  readonly node?: string;
}

/** What a read-back found for a key: its value, null if absent. A key missing from the map was not read. */
export type Readback = ReadonlyMap<string, string | null>;

/** Acknowledged writes that are not readable with their value afterwards. */
export interface LostWrites {
  readonly count: number;
  /** Of `count`: present with another value (not absent). */
  readonly wrongValue: number;
  /**
   * First and last acknowledgement time of a lost write, ms relative to the fault (negative: before
   * it, e.g. the replication lag the promoted replica had not received yet). Undefined when none.
   */
  readonly firstAckMs: number | undefined;
  readonly lastAckMs: number | undefined;
  /** lastAckMs - firstAckMs: how long the side that lost them went on acknowledging them. */
  readonly windowMs: number | undefined;
  /** Lost writes by the node that acknowledged them (`unknown` when the client could not tell). */
  readonly byNode: Readonly<Record<string, number>>;
}

export interface SideCounts {
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly lost: LostWrites;
  /** Writes whose client saw an error that are readable all the same (executed, reply lost). */
  readonly failedPresent: number;
  /** Keys the read-back had no answer for: neither lost nor kept can be said of them. */
  readonly unread: number;
}

export interface LostWriteReport extends SideCounts {
  /** The fault time (ms since the writers' t0) the windows are relative to; 0 if none was given. */
  readonly faultAtMs: number;
  readonly perSide: Readonly<Record<string, SideCounts>>;
}

const UNKNOWN_NODE = 'unknown';

/** Summarize records against a read-back. Pure. */
export function summarizeLostWrites(records: readonly WriteRecord[], readback: Readback, o: { faultAtMs?: number | undefined } = {}): LostWriteReport {
  const faultAtMs = o.faultAtMs ?? 0;
  const bySide = new Map<string, WriteRecord[]>();
  for (const r of records) {
    const list = bySide.get(r.side);
    if (list) list.push(r);
    else bySide.set(r.side, [r]);
  }
  const perSide: Record<string, SideCounts> = {};
  for (const [side, list] of bySide) perSide[side] = countSide(list, readback, faultAtMs);
  return { ...countSide(records, readback, faultAtMs), faultAtMs: Math.round(faultAtMs), perSide };
}

function countSide(records: readonly WriteRecord[], readback: Readback, faultAtMs: number): SideCounts {
  let acknowledged = 0;
  let failed = 0;
  let failedPresent = 0;
  let unread = 0;
  let count = 0;
  let wrongValue = 0;
  let first: number | undefined;
  let last: number | undefined;
  const byNode: Record<string, number> = {};
  for (const r of records) {
    if (r.outcome === 'ok') acknowledged++;
    else failed++;
    if (!readback.has(r.key)) {
      unread++;
      continue;
    }
    const v = readback.get(r.key);
    if (r.outcome === 'error') {
      // "Present" means the write itself landed: another value would be some other writer's.
      if (v === r.value) failedPresent++;
      continue;
    }
    if (v === r.value) continue;
    count++;
    if (v !== null && v !== undefined) wrongValue++;
    const at = r.doneMs - faultAtMs;
    first = first === undefined ? at : Math.min(first, at);
    last = last === undefined ? at : Math.max(last, at);
    const node = r.node ?? UNKNOWN_NODE;
    byNode[node] = (byNode[node] ?? 0) + 1;
  }
  const lost: LostWrites = {
    count,
    wrongValue,
    firstAckMs: first === undefined ? undefined : Math.round(first),
    lastAckMs: last === undefined ? undefined : Math.round(last),
    windowMs: first === undefined || last === undefined ? undefined : Math.round(last - first),
    byNode,
  };
  return { attempted: records.length, acknowledged, failed, lost, failedPresent, unread };
}
