import { describe, expect, it } from 'vitest';
import { defaultNodeTimeoutMs, formingNodeTimeoutMs, formingSizing, gossipFloorMs, nextFormingTimeoutMs } from '../../src/cluster/forming.js';

describe('forming sizing', () => {
  it('keeps the 5 s default node-timeout up to ~115 nodes and grows it with the square of the size beyond', () => {
    expect(defaultNodeTimeoutMs(6)).toBe(5000);
    expect(defaultNodeTimeoutMs(100)).toBe(5000);
    expect(defaultNodeTimeoutMs(115)).toBe(5000);
    expect(defaultNodeTimeoutMs(116)).toBe(6000);
    expect(defaultNodeTimeoutMs(200)).toBe(15000);
  });

  it('forms small clusters at the 500 ms floor of the rejoin delay and big ones with gossip kept within a core', () => {
    expect(formingNodeTimeoutMs(6, 5000)).toBe(500);
    expect(formingNodeTimeoutMs(36, 15000)).toBe(500);
    expect(formingNodeTimeoutMs(60, 5000)).toBe(1350);
    expect(formingNodeTimeoutMs(100, 5000)).toBe(3750);
    // Beyond ~115 nodes the configured timeout stays, raised to the gossip bound if lower.
    expect(formingNodeTimeoutMs(200, 5000)).toBe(15000);
    expect(formingNodeTimeoutMs(200, 30000)).toBe(30000);
  });

  it('backs off by doubling up to the configured timeout or 15 s', () => {
    expect(nextFormingTimeoutMs(500, 5000)).toBe(1000);
    expect(nextFormingTimeoutMs(3750, 5000)).toBe(7500);
    expect(nextFormingTimeoutMs(15000, 5000)).toBe(15000);
    expect(nextFormingTimeoutMs(15000, 30000)).toBe(30000);
  });

  it('warns below the timeout at which gossip alone needs about two cores', () => {
    expect(gossipFloorMs(200)).toBe(7500);
    expect(gossipFloorMs(6)).toBe(7);
  });

  it('derives every bound from the size: bigger clusters get longer bounds and slower polling', () => {
    const small = formingSizing(6, 5000);
    const big = formingSizing(200, 15000);
    expect(small.pollIntervalMs).toBe(50);
    expect(big.pollIntervalMs).toBe(400);
    expect(big.agreeBoundMs).toBeGreaterThan(small.agreeBoundMs);
    expect(big.agreeBoundMs).toBe(30_000 + 300 * 200 + 2 * 15000);
    expect(big.attachBoundMs).toBe(10_000 + 100 * 200);
  });
});
