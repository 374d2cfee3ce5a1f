import { RctlError } from '../errors.js';
import type { EventSink } from '../events.js';

/**
 * Asked before a step that changes a cluster: the question, and a short name of what would be done.
 * Resolve true to go ahead. The CLI asks on a terminal (or --yes answers); library callers usually
 * leave it out, which means "go ahead".
 */
export type Confirm = (question: string, what: string) => Promise<boolean>;

/** What every long operation of the API takes. */
export interface OperationOptions {
  /** Stops the operation at its next safe point (an RctlError INTERRUPTED, or a result saying so). */
  readonly signal?: AbortSignal | undefined;
  /** Progress, notes, warnings: see RctlEvent. */
  readonly onEvent?: EventSink | undefined;
  /** Asked before changing anything; absent: go ahead. */
  readonly confirm?: Confirm | undefined;
  /** Take the cluster's lease even if another operation holds it (asks `confirm` first). */
  readonly breakLock?: boolean | undefined;
}

/** Thrown when `confirm` answered no: nothing was changed. */
export class DeclinedError extends RctlError {
  constructor(what: string) {
    super('DECLINED', `${what}: declined, nothing changed.`);
  }
}

/** Ask `confirm` (if any); a "no" throws DeclinedError. */
export async function confirmed(o: OperationOptions, question: string, what: string): Promise<void> {
  if (o.confirm && !(await o.confirm(question, what))) throw new DeclinedError(what);
}
