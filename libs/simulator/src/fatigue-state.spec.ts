import { describe, expect, it } from '@jest/globals';
import { FATIGUE, FatigueState } from './fatigue-state.js';

const HOUR = 3600;

describe(FatigueState.name, () => {
  it('starts fresh: no load, multiplier 1', () => {
    const sut = new FatigueState(0.5);
    expect(sut.loadAt(0)).toBe(0);
    expect(sut.engagementAt(10 * HOUR)).toEqual({ multiplier: 1, level: 0 });
  });

  it('adds 1 + 2 x irrelevance per examined ad, so an irrelevant ad weighs three relevant ones', () => {
    const sut = new FatigueState(1);
    sut.recordExposure(0, 0);
    sut.recordExposure(0, 1);
    sut.recordExposure(0, 0.5);
    expect(sut.loadAt(0)).toBeCloseTo(1 + 3 + 2, 12);
    expect(sut.exposureCount).toBe(3);
  });

  it('halves the load every half-life and recovers towards full engagement', () => {
    const sut = new FatigueState(1);
    for (let i = 0; i < 12; i++) sut.recordExposure(HOUR, 1);
    expect(sut.loadAt(HOUR)).toBeCloseTo(36, 10);
    expect(sut.loadAt(HOUR + FATIGUE.halfLifeSeconds)).toBeCloseTo(18, 10);
    expect(sut.loadAt(HOUR + 2 * FATIGUE.halfLifeSeconds)).toBeCloseTo(9, 10);
    expect(sut.multiplierAt(HOUR)).toBeLessThan(sut.multiplierAt(HOUR + 6 * HOUR));
    expect(sut.multiplierAt(HOUR + 7 * 24 * HOUR)).toBeCloseTo(1, 6);
  });

  it('halves engagement when the load equals the capacity 24 x tolerance', () => {
    const sut = new FatigueState(0.5);
    expect(sut.capacity).toBe(12);
    for (let i = 0; i < 12; i++) sut.recordExposure(0, 0);
    expect(sut.levelAt(0)).toBeCloseTo(1, 12);
    expect(sut.multiplierAt(0)).toBeCloseTo(0.5, 12);
  });

  it('tires a low-tolerance user sooner than a tolerant one', () => {
    const low = new FatigueState(0.3);
    const high = new FatigueState(1);
    for (const s of [low, high]) for (let i = 0; i < 10; i++) s.recordExposure(i * 60, 0.4);
    expect(low.multiplierAt(600)).toBeLessThan(high.multiplierAt(600));
  });

  it('refuses time running backwards, bad irrelevance and bad tolerance', () => {
    const sut = new FatigueState(0.5);
    sut.recordExposure(100, 0.2);
    expect(() => sut.loadAt(50)).toThrow(/ran backwards/);
    expect(() => sut.recordExposure(200, 1.5)).toThrow(/irrelevance must be in \[0, 1\]/);
    expect(() => new FatigueState(0)).toThrow(/tolerance must be a positive number/);
  });
});
