import type { EventSink } from '../events.js';

/** What every command handler gets: output mode, confirmation policy, the interrupt signal. */
export interface CommandContext {
  readonly json: boolean;
  readonly yes: boolean;
  /** Fires on the first Ctrl-C: long operations stop at their next safe point. */
  readonly signal: AbortSignal;
  /** Renders events: human progress on stderr, or NDJSON on stderr with --json. */
  readonly onEvent: EventSink;
  /** Set by a long operation: what to tell the user if a second Ctrl-C exits at once. */
  setRepairHint(hint: string | undefined): void;
}

/** Handlers return what to print and the exit code; only the CLI layer prints. */
export interface CommandOutput {
  /** Printed with --json (wrapped as {"ok": true, ...}). */
  readonly data: Record<string, unknown>;
  /** Printed without --json. */
  readonly human: string;
  readonly exitCode?: number;
}
