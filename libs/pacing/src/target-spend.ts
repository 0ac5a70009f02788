import type { LocalDay } from './local-day.js';
import type { TrafficCurve } from './traffic-curve.js';

/**
 * What an evenly paced campaign should have spent by `atMs`: its daily budget times the share of
 * its local day's expected traffic that has gone by. Micros, not rounded.
 */
export function targetSpend(budgetMicros: number, curve: TrafficCurve, day: LocalDay, atMs: number): number {
  const at = Math.min(Math.max(atMs, day.startMs), day.endMs);
  const whole = curve.shareBetween(day.startMs, day.endMs);
  return (budgetMicros * curve.shareBetween(day.startMs, at)) / whole;
}
