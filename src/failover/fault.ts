import { messageOf } from '../errors.js';
import type { EventSink } from '../events.js';
import type { FaultMode, Provider } from '../provision/provider.js';
import type { NodeRecord } from '../state/records.js';

/**
 * A fault injected into one node that is always undone: `inject` stops/kills/freezes it,
 * `recover` brings it back (its record may change: a restarted process has a new pid), and
 * `ensureRecovered` — for `finally` — brings it back if the drill stopped before doing so.
 */
export class InjectedFault {
  private faulted = false;
  private rec: NodeRecord;

  constructor(
    private readonly provider: Provider,
    record: NodeRecord,
    readonly mode: FaultMode,
    private readonly label: string,
    private readonly onRecovered?: (n: NodeRecord) => Promise<void>,
  ) {
    this.rec = record;
  }

  async inject(): Promise<void> {
    await this.provider.fault(this.rec, this.mode);
    this.faulted = true;
  }

  async recover(): Promise<void> {
    this.rec = await this.provider.recover(this.rec, this.mode);
    this.faulted = false;
    await this.onRecovered?.(this.rec);
  }

  /** Never leave a node stopped or frozen, whatever went wrong. */
  async ensureRecovered(onEvent: EventSink): Promise<void> {
    if (!this.faulted) return;
    try {
      await this.recover();
      onEvent({ type: 'note', message: `brought ${this.label} back after the drill stopped early` });
    } catch (err) {
      onEvent({ type: 'warning', message: `could not bring ${this.label} back: ${messageOf(err)}` });
    }
  }
}
