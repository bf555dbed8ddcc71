/**
 * The pooled random identifiers behind session ids, refresh tokens and token ids: the right
 * length and alphabet, never a repeat (across pool refills too), and the bounds refused.
 */
import { describe, expect, it } from 'vitest';
import { randomBase64url } from '../src/random.js';

describe('randomBase64url', () => {
  it('gives base64url strings of the asked size', () => {
    expect(randomBase64url(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomBase64url(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomBase64url(18)).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('never repeats a value, across many pool refills', () => {
    const seen = new Set<string>();
    // 20,000 × 16 bytes is about 78 refills of the 4 KiB pool, with sizes that do not divide it.
    for (let i = 0; i < 20_000; i++) seen.add(randomBase64url(i % 3 === 0 ? 16 : 18));
    expect(seen.size).toBe(20_000);
  });

  it('spreads its bytes evenly', () => {
    // 64,000 random bytes: each byte value about 250 times. A stuck or zeroed pool would fail.
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 2_000; i++) for (const byte of Buffer.from(randomBase64url(32), 'base64url')) counts[byte]++;
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(350);
  });

  it('refuses sizes outside 1 to 4096 bytes', () => {
    for (const bad of [0, -1, 1.5, 4097, Number.NaN]) expect(() => randomBase64url(bad)).toThrow(RangeError);
    expect(randomBase64url(4096)).toHaveLength(5462);
  });
});
