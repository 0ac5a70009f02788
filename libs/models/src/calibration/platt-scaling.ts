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
export function fitPlatt(
  points: readonly WeightedPoint[],
  prior = 1,
  fitSlope = true,
  shrink?: PlattShrinkage,
): PlattFit {
  let { a, b } = shrink?.center ?? IDENTITY_PLATT;
  const used = points.filter((p) => p.w > 0);
  const penalty = shrink === undefined ? undefined : shrinkagePenalty(used, shrink);
  for (let iteration = 0; iteration < 50; iteration++) {
    // Gradient and Hessian of the penalised negative log-likelihood.
    let ga: number;
    let gb: number;
    let haa: number;
    let hab: number;
    let hbb: number;
    if (penalty === undefined) {
      ga = prior * (a - 1);
      gb = prior * b;
      haa = prior;
      hab = 0;
      hbb = prior;
    } else {
      // K/2 (c - c0)^2 + K v/2 (a - a0)^2 with c = a m + b, the log-odds at the mean logit m.
      const { k, m, v, a0, c0 } = penalty;
      const dc = a * m + b - c0;
      ga = k * dc * m + k * v * (a - a0);
      gb = k * dc;
      haa = k * m * m + k * v;
      hab = k * m;
      hbb = k;
    }
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

/**
 * A Gaussian prior on the map centred on `center` (a parent's map, or the identity) worth `clicks`
 * clicks: the log-odds at the group's mean logit moves from the centre's by clicks / (clicks +
 * group clicks) of what the group's own data says (for small rates the curvature of the likelihood
 * in the log-odds is about the group's expected clicks), and the slope likewise, scaled by the
 * spread of the group's logits. Fewer clicks, more of the centre.
 */
export interface PlattShrinkage {
  center: PlattFit;
  clicks: number;
}

function shrinkagePenalty(points: readonly WeightedPoint[], { center, clicks }: PlattShrinkage) {
  let sw = 0;
  let sz = 0;
  let szz = 0;
  for (const { x, w } of points) {
    const z = logit(x);
    sw += w;
    sz += w * z;
    szz += w * z * z;
  }
  const m = sw > 0 ? sz / sw : 0;
  const v = sw > 0 ? Math.max(1e-3, szz / sw - m * m) : 1;
  return { k: clicks, m, v, a0: center.a, c0: center.a * m + center.b };
}

export function applyPlatt({ a, b }: PlattFit, p: number): number {
  return sigmoid(a * logit(p) + b);
}
