/** One shown ad scored by both models, and whether it was clicked. */
export interface ShadowImpression {
  live: number;
  shadow: number;
  clicked: boolean;
}

export interface HeadFigures {
  /** Mean binary cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7]. */
  logloss: number;
  /** Null without both a click and a non-click. */
  auc: number | null;
  /** Mean predicted pCTR. */
  predicted: number;
  /** Sum of predictions over the clicks: 1 is calibrated; null without clicks. */
  predictedOverObserved: number | null;
}

export interface ShadowComparison {
  impressions: number;
  clicks: number;
  /** Observed CTR. */
  observed: number;
  live: HeadFigures;
  shadow: HeadFigures;
  /** Shadow minus live: below 0, the shadow predicts these clicks better. */
  loglossDelta: number;
  /** Spearman rank correlation of the two models' pCTR over these impressions; null below 2. */
  rankCorrelation: number | null;
}

const EPSILON = 1e-7;

/** Live against shadow on the same impressions. */
export function compareShadow(impressions: readonly ShadowImpression[]): ShadowComparison {
  const labels = impressions.map((i) => i.clicked);
  const live = impressions.map((i) => i.live);
  const shadow = impressions.map((i) => i.shadow);
  const clicks = labels.filter(Boolean).length;
  const liveFigures = headFigures(live, labels);
  const shadowFigures = headFigures(shadow, labels);
  return {
    impressions: impressions.length,
    clicks,
    observed: impressions.length === 0 ? 0 : clicks / impressions.length,
    live: liveFigures,
    shadow: shadowFigures,
    loglossDelta: shadowFigures.logloss - liveFigures.logloss,
    rankCorrelation: spearman(live, shadow),
  };
}

export function headFigures(predictions: readonly number[], labels: readonly boolean[]): HeadFigures {
  const n = predictions.length;
  let loss = 0;
  let sum = 0;
  let clicks = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - EPSILON, Math.max(EPSILON, predictions[i]));
    loss -= labels[i] ? Math.log(p) : Math.log(1 - p);
    sum += predictions[i];
    if (labels[i]) clicks += 1;
  }
  return {
    logloss: n === 0 ? 0 : loss / n,
    auc: rocAuc(predictions, labels),
    predicted: n === 0 ? 0 : sum / n,
    predictedOverObserved: clicks === 0 ? null : sum / clicks,
  };
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties at their mean rank. */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number | null {
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  const ranks = averageRanks(scores);
  let positiveRanks = 0;
  labels.forEach((label, i) => {
    if (label) positiveRanks += ranks[i];
  });
  return (positiveRanks - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Pearson correlation of the average ranks; null when fewer than 2 values or one side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} values against ${b.length}`);
  if (a.length < 2) return null;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (a.length + 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = ra[i] - mean;
    const db = rb[i] - mean;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  return va === 0 || vb === 0 ? null : cov / Math.sqrt(va * vb);
}

/** 1-based ranks, ties sharing their mean rank. */
function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((x, y) => values[x] - values[y]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end += 1;
    const rank = (start + end + 1) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}
