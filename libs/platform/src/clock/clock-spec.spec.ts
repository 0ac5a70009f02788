import { describe, expect, it } from '@jest/globals';
import { ScaledClock, SystemClock } from './clock.js';
import { ClockSpecError, clockOf, clockSpecProblem, parseClockSpec, scaledClockSpec } from './clock-spec.js';

const START = Date.parse('2026-03-02T00:00:00Z');
const ANCHOR = 1_700_000_000_000;

describe(parseClockSpec.name, () => {
  it('reads the system clock', () => {
    expect(parseClockSpec('system')).toEqual({ kind: 'system' });
  });

  it('reads a scaled clock: simulated start, wall anchor and speed', () => {
    expect(parseClockSpec(`scaled:2026-03-02T00:00:00Z@${ANCHOR}x60`)).toEqual({
      kind: 'scaled',
      startMs: START,
      anchorMs: ANCHOR,
      speed: 60,
    });
    expect(parseClockSpec(`scaled:2026-03-02T01:00:00+01:00@${ANCHOR}x0.5`)).toMatchObject({
      startMs: START,
      speed: 0.5,
    });
  });

  it.each([
    ['', /^expected system or scaled:/],
    ['realtime', /^expected system or scaled:/],
    [`scaled:2026-03-02T00:00:00Z@${ANCHOR}`, /^expected system or scaled:/],
    [`scaled:2026-03-02T00:00:00Z x60`, /^expected system or scaled:/],
    [`scaled:2026-03-02T00:00:00@${ANCHOR}x60`, /simulated start must be an ISO 8601 instant with Z/],
    [`scaled:yesterday@${ANCHOR}x60`, /simulated start must be an ISO 8601 instant/],
    [`scaled:2026-13-45T00:00:00Z@${ANCHOR}x60`, /simulated start must be an ISO 8601 instant/],
    [`scaled:2026-03-02T00:00:00Z@${ANCHOR}x0`, /speed must be above 0 and at most 100000/],
    [`scaled:2026-03-02T00:00:00Z@${ANCHOR}x1000000`, /speed must be above 0/],
  ])('refuses %j saying why', (value, message) => {
    expect(() => parseClockSpec(value)).toThrow(ClockSpecError);
    expect(clockSpecProblem(value)).toMatch(message);
  });

  it('finds no problem with a valid value', () => {
    expect(clockSpecProblem('system')).toBeUndefined();
  });
});

describe(scaledClockSpec.name, () => {
  it('writes a value that reads back to the same clock', () => {
    const value = scaledClockSpec(START, ANCHOR, 96);

    expect(value).toBe(`scaled:2026-03-02T00:00:00.000Z@${ANCHOR}x96`);
    expect(parseClockSpec(value)).toEqual({ kind: 'scaled', startMs: START, anchorMs: ANCHOR, speed: 96 });
  });
});

describe(ScaledClock.name, () => {
  it('is the simulated start at the anchor and runs speed times faster than the wall', () => {
    let wall = ANCHOR;
    const sut = clockOf(scaledClockSpec(START, ANCHOR, 60), () => wall);

    expect(sut).toBeInstanceOf(ScaledClock);
    expect(sut.now()).toBe(START);
    wall += 1_000;
    expect(sut.now()).toBe(START + 60_000);
    wall += 60_000;
    expect(sut.now()).toBe(START + 61 * 60_000);
  });

  it('gives two processes with the same value the same time, whenever each started', () => {
    const value = scaledClockSpec(START, ANCHOR, 96);
    const wall = () => ANCHOR + 12_345;

    expect(clockOf(value, wall).now()).toBe(clockOf(value, wall).now());
    expect(clockOf(value, wall).now()).toBe(START + 12_345 * 96);
  });

  it('answers whole milliseconds', () => {
    const sut = new ScaledClock(START, ANCHOR, 0.3, () => ANCHOR + 1);

    expect(Number.isInteger(sut.now())).toBe(true);
  });
});

describe(SystemClock.name, () => {
  it('is the wall clock', () => {
    const before = Date.now();
    const now = clockOf('system').now();

    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
