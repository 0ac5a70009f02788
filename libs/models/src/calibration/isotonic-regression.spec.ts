import { describe, expect, it } from '@jest/globals';
import { applyIsotonic, fitIsotonic } from './isotonic-regression.js';

describe(fitIsotonic.name, () => {
  it('keeps an increasing sequence as it is', () => {
    const sut = fitIsotonic([1, 2, 3].map((x) => ({ x, y: x / 10, w: 1 })));
    expect(sut).toEqual({ xs: [1, 2, 3], ys: [0.1, 0.2, 0.3] });
  });

  it('pools adjacent violators into their weighted mean', () => {
    const sut = fitIsotonic([
      { x: 1, y: 0.1, w: 1 },
      { x: 2, y: 0.5, w: 1 },
      { x: 3, y: 0.2, w: 3 },
      { x: 4, y: 0.6, w: 1 },
    ]);
    expect(sut.xs).toEqual([1, (2 + 9) / 4, 4]);
    expect(sut.ys.map((y) => Math.round(y * 1e6) / 1e6)).toEqual([0.1, 0.275, 0.6]);
  });

  it('ignores order of input and points of weight 0', () => {
    const sut = fitIsotonic([
      { x: 3, y: 0.3, w: 1 },
      { x: 1, y: 0.1, w: 1 },
      { x: 2, y: 0.9, w: 0 },
    ]);
    expect(sut).toEqual({ xs: [1, 3], ys: [0.1, 0.3] });
  });
});

describe(applyIsotonic.name, () => {
  const fit = { xs: [0.1, 0.3], ys: [0.2, 0.4] };

  it('interpolates between block centres and is flat beyond them', () => {
    expect(applyIsotonic(fit, 0.2)).toBeCloseTo(0.3, 12);
    expect(applyIsotonic(fit, 0.01)).toBe(0.2);
    expect(applyIsotonic(fit, 0.9)).toBe(0.4);
  });

  it('is the identity without blocks', () => {
    expect(applyIsotonic({ xs: [], ys: [] }, 0.42)).toBe(0.42);
  });
});
