import type { WeightedPoint } from './isotonic-regression.js';

/** calibrated(p) = sigmoid(a * logit(p) + b); a = 1, b = 0 is the identity. */
export interface PlattFit {
  a: number;
  b: number;
}

export const IDENTITY_PLATT: PlattFit = Object.freeze({ a: 1, b: 0 });

const EPS = 1e-6;

export function logit(p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * Platt scaling (Platt 1999) on logit(x): weighted logistic regression of the outcome rate y (a
 * fraction in [0, 1]) on logit(x), by Newton's method. `prior` adds that many pseudo-observations'
 * worth of a Gaussian pull towards the identity (a = 1, b = 0), so a small window cannot swing it far.
 * With `fitSlope` false only b moves (a shift of the log-odds), which a few dozen clicks can carry.
 */
export function fitPlatt(points: readonly WeightedPoint[], prior = 1, fitSlope = true): PlattFit {
  let { a, b } = IDENTITY_PLATT;
  const used = points.filter((p) => p.w > 0);
  for (let iteration = 0; iteration < 50; iteration++) {
    // Gradient and Hessian of the penalised negative log-likelihood.
    let ga = prior * (a - 1);
    let gb = prior * b;
    let haa = prior;
    let hab = 0;
    let hbb = prior;
    for (const { x, y, w } of used) {
      const z = logit(x);
      const q = sigmoid(a * z + b);
      const r = w * (q - Math.min(1, y));
      const s = w * q * (1 - q);
      ga += r * z;
      gb += r;
      haa += s * z * z;
      hab += s * z;
      hbb += s;
    }
    let da = 0;
    let db = gb / hbb;
    if (fitSlope) {
      const det = haa * hbb - hab * hab;
      if (!(det > 0)) break;
      da = (hbb * ga - hab * gb) / det;
      db = (haa * gb - hab * ga) / det;
    }
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

export function applyPlatt({ a, b }: PlattFit, p: number): number {
  return sigmoid(a * logit(p) + b);
}
