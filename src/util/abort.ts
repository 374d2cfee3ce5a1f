import { setMaxListeners } from 'node:events';
import { RctlError } from '../errors.js';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RctlError('INTERRUPTED', 'Interrupted.', { hint: 'Run `rctl check` to see where things stand.' });
}

/** setTimeout as a promise that rejects with INTERRUPTED when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RctlError('INTERRUPTED', 'Interrupted.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new RctlError('INTERRUPTED', 'Interrupted.'));
    };
    if (signal) {
      // Many waits share one signal on a big cluster (a replica each); without this Node prints a
      // MaxListenersExceededWarning once more than 10 listen at once.
      setMaxListeners(0, signal);
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}
