export const DEFAULT_CLICK_WINDOW_DAYS = 7;
const DAY_MS = 86_400_000;
/**
 * How far before its click a conversion may be stamped and still count as at the click: the
 * advertiser's server has a clock of its own and often sends whole seconds (12:00:05 for a
 * conversion a moment after a click at 12:00:05.254).
 */
export const CONVERSION_CLOCK_SKEW_MS = 5_000;

/** Where a conversion falls against the click it claims: only `inside` is attributed and billed. */
export type ClickWindowPlacement = 'inside' | 'before_click' | 'after_window';

/**
 * The click-through attribution window: from the click itself to `windowDays` days later, both ends
 * included. A conversion before its click (by more than CONVERSION_CLOCK_SKEW_MS) is impossible and is
 * refused like a late one.
 */
export function clickWindowPlacement(
  clickAt: number,
  conversionAt: number,
  windowDays: number,
): ClickWindowPlacement {
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new RangeError(`click window must be a positive whole number of days, got ${windowDays}`);
  }
  if (conversionAt < clickAt - CONVERSION_CLOCK_SKEW_MS) return 'before_click';
  return conversionAt - clickAt <= windowDays * DAY_MS ? 'inside' : 'after_window';
}
