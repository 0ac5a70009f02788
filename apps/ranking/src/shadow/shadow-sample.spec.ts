import { describe, expect, it } from '@jest/globals';
import { sampled } from './shadow-model.service.js';

describe(sampled.name, () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => `req-${i}`);

  it('keeps the same request in or out every time, all at 1 and none at 0', () => {
    expect(ids.map((id) => sampled(id, 0.3))).toEqual(ids.map((id) => sampled(id, 0.3)));
    expect(ids.every((id) => sampled(id, 1))).toBe(true);
    expect(ids.some((id) => sampled(id, 0))).toBe(false);
  });

  it('takes about the share asked for, and a larger share keeps every request a smaller one took', () => {
    const share = ids.filter((id) => sampled(id, 0.1)).length / ids.length;

    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
    expect(ids.filter((id) => sampled(id, 0.1)).every((id) => sampled(id, 0.5))).toBe(true);
  });
});
