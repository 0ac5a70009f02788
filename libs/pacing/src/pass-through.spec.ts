import { describe, expect, it } from '@jest/globals';
import { passesPacing, unitHash } from './pass-through.js';

describe(passesPacing.name, () => {
  const requests = Array.from({ length: 20_000 }, (_, i) => `req-${i}`);

  it('passes about a share r of the requests', () => {
    for (const rate of [0.02, 0.3, 0.75]) {
      const passed = requests.filter((r) => passesPacing(r, 17, rate)).length / requests.length;
      expect(Math.abs(passed - rate)).toBeLessThan(0.015);
    }
  });

  it('always passes at 1 and never at 0', () => {
    expect(requests.every((r) => passesPacing(r, 3, 1))).toBe(true);
    expect(requests.some((r) => passesPacing(r, 3, 0))).toBe(false);
  });

  it('gives a replay of a request the same answer', () => {
    const first = requests.map((r) => passesPacing(r, 5, 0.4));
    const again = requests.map((r) => passesPacing(r, 5, 0.4));

    expect(again).toEqual(first);
  });

  it('decides independently for two campaigns of one request', () => {
    const both = requests.filter((r) => passesPacing(r, 1, 0.5) && passesPacing(r, 2, 0.5)).length;

    expect(Math.abs(both / requests.length - 0.25)).toBeLessThan(0.015);
  });
});

describe(unitHash.name, () => {
  it('is in [0, 1)', () => {
    const values = ['', 'a', 'req-1:2', 'x'.repeat(500)].map(unitHash);
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});
