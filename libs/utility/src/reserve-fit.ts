import { requireNonNegative } from './range-checks.js';

/** One logged auction for the top slot, both figures in USD of advertiser value per impression. */
export interface LoggedAuction {
  /** The winner's value as the auction saw it: bid x predictions (valuePerImpression). */
  readonly value: number;
  /** Its charge in the same unit: the competing bid, or the reserve in force if that was higher. */
  readonly competingBid: number;
}

export interface ReserveFit {
  /** The revenue-maximising reserve, USD per impression (x 1000 for AUCTION_RESERVE_CPM). */
  readonly reservePerImpression: number;
  readonly auctions: number;
  /** Mean revenue per auction, USD per impression, at the reserve in force and at the fitted one. */
  readonly revenueAtCurrent: number;
  readonly revenueAtFitted: number;
  /** Share of the logged auctions left without a winner at the fitted reserve. */
  readonly unfilledShare: number;
}

/**
 * The data-driven reserve of a second-price auction (Ostrovsky and Schwarz, "Reserve Prices in
 * Internet Advertising Auctions", 2011): replay every logged auction with the logged competing bid
 * under each reserve r and keep the r of highest mean revenue,
 *   R(r) = mean over auctions of [value >= r] x max(competingBid, r).
 * With independent values from a regular distribution F, R's maximiser tends to Myerson's optimal
 * reserve, the root of r - (1 - F(r)) / f(r) = 0, whatever the number of bidders; the replay needs
 * no form for F, only the logged pairs (the empirical distribution of the top two values).
 * Assumptions: bids do not react to the reserve (its short-run effect); values are the auction's
 * (the model's predictions), not the advertisers'; one slot (a winner below r leaves it empty: the
 * runner-up is worth at most the competing bid, below r too). Competing bids under the reserve in
 * force were logged as that reserve (censored), so only reserves at or above `currentReserve` are
 * evaluated. R is piecewise increasing between logged values, so its maximum is at `currentReserve`
 * or at a logged value: those are the candidates, scanned in O(n log n). The lowest reserve within
 * `tolerance` of the best revenue is kept (DEFAULT_RESERVE_TOLERANCE).
 */
export function fitReserve(
  auctions: readonly LoggedAuction[],
  currentReserve: number,
  tolerance = DEFAULT_RESERVE_TOLERANCE,
): ReserveFit | null {
  requireNonNegative('currentReserve', currentReserve);
  requireNonNegative('tolerance', tolerance);
  auctions.forEach((a, i) => {
    requireNonNegative(`auctions[${i}].value`, a.value);
    requireNonNegative(`auctions[${i}].competingBid`, a.competingBid);
  });
  const n = auctions.length;
  if (n === 0) return null;
  const revenueAtCurrent = meanRevenue(auctions, currentReserve);

  const byValue = [...auctions].sort((a, b) => b.value - a.value);
  const bids = [...new Set(auctions.map((a) => a.competingBid))].sort((a, b) => a - b);
  const count = new Fenwick(bids.length);
  const sum = new Fenwick(bids.length);
  const candidates = [{ reserve: currentReserve, total: revenueAtCurrent * n }];
  let inTotal = 0;
  let i = 0;
  while (i < n && byValue[i].value >= currentReserve) {
    const r = byValue[i].value;
    // Every auction whose winner is worth at least r stays filled at reserve r.
    while (i < n && byValue[i].value === r) {
      const k = lowerBound(bids, byValue[i].competingBid);
      count.add(k, 1);
      sum.add(k, byValue[i].competingBid);
      inTotal += byValue[i].competingBid;
      i++;
    }
    const below = lowerBound(bids, r);
    const total = inTotal + r * count.prefix(below) - sum.prefix(below);
    candidates.push({ reserve: r, total });
  }
  const top = Math.max(...candidates.map((c) => c.total));
  // The lowest reserve within `tolerance` of the best: on a flat curve, sampling noise picks the argmax.
  const best = candidates
    .filter((c) => c.total >= top * (1 - tolerance))
    .reduce((a, b) => (b.reserve < a.reserve ? b : a));
  const unfilled = auctions.filter((a) => a.value < best.reserve).length;
  return {
    reservePerImpression: best.reserve,
    auctions: n,
    revenueAtCurrent,
    revenueAtFitted: best.total / n,
    unfilledShare: unfilled / n,
  };
}

/**
 * fitReserve keeps the lowest reserve whose replayed revenue is within this share of the best: a
 * thick market's R(r) is flat until r nears the competing bids, and a higher reserve there buys
 * nothing in the log while it costs what the replay leaves out (lower slots, budgets, bidders' reaction).
 */
export const DEFAULT_RESERVE_TOLERANCE = 0.001;

/** R(r): mean revenue per logged auction under reserve r. */
export function meanRevenue(auctions: readonly LoggedAuction[], reserve: number): number {
  if (auctions.length === 0) return 0;
  let total = 0;
  for (const a of auctions) if (a.value >= reserve) total += Math.max(a.competingBid, reserve);
  return total / auctions.length;
}

/** The first index whose value is >= x (sorted ascending). */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Prefix sums with point updates (binary indexed tree). */
class Fenwick {
  private readonly tree: Float64Array;

  constructor(size: number) {
    this.tree = new Float64Array(size + 1);
  }

  add(index: number, delta: number): void {
    for (let i = index + 1; i < this.tree.length; i += i & -i) this.tree[i] += delta;
  }

  /** Sum of entries 0 .. end - 1. */
  prefix(end: number): number {
    let s = 0;
    for (let i = end; i > 0; i -= i & -i) s += this.tree[i];
    return s;
  }
}
