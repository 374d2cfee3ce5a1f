import type { ApplyResult } from '../../reshard/apply-plan.js';

export function applyJson(r: ApplyResult): Record<string, unknown> {
  return {
    interrupted: r.interrupted,
    slotsMoved: r.slotsMoved,
    keysMoved: r.keysMoved,
    ms: r.ms,
    keysPerSec: r.ms > 0 ? Math.round((r.keysMoved * 1000) / r.ms) : null,
    keysBefore: r.keysBefore,
    keysAfter: r.keysAfter,
    healthy: r.check.healthy,
    findings: r.check.findings,
    warnings: r.warnings,
    settleMs: r.settleMs,
    emptiedMasters: r.emptied,
    fingerprint: r.snapshot.fingerprint,
  };
}
