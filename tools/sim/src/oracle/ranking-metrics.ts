/** Probabilities are clipped here before a log, so one confident miss cannot make logloss infinite. */
export const LOGLOSS_EPSILON = 1e-7;

function clip(p: number): number {
  return Math.min(1 - LOGLOSS_EPSILON, Math.max(LOGLOSS_EPSILON, p));
}

/** Cross-entropy of prediction q against target t in [0, 1] (a 0/1 label, or a true probability). */
export function crossEntropy(q: number, t: number): number {
  const c = clip(q);
  return -(t * Math.log(c) + (1 - t) * Math.log(1 - c));
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative,
 * ties counting one half (rank-sum form, O(n log n)). NaN without both classes.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`auc: ${n} scores but ${labels.length} labels`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (labels[order[t]] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface RankingMetrics {
  /** Candidate rows scored. */
  rows: number;
  /** Rows whose Bernoulli draw came up a click. */
  positives: number;
  /** Logloss of the model's pCtr on the drawn clicks. */
  logloss: number;
  /** Logloss of the true probabilities on the same draws: the floor no model beats in expectation. */
  bayesLogloss: number;
  /** Cross-entropy of pCtr against the true probabilities (the draw-free logloss the model expects). */
  expectedLogloss: number;
  /** Entropy of the true probabilities: the draw-free Bayes floor. */
  expectedBayesLogloss: number;
  /** AUC of pCtr on the drawn clicks; null without both clicks and non-clicks. */
  auc: number | null;
  /** AUC of the true probabilities on the same draws: the best any model could rank. */
  bayesAuc: number | null;
  /** Mean predicted over mean true probability; 1 is calibrated. */
  calibration: number | null;
}

/**
 * Collects (predicted, true probability, drawn label) rows over many requests and reports the
 * model against the truth. Rows are kept (12 bytes each) because AUC needs them all.
 */
export class RankingMetricsAccumulator {
  private predicted = new Float32Array(1024);
  private truth = new Float32Array(1024);
  private labels = new Uint8Array(1024);
  private n = 0;
  private sumLoss = 0;
  private sumBayesLoss = 0;
  private sumExpectedLoss = 0;
  private sumEntropy = 0;
  private sumPredicted = 0;
  private sumTruth = 0;
  private positives = 0;

  add(predicted: number, truth: number, label: 0 | 1): void {
    if (!(predicted >= 0 && predicted <= 1))
      throw new RangeError(`predicted probability must be in [0, 1], got ${predicted}`);
    if (this.n === this.labels.length) this.grow();
    this.predicted[this.n] = predicted;
    this.truth[this.n] = truth;
    this.labels[this.n] = label;
    this.n++;
    this.sumLoss += crossEntropy(predicted, label);
    this.sumBayesLoss += crossEntropy(truth, label);
    this.sumExpectedLoss += crossEntropy(predicted, truth);
    this.sumEntropy += crossEntropy(truth, truth);
    this.sumPredicted += predicted;
    this.sumTruth += truth;
    this.positives += label;
  }

  get rows(): number {
    return this.n;
  }

  result(): RankingMetrics | null {
    if (this.n === 0) return null;
    const labels = this.labels.subarray(0, this.n);
    return {
      rows: this.n,
      positives: this.positives,
      logloss: this.sumLoss / this.n,
      bayesLogloss: this.sumBayesLoss / this.n,
      expectedLogloss: this.sumExpectedLoss / this.n,
      expectedBayesLogloss: this.sumEntropy / this.n,
      auc: finiteOrNull(auc(this.predicted.subarray(0, this.n), labels)),
      bayesAuc: finiteOrNull(auc(this.truth.subarray(0, this.n), labels)),
      calibration: this.sumTruth === 0 ? null : this.sumPredicted / this.sumTruth,
    };
  }

  private grow(): void {
    const size = this.labels.length * 2;
    const predicted = new Float32Array(size);
    predicted.set(this.predicted);
    const truth = new Float32Array(size);
    truth.set(this.truth);
    const labels = new Uint8Array(size);
    labels.set(this.labels);
    this.predicted = predicted;
    this.truth = truth;
    this.labels = labels;
  }
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
