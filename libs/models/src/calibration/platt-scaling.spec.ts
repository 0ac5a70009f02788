import { describe, expect, it } from '@jest/globals';
import { applyPlatt, fitPlatt, logit, sigmoid } from './platt-scaling.js';

describe(fitPlatt.name, () => {
  it('recovers the map that generated the rates', () => {
    const truth = { a: 0.8, b: 0.4 };
    const points = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2].map((x) => ({
      x,
      y: sigmoid(truth.a * logit(x) + truth.b),
      w: 10_000,
    }));
    const sut = fitPlatt(points, 0);
    expect(sut.a).toBeCloseTo(0.8, 4);
    expect(sut.b).toBeCloseTo(0.4, 4);
  });

  it('stays at the identity without data and moves little on a few points', () => {
    expect(fitPlatt([])).toEqual({ a: 1, b: 0 });
    const sut = fitPlatt([{ x: 0.05, y: 1, w: 1 }], 10);
    expect(Math.abs(sut.b)).toBeLessThan(0.5);
  });

  it('moves only the intercept when the slope is not to be fitted', () => {
    const points = [0.01, 0.1].map((x) => ({ x, y: sigmoid(0.5 * logit(x) + 0.3), w: 10_000 }));
    const sut = fitPlatt(points, 0, false);
    expect(sut.a).toBe(1);
    expect(Math.abs(sut.b)).toBeGreaterThan(0);
  });

  it('scales a model that predicts 80% of the observed rate up to it', () => {
    const points = [0.01, 0.02, 0.04].map((x) => ({ x, y: x / 0.8, w: 50_000 }));
    const sut = fitPlatt(points);
    for (const { x, y } of points) expect(applyPlatt(sut, x) / y).toBeCloseTo(1, 2);
  });
});
