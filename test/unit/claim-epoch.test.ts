import { describe, expect, it } from 'vitest';
import type { NodeLine } from '../../src/cluster/cluster-nodes.js';
import { claimOutranks } from '../../src/reshard/claim-epoch.js';

const line = (id: string, configEpoch: number, myself = false): NodeLine => ({
  id,
  host: '127.0.0.1',
  port: 7000,
  busPort: 17000,
  hostname: undefined,
  flags: myself ? ['myself', 'master'] : ['master'],
  masterId: undefined,
  pingSent: 0,
  pongRecv: 0,
  configEpoch,
  linkState: 'connected',
  slots: [],
  migrating: [],
  importing: [],
});

describe('claimOutranks (a target claiming a slot must end above the source epoch)', () => {
  it('a target that has heard the source epoch bumps past it', () => {
    expect(claimOutranks([line('t', 2, true), line('s', 5)], 5)).toBe(true);
  });
  it('a target already holding the highest epoch keeps it, and it is above the source', () => {
    expect(claimOutranks([line('t', 7, true), line('s', 5)], 5)).toBe(true);
  });
  it('a target that has not heard the source bump (sees 3, the source is at 5) does not outrank', () => {
    expect(claimOutranks([line('t', 2, true), line('s', 3)], 5)).toBe(false);
  });
  it('its current epoch counts when known (heard from another node)', () => {
    expect(claimOutranks([line('t', 2, true), line('s', 3)], 5, 5)).toBe(true);
    expect(claimOutranks([line('t', 2, true), line('s', 3)], 5, 4)).toBe(false);
  });
  it('an epoch equal to the source epoch and the highest known is a collision, not a win', () => {
    expect(claimOutranks([line('t', 5, true), line('s', 5)], 5)).toBe(false);
    // Not the highest: the claim bumps past 6.
    expect(claimOutranks([line('t', 5, true), line('s', 5), line('x', 6)], 5)).toBe(true);
  });
});
