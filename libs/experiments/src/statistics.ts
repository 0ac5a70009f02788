/**
 * Comparing two arms: difference of means (Welch), ratio metrics by the delta method, relative lift,
 * CUPED, and the sample-ratio-mismatch check. Differences are always treatment minus control (b - a).
 * The distributions (Student t, chi-square, normal) are computed here from the regularized incomplete
 * beta and gamma functions (Numerical Recipes' continued fractions), no dependency.
 */

/** n, mean and sample variance (n - 1 in the denominator) of one arm's per-unit values. */
export interface Moments {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

export function moments(values: ArrayLike<number>): Moments {
  const n = values.length;
  if (n < 2) throw new RangeError(`need at least 2 values, got ${n}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { n, mean, variance: squares / (n - 1) };
}

/** An estimate of a difference (or a lift) with its standard error, test and confidence interval. */
export interface Comparison {
  readonly estimate: number;
  readonly standardError: number;
  /** The test statistic: estimate / standardError (t for Welch, z otherwise). */
  readonly statistic: number;
  /** Two-sided p-value of "no difference". */
  readonly pValue: number;
  readonly ci: readonly [number, number];
  /** Welch-Satterthwaite degrees of freedom; absent for a normal (z) interval. */
  readonly df?: number;
}

export interface MeanComparison {
  readonly control: Moments;
  readonly treatment: Moments;
  /** mean_b - mean_a, Welch's t. */
  readonly difference: Comparison;
  /** mean_b / mean_a - 1, by the delta method (normal). */
  readonly relativeLift: Comparison;
}

/**
 * Welch's t-test and interval for mean_b - mean_a: SE = sqrt(s_a^2/n_a + s_b^2/n_b), df by
 * Welch-Satterthwaite, (s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)).
 */
export function compareMeans(
  control: ArrayLike<number> | Moments,
  treatment: ArrayLike<number> | Moments,
  level = 0.95,
): MeanComparison {
  const a = isMoments(control) ? control : moments(control);
  const b = isMoments(treatment) ? treatment : moments(treatment);
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se = Math.sqrt(va + vb);
  // Both arms constant: no variance to apportion, the pooled df.
  const df = va + vb > 0 ? (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1)) : a.n + b.n - 2;
  const estimate = b.mean - a.mean;
  const statistic = se > 0 ? estimate / se : estimate === 0 ? 0 : Math.sign(estimate) * Infinity;
  const pValue = Number.isFinite(statistic)
    ? regularizedBeta(df / (df + statistic * statistic), df / 2, 0.5)
    : 0;
  const q = studentTQuantile(1 - (1 - level) / 2, df);
  return {
    control: a,
    treatment: b,
    difference: {
      estimate,
      standardError: se,
      statistic,
      pValue,
      ci: [estimate - q * se, estimate + q * se],
      df,
    },
    relativeLift: relativeLift(a.mean, va, b.mean, vb, level),
  };
}

/**
 * A ratio metric over units (CTR = sum clicks / sum impressions, users as units): R = mean(x) /
 * mean(y). Its variance by the delta method (a first-order Taylor expansion of x/y at the means):
 *
 *   Var(R) ~= (1 / (n mean(y)^2)) (s_x^2 - 2 R s_xy + R^2 s_y^2)
 *
 * with s_x^2, s_y^2, s_xy the sample (co)variances of the per-unit x and y. It accounts for a unit's
 * events being correlated (one user's clicks on their impressions), which a test treating the
 * impressions as independent Bernoulli trials ignores.
 */
export interface RatioEstimate {
  readonly n: number;
  readonly numerator: number;
  readonly denominator: number;
  readonly ratio: number;
  /** Variance of the ratio estimate (not of a unit's ratio). */
  readonly variance: number;
}

export function ratioEstimate(numerators: ArrayLike<number>, denominators: ArrayLike<number>): RatioEstimate {
  const n = numerators.length;
  if (denominators.length !== n) {
    throw new RangeError(`numerators (${n}) and denominators (${denominators.length}) differ in length`);
  }
  if (n < 2) throw new RangeError(`need at least 2 units, got ${n}`);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += numerators[i];
    sy += denominators[i];
  }
  if (!(sy > 0)) throw new RangeError('the denominators sum to 0: the ratio is undefined');
  const mx = sx / n;
  const my = sy / n;
  const ratio = mx / my;
  let vxx = 0;
  let vyy = 0;
  let vxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = numerators[i] - mx;
    const dy = denominators[i] - my;
    vxx += dx * dx;
    vyy += dy * dy;
    vxy += dx * dy;
  }
  vxx /= n - 1;
  vyy /= n - 1;
  vxy /= n - 1;
  const variance = Math.max(0, (vxx - 2 * ratio * vxy + ratio * ratio * vyy) / (n * my * my));
  return { n, numerator: sx, denominator: sy, ratio, variance };
}

export interface RatioComparison {
  readonly control: RatioEstimate;
  readonly treatment: RatioEstimate;
  /** R_b - R_a, z interval on Var(R_a) + Var(R_b). */
  readonly difference: Comparison;
  readonly relativeLift: Comparison;
}

export function compareRatios(
  control: RatioEstimate,
  treatment: RatioEstimate,
  level = 0.95,
): RatioComparison {
  return {
    control,
    treatment,
    difference: zComparison(
      treatment.ratio - control.ratio,
      Math.sqrt(control.variance + treatment.variance),
      level,
    ),
    relativeLift: relativeLift(control.ratio, control.variance, treatment.ratio, treatment.variance, level),
  };
}

/**
 * Relative lift L = b / a - 1 of two independent estimates with variances var_a, var_b, by the delta
 * method: Var(b / a) ~= var_b / a^2 + b^2 var_a / a^4. Normal interval.
 */
export function relativeLift(a: number, varA: number, b: number, varB: number, level = 0.95): Comparison {
  if (a === 0) throw new RangeError('the control estimate is 0: a relative lift is undefined');
  const se = Math.sqrt(varB / (a * a) + (b * b * varA) / a ** 4);
  return zComparison(b / a - 1, se, level);
}

export interface CupedComparison extends MeanComparison {
  /** cov(x, y) / var(x) over both arms pooled. */
  readonly theta: number;
  /** 1 - Var(adjusted) / Var(y) over both arms pooled (rho^2 for a linear relation). */
  readonly varianceReduction: number;
  /** Pearson's rho(x, y) over both arms pooled (0 when x or y is constant). */
  readonly correlation: number;
}

/**
 * CUPED (Deng et al., WSDM'13): y_adj = y - theta (x - mean(x)), x a pre-period covariate of the same
 * unit (its metric before the experiment, independent of the assignment), theta = cov(x, y) / var(x)
 * pooled over both arms. The difference of adjusted means is unbiased for the difference of means and
 * its variance is smaller by the factor 1 - rho(x, y)^2. Compared with Welch on the adjusted values.
 */
export function compareMeansCuped(
  control: { readonly y: ArrayLike<number>; readonly x: ArrayLike<number> },
  treatment: { readonly y: ArrayLike<number>; readonly x: ArrayLike<number> },
  level = 0.95,
): CupedComparison {
  for (const [name, arm] of [
    ['control', control],
    ['treatment', treatment],
  ] as const) {
    if (arm.x.length !== arm.y.length) {
      throw new RangeError(
        `${name}: the covariate (${arm.x.length}) and the metric (${arm.y.length}) differ in length`,
      );
    }
  }
  const y = [...Array.from(control.y), ...Array.from(treatment.y)];
  const x = [...Array.from(control.x), ...Array.from(treatment.x)];
  const my = mean(y);
  const mx = mean(x);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
  }
  const theta = sxx > 0 ? sxy / sxx : 0;
  const adjust = (arm: { y: ArrayLike<number>; x: ArrayLike<number> }) =>
    Array.from(arm.y, (v, i) => v - theta * (arm.x[i] - mx));
  const adjustedA = adjust(control);
  const adjustedB = adjust(treatment);
  const before = moments(y).variance;
  const after = moments([...adjustedA, ...adjustedB]).variance;
  return {
    ...compareMeans(adjustedA, adjustedB, level),
    theta,
    varianceReduction: before > 0 ? 1 - after / before : 0,
    correlation: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0,
  };
}

/** One arm's units for a CUPED ratio: x / y in the experiment, xPre / yPre the same units' pre-period. */
export interface CupedRatioArm {
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly xPre: ArrayLike<number>;
  readonly yPre: ArrayLike<number>;
}

export interface CupedRatioComparison {
  /** Each arm's ratio less theta times its pre-period ratio's distance from the pooled pre-period ratio. */
  readonly control: number;
  readonly treatment: number;
  /** (R_b - R_a) - theta (Rpre_b - Rpre_a), z interval. */
  readonly difference: Comparison;
  /** treatment / control - 1 of the adjusted ratios; null when the adjusted control is 0. */
  readonly relativeLift: Comparison | null;
  readonly theta: number;
  /** 1 - Var(adjusted difference) / Var(plain difference). */
  readonly varianceReduction: number;
  /** rho of the linearized ratio and the linearized pre-period ratio, both arms pooled. */
  readonly correlation: number;
}

/**
 * CUPED for a ratio of sums (Deng, Knoblich and Lu, KDD'18): each arm's ratio R = mean(x) / mean(y)
 * is linearized by the delta method to the per-unit l_i = (x_i - R y_i) / mean(y) (Var(R) ~= var(l) /
 * n, what ratioEstimate computes), its pre-period ratio likewise to lpre_i; theta = cov(l, lpre) /
 * var(lpre) pooled over both arms, and R - theta Rpre has the variance var(l - theta lpre) / n. The
 * pre-period does not depend on the assignment, so Rpre_b - Rpre_a is 0 in expectation and the
 * adjusted difference stays unbiased. A unit with no pre-period data has xPre = yPre = 0, so lpre = 0.
 */
export function compareRatiosCuped(
  control: CupedRatioArm,
  treatment: CupedRatioArm,
  level = 0.95,
): CupedRatioComparison {
  const linearize = (name: string, arm: CupedRatioArm) => {
    const n = arm.x.length;
    if (arm.y.length !== n || arm.xPre.length !== n || arm.yPre.length !== n) {
      throw new RangeError(`${name}: x, y, xPre and yPre differ in length`);
    }
    if (n < 2) throw new RangeError(`${name}: need at least 2 units, got ${n}`);
    const my = mean(Array.from(arm.y));
    const myPre = mean(Array.from(arm.yPre));
    if (!(my > 0)) throw new RangeError(`${name}: the denominators sum to 0: the ratio is undefined`);
    if (!(myPre > 0)) {
      throw new RangeError(`${name}: the pre-period denominators sum to 0: no pre-period ratio`);
    }
    const ratio = mean(Array.from(arm.x)) / my;
    const ratioPre = mean(Array.from(arm.xPre)) / myPre;
    const l = Array.from(arm.x, (x, i) => (x - ratio * arm.y[i]) / my);
    const lPre = Array.from(arm.xPre, (x, i) => (x - ratioPre * arm.yPre[i]) / myPre);
    return { n, ratio, ratioPre, l, lPre, preNumerator: mean(Array.from(arm.xPre)), preDenominator: myPre };
  };
  const a = linearize('control', control);
  const b = linearize('treatment', treatment);
  // l and lPre have mean 0 within an arm by construction: the sums are the pooled (co)variances.
  let sll = 0;
  let spp = 0;
  let slp = 0;
  for (const arm of [a, b]) {
    for (let i = 0; i < arm.n; i++) {
      sll += arm.l[i] ** 2;
      spp += arm.lPre[i] ** 2;
      slp += arm.l[i] * arm.lPre[i];
    }
  }
  const theta = spp > 0 ? slp / spp : 0;
  const variance = (arm: typeof a, t: number) =>
    arm.l.reduce((s, v, i) => s + (v - t * arm.lPre[i]) ** 2, 0) / (arm.n - 1) / arm.n;
  const varA = variance(a, theta);
  const varB = variance(b, theta);
  const plain = variance(a, 0) + variance(b, 0);
  // The pooled pre-period ratio, which both arms' pre-period ratios estimate.
  const pooledPre =
    (a.n * a.preNumerator + b.n * b.preNumerator) / (a.n * a.preDenominator + b.n * b.preDenominator);
  const adjustedA = a.ratio - theta * (a.ratioPre - pooledPre);
  const adjustedB = b.ratio - theta * (b.ratioPre - pooledPre);
  return {
    control: adjustedA,
    treatment: adjustedB,
    difference: zComparison(adjustedB - adjustedA, Math.sqrt(varA + varB), level),
    relativeLift: adjustedA === 0 ? null : relativeLift(adjustedA, varA, adjustedB, varB, level),
    theta,
    varianceReduction: plain > 0 ? 1 - (varA + varB) / plain : 0,
    correlation: sll > 0 && spp > 0 ? slp / Math.sqrt(sll * spp) : 0,
  };
}

export interface SampleRatioCheck {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  /** pValue below the threshold: the assignment or the logging is broken, the comparison untrustworthy. */
  readonly mismatch: boolean;
  readonly expected: readonly number[];
}

/**
 * Sample-ratio mismatch: Pearson's chi-square of the units counted per arm against the configured
 * shares (normalized to the arms compared), k - 1 degrees of freedom. The usual threshold is 0.001,
 * strict because a true mismatch is usually large and the check runs on every experiment.
 */
export function sampleRatioMismatch(
  counts: readonly number[],
  shares: readonly number[],
  threshold = 0.001,
): SampleRatioCheck {
  if (counts.length !== shares.length || counts.length < 2) {
    throw new RangeError(
      `need one share per count and at least 2 arms, got ${counts.length} and ${shares.length}`,
    );
  }
  if (shares.some((s) => !(s > 0))) throw new RangeError('every share must be > 0');
  const total = counts.reduce((s, c) => s + c, 0);
  const shareTotal = shares.reduce((s, c) => s + c, 0);
  const expected = shares.map((s) => (total * s) / shareTotal);
  const statistic = counts.reduce((s, c, i) => s + (c - expected[i]) ** 2 / expected[i], 0);
  const df = counts.length - 1;
  const pValue = total > 0 ? chiSquareSurvival(statistic, df) : 1;
  return { statistic, df, pValue, mismatch: pValue < threshold, expected };
}

// ---- distributions --------------------------------------------------------------------------------

/** P(X > x) for X ~ chi-square with df degrees of freedom: Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** Standard normal CDF, from the incomplete gamma function (erf(x) = P(1/2, x^2)). */
export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  const half = 0.5 * regularizedGammaQ(0.5, (z * z) / 2);
  return z >= 0 ? 1 - half : half;
}

/** Standard normal quantile: Acklam's rational approximation, refined by one Halley step. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`p must be in [0, 1], got ${p}`);
  }
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Student t CDF with df (not necessarily whole) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`df must be > 0, got ${df}`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Student t quantile: bisection on the CDF (monotone), to 1e-12. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (df > 1e7) return normalQuantile(p);
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** ln Gamma(x), Lanczos (g = 7, 9 coefficients), x > 0. */
export function lnGamma(x: number): number {
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let sum = g[0];
  for (let i = 1; i < 9; i++) sum += g[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Q(a, x) = Gamma(a, x) / Gamma(a): the series for x < a + 1, the continued fraction beyond. */
export function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(lnPrefix) * h;
}

/** I_x(a, b), the regularized incomplete beta function (continued fraction, symmetric for x > (a+1)/(a+b+2)). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x > (a + 1) / (a + b + 2)) return 1 - regularizedBeta(1 - x, b, a);
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (Math.exp(lnFront) * h) / a;
}

// ---- helpers --------------------------------------------------------------------------------------

/** A normal (z) test and interval of an estimate with standard error se. */
export function zComparison(estimate: number, se: number, level = 0.95): Comparison {
  const statistic = se > 0 ? estimate / se : estimate === 0 ? 0 : Math.sign(estimate) * Infinity;
  const pValue = regularizedGammaQ(0.5, (statistic * statistic) / 2);
  const q = normalQuantile(1 - (1 - level) / 2);
  return { estimate, standardError: se, statistic, pValue, ci: [estimate - q * se, estimate + q * se] };
}

function isMoments(value: ArrayLike<number> | Moments): value is Moments {
  return typeof (value as Moments).variance === 'number' && typeof (value as Moments).n === 'number';
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
