/** A weighted observation: a prediction x, an outcome rate y and how much it counts. */
export interface WeightedPoint {
  x: number;
  y: number;
  w: number;
}

/** A non-decreasing step function, read between knots by linear interpolation. */
export interface IsotonicFit {
  /** Block centres (weighted mean x of each pooled block), increasing. */
  xs: number[];
  /** Block values (weighted mean y), non-decreasing. */
  ys: number[];
}

/**
 * Pool-adjacent-violators (Ayer et al. 1955; Zadrozny & Elkan 2002 for calibration): the
 * non-decreasing function of x closest to y in weighted least squares. Points of weight 0 are ignored.
 */
export function fitIsotonic(points: readonly WeightedPoint[]): IsotonicFit {
  const sorted = points.filter((p) => p.w > 0).sort((a, b) => a.x - b.x);
  const blocks: { sx: number; sy: number; w: number }[] = [];
  for (const p of sorted) {
    blocks.push({ sx: p.x * p.w, sy: p.y * p.w, w: p.w });
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1];
      const prev = blocks[blocks.length - 2];
      if (prev.sy / prev.w < last.sy / last.w) break;
      blocks.pop();
      prev.sx += last.sx;
      prev.sy += last.sy;
      prev.w += last.w;
    }
  }
  return { xs: blocks.map((b) => b.sx / b.w), ys: blocks.map((b) => b.sy / b.w) };
}

/** The fit at x: interpolated between block centres, flat beyond the first and last; x itself without blocks. */
export function applyIsotonic({ xs, ys }: IsotonicFit, x: number): number {
  const n = xs.length;
  if (n === 0) return x;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[n - 1]) return ys[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const t = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + t * (ys[hi] - ys[lo]);
}
