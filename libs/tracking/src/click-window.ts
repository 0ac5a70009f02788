export const DEFAULT_CLICK_WINDOW_DAYS = 7;
const DAY_MS = 86_400_000;

/** Where a conversion falls against the click it claims: only `inside` is attributed and billed. */
export type ClickWindowPlacement = 'inside' | 'before_click' | 'after_window';

/**
 * The click-through attribution window: from the click itself to `windowDays` days later, both ends
 * included. A conversion before its click is impossible and is refused like a late one.
 */
export function clickWindowPlacement(
  clickAt: number,
  conversionAt: number,
  windowDays: number,
): ClickWindowPlacement {
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new RangeError(`click window must be a positive whole number of days, got ${windowDays}`);
  }
  if (conversionAt < clickAt) return 'before_click';
  return conversionAt - clickAt <= windowDays * DAY_MS ? 'inside' : 'after_window';
}
