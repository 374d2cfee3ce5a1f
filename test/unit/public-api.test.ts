import { describe, expect, it } from 'vitest';
// Imported the way a user imports it: through the package name (the exports map, built dist/).
import * as rctl from 'rctl';
import { fromPlanFile, keySlot, RctlError, toPlanFile, type Plan } from 'rctl';

describe('the public API (package "rctl")', () => {
  it('exports every use case a CLI command runs', () => {
    for (const name of ['openCluster', 'createCluster', 'formCluster', 'destroyCluster', 'listClusters', 'createSentinel', 'openSentinel', 'destroySentinel', 'ClusterHandle', 'SentinelHandle', 'RctlError', 'DeclinedError', 'ExitCode', 'toPlanFile', 'fromPlanFile', 'keySlot']) {
      expect(rctl, name).toHaveProperty(name);
    }
    const methods = Object.getOwnPropertyNames(rctl.ClusterHandle.prototype);
    for (const m of ['info', 'check', 'fix', 'planReshard', 'planRebalance', 'planDrain', 'apply', 'reshard', 'rebalance', 'addNode', 'attachReplica', 'delNode', 'scaleOut', 'scaleIn', 'failover', 'drillFailover', 'restoreRoles', 'kill', 'stop', 'pause', 'restart', 'slotOf', 'close']) {
      expect(methods, m).toContain(m);
    }
  });

  it('plans are serialisable and round-trip through a plan file', () => {
    const plan: Plan = { kind: 'reshard', fingerprint: 'f'.repeat(16), intent: { to: 'b' }, nodes: { a: '127.0.0.1:1', b: '127.0.0.1:2' }, waves: [[{ from: 'a', to: 'b', slots: [1, 2, 3] }]], notes: [] };
    const back = fromPlanFile(JSON.parse(JSON.stringify(toPlanFile(plan, '2026-01-01T00:00:00Z'))));
    expect(back.waves).toEqual(plan.waves);
  });

  it('errors are typed, with a stable code, a hint and the exit code the CLI uses', () => {
    const e = new RctlError('LOCKED', 'held');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('LOCKED');
    expect(e.exitCode).toBe(rctl.ExitCode.locked);
    expect(e.hint.length).toBeGreaterThan(0);
    expect(keySlot('{user}:1')).toBe(keySlot('user'));
  });
});
