import { describe, expect, it } from 'vitest';
import { pickLoopbackBlock } from '../../src/testcontainers/loopback-block.js';

describe('pickLoopbackBlock (withAddressPerNode)', () => {
  it('gives node k 127.0.<block>.<k>, a block in 100-250 no other cluster of this process holds until released', () => {
    const a = pickLoopbackBlock(6, () => 0);
    expect(a.addresses).toHaveLength(6);
    const block = a.addresses[0]!.split('.')[2]!;
    expect(Number(block)).toBeGreaterThanOrEqual(100);
    expect(Number(block)).toBeLessThanOrEqual(250);
    expect(a.addresses).toEqual([1, 2, 3, 4, 5, 6].map((k) => `127.0.${block}.${k}`));
    const b = pickLoopbackBlock(3, () => 0);
    expect(b.addresses[0]!.split('.')[2]).not.toBe(block);
    a.release();
    expect(pickLoopbackBlock(3, () => 0).addresses[0]!.split('.')[2]).toBe(block);
  });
  it('refuses more nodes than a block has addresses', () => {
    expect(() => pickLoopbackBlock(255)).toThrow(/254/);
  });
});
