export const MICROS_PER_USD = 1_000_000;

/**
 * Rounds a price up to whole micro-dollars, so a rounded price still covers the value it had to beat.
 * The 1e-6 micro slack absorbs float noise (0.0005 * 1000 must stay 0.5, not become 0.500001).
 */
export function ceilToMicros(usd: number): number {
  return Math.max(0, Math.ceil(usd * MICROS_PER_USD - 1e-6)) / MICROS_PER_USD;
}

/** USD to whole micro-dollars, for the ledger and budget state, where no float money is kept. */
export function usdToMicros(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0)
    throw new RangeError(`expected a non-negative USD amount, got ${usd}`);
  return Math.round(usd * MICROS_PER_USD);
}
