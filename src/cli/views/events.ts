import type { EventSink, RctlEvent } from '../../events.js';
import { ms } from './table.js';

/**
 * Streams on which a progress line was drawn with carriage returns and not ended yet. Kept per
 * stream, not per sink: several sinks may write to stderr, and whoever prints next must end the
 * line first or its text would be glued to the progress.
 */
const pendingProgress = new WeakSet<NodeJS.WritableStream>();

/** End a progress line still being redrawn on `stream` (a newline keeps its last state visible). */
export function endProgressLine(stream: NodeJS.WritableStream = process.stderr): void {
  if (!pendingProgress.has(stream)) return;
  pendingProgress.delete(stream);
  stream.write('\n');
}

/** Human progress on stderr: one line per finished step, notes and warnings. */
export function humanEvents(stream: NodeJS.WritableStream = process.stderr): EventSink {
  const tty = Boolean((stream as NodeJS.WriteStream).isTTY);
  let lastWaiting: string | undefined;
  let lastWaitingAt = 0;
  const clearProgress = (): void => {
    if (pendingProgress.has(stream)) stream.write('\r\x1b[K');
    pendingProgress.delete(stream);
  };
  return (e: RctlEvent) => {
    switch (e.type) {
      case 'step-start':
        return;
      case 'step-done':
        clearProgress();
        stream.write(`  ✓ ${e.step}${e.detail ? ` — ${e.detail}` : ''} (${ms(e.ms)})\n`);
        return;
      case 'note':
        clearProgress();
        stream.write(`  · ${e.message}\n`);
        return;
      case 'warning':
        clearProgress();
        stream.write(`  ! ${e.message}\n`);
        return;
      case 'progress': {
        const pct = e.total > 0 ? Math.floor((100 * e.done) / e.total) : 100;
        const rate = e.ratePerSec !== undefined ? `, ${Math.round(e.ratePerSec)} ${e.unit}/s` : '';
        const keys = e.keys !== undefined ? `, ${e.keys} keys${e.keysPerSec !== undefined ? ` at ${Math.round(e.keysPerSec)} keys/s` : ''}` : '';
        const eta = e.etaSec !== undefined ? `, ETA ${e.etaSec.toFixed(0)} s` : '';
        const line = `  … ${e.step}: ${e.done}/${e.total} ${e.unit} (${pct}%${rate}${keys}${eta})`;
        if (tty) {
          stream.write(`\r\x1b[K${line}`);
          pendingProgress.add(stream);
        } else if (e.done === e.total || pct % 25 === 0) stream.write(`${line}\n`);
        return;
      }
      case 'waiting': {
        const line = `  … ${e.step}: ${e.awaiting} (${ms(e.elapsedMs)}${e.boundMs !== undefined ? ` of at most ${ms(e.boundMs)}` : ''})`;
        if (tty) {
          stream.write(`\r\x1b[K${line}`);
          pendingProgress.add(stream);
        } else if (e.elapsedMs >= 1000 && (`${e.step}\n${e.awaiting}` !== lastWaiting || e.elapsedMs - lastWaitingAt >= 5000)) {
          // Logs get a line once a wait has taken a second, when what is awaited changes, and every 5 s while it does not.
          stream.write(`${line}\n`);
          lastWaiting = `${e.step}\n${e.awaiting}`;
          lastWaitingAt = e.elapsedMs;
        }
        return;
      }
    }
  };
}

/** --json: events as NDJSON on stderr, keeping stdout one JSON document. */
export function jsonEvents(stream: NodeJS.WritableStream = process.stderr): EventSink {
  return (e: RctlEvent) => {
    stream.write(JSON.stringify({ event: e.type, ...e, type: undefined, at: new Date().toISOString() }) + '\n');
  };
}
