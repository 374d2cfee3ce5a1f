import type { EventSink, RctlEvent } from '../../events.js';
import { ms } from './table.js';

/** Human progress on stderr: one line per finished step, notes and warnings. */
export function humanEvents(stream: NodeJS.WritableStream = process.stderr): EventSink {
  const tty = Boolean((stream as NodeJS.WriteStream).isTTY);
  let progressShown = false;
  const clearProgress = (): void => {
    if (progressShown && tty) stream.write('\r\x1b[K');
    progressShown = false;
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
          progressShown = true;
        } else if (e.done === e.total || pct % 25 === 0) stream.write(`${line}\n`);
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
