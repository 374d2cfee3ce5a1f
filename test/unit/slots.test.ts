import { describe, expect, it } from 'vitest';
import { countSlots, formatRanges, parseRange, rangesFromSlots, splitEvenly } from '../../src/cluster/slots.js';
import { keySlot } from '../../src/cluster/keyslot.js';

describe('splitEvenly', () => {
  it('splits 3 ways exactly like redis-cli --cluster create', () => {
    expect(splitEvenly(3)).toEqual([
      { start: 0, end: 5460 },
      { start: 5461, end: 10922 },
      { start: 10923, end: 16383 },
    ]);
  });
  it.each([1, 4, 5, 7, 10, 100])('covers all 16384 slots contiguously with %i parts of near-equal size', (n) => {
    const parts = splitEvenly(n);
    expect(parts).toHaveLength(n);
    expect(parts[0]?.start).toBe(0);
    expect(parts[n - 1]?.end).toBe(16383);
    for (let i = 1; i < n; i++) expect(parts[i]?.start).toBe((parts[i - 1]?.end ?? 0) + 1);
    const sizes = parts.map((p) => p.end - p.start + 1);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(countSlots(parts)).toBe(16384);
  });
  it('refuses impossible splits', () => {
    expect(() => splitEvenly(0)).toThrow();
    expect(() => splitEvenly(2.5)).toThrow();
  });
});

describe('ranges', () => {
  it('merges slots into ranges and formats them', () => {
    expect(formatRanges(rangesFromSlots([5, 1, 2, 3, 9, 10]))).toBe('1-3,5,9-10');
    expect(formatRanges([])).toBe('-');
  });
  it('parses ranges and rejects bad ones', () => {
    expect(parseRange('0-5460')).toEqual({ start: 0, end: 5460 });
    expect(parseRange('42')).toEqual({ start: 42, end: 42 });
    expect(parseRange('10-5')).toBeUndefined();
    expect(parseRange('16384')).toBeUndefined();
    expect(parseRange('x')).toBeUndefined();
  });
});

describe('keySlot (CRC16/XMODEM mod 16384)', () => {
  it('matches known vectors', () => {
    // CRC16("123456789") = 0x31C3, the reference value in the Redis Cluster spec.
    expect(keySlot('123456789')).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('')).toBe(0);
  });
  it('honours hash tags as the Redis Cluster spec defines them', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    // Only the first {...}; an empty tag means the whole key is hashed.
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
  });
});
