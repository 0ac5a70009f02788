/** 95% two-sided normal quantile. */
const Z95 = 1.959963984540054;
const EPS = 1e-7;

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/**
 * Difference of two proportions (after - before) with a 95% Wald interval. The two runs are treated
 * as independent samples; the same seed makes them positively correlated, so the interval is wide
 * rather than narrow.
 */
export function proportionDifference(
  before: { successes: number; trials: number },
  after: { successes: number; trials: number },
): Interval {
  if (before.trials <= 0 || after.trials <= 0) throw new RangeError('both runs need at least one trial');
  const p1 = before.successes / before.trials;
  const p2 = after.successes / after.trials;
  const se = Math.sqrt((p1 * (1 - p1)) / before.trials + (p2 * (1 - p2)) / after.trials);
  const d = p2 - p1;
  return { estimate: d, low: d - Z95 * se, high: d + Z95 * se };
}

/** Mean of paired differences with a 95% normal interval (the same rows scored two ways). */
export function pairedMeanDifference(differences: ArrayLike<number>): Interval {
  const n = differences.length;
  if (n < 2) throw new RangeError('a paired difference needs at least two rows');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += differences[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (differences[i] - mean) ** 2;
  const se = Math.sqrt(ss / (n - 1) / n);
  return { estimate: mean, low: mean - Z95 * se, high: mean + Z95 * se };
}

/** Per-row binary cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7]. */
export function rowLogloss(p: number, y: number): number {
  const q = Math.min(Math.max(p, EPS), 1 - EPS);
  return -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
}

/** ROC AUC by the rank-sum statistic, ties given their average rank; null without both classes. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]] === scores[order[start]]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]] > 0.5) {
        positives++;
        rankSum += rank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
