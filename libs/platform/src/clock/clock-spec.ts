import { Clock, ScaledClock, SystemClock } from './clock.js';

export type ClockSpec =
  | { readonly kind: 'system' }
  | { readonly kind: 'scaled'; readonly startMs: number; readonly anchorMs: number; readonly speed: number };

export const CLOCK_SPEC_FORMAT = 'system or scaled:<start ISO 8601>@<wall anchor epoch ms>x<speed>';

const SCALED = /^scaled:(.+)@(\d{1,16})x(\d+(?:\.\d+)?)$/;
// A start with an explicit offset, so two processes in different time zones read the same instant.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_SPEED = 100_000;

export class ClockSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClockSpecError';
  }
}

/** Reads a `CLOCK` value; throws ClockSpecError saying what is wrong. */
export function parseClockSpec(value: string): ClockSpec {
  if (value === 'system') return { kind: 'system' };
  const match = SCALED.exec(value);
  if (match === null) throw new ClockSpecError(`expected ${CLOCK_SPEC_FORMAT}`);
  const [, start = '', anchor = '', speedText = ''] = match;
  if (!ISO_INSTANT.test(start) || Number.isNaN(Date.parse(start))) {
    throw new ClockSpecError(
      `the simulated start must be an ISO 8601 instant with Z or an offset (e.g. 2026-03-02T00:00:00Z), in ${CLOCK_SPEC_FORMAT}`,
    );
  }
  const speed = Number(speedText);
  if (!(speed > 0 && speed <= MAX_SPEED)) {
    throw new ClockSpecError(`the speed must be above 0 and at most ${MAX_SPEED}, in ${CLOCK_SPEC_FORMAT}`);
  }
  return { kind: 'scaled', startMs: Date.parse(start), anchorMs: Number(anchor), speed };
}

/** The problem with a `CLOCK` value, or undefined when it is valid (for config schemas). */
export function clockSpecProblem(value: string): string | undefined {
  try {
    parseClockSpec(value);
    return undefined;
  } catch (error) {
    if (error instanceof ClockSpecError) return error.message;
    throw error;
  }
}

/** The `CLOCK` value of a scaled clock whose simulated `startMs` is the wall instant `anchorMs`. */
export function scaledClockSpec(startMs: number, anchorMs: number, speed: number): string {
  const value = `scaled:${new Date(startMs).toISOString()}@${Math.round(anchorMs)}x${speed}`;
  parseClockSpec(value);
  return value;
}

export function clockOf(value: string, wallNow: () => number = Date.now): Clock {
  const spec = parseClockSpec(value);
  switch (spec.kind) {
    case 'system':
      return new SystemClock();
    case 'scaled':
      return new ScaledClock(spec.startMs, spec.anchorMs, spec.speed, wallNow);
  }
}
