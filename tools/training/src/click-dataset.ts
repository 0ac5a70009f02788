import { DEVICES, type Device, SURFACES, type Surface, type UserActivity } from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  type MixtureLookup,
  TOPIC_COUNT,
  buildFeatureMatrix,
  categoryMixturesOf,
} from '@adfunnel/features';
import { categoryAffinity, emptyUserActivity } from '@adfunnel/user-activity';
import {
  type MarketplaceSpec,
  Rng,
  type SimAd,
  type SimUser,
  adAt,
  groundTruth,
  userAt,
} from '@adfunnel/simulator';

/**
 * Columns of labels.f32, in order. `hidden`: the user hid the ad (only possible when it was examined
 * and not clicked); `true_hide` the simulator's P(hide | examined) of the row (NaN for logs).
 */
export const LABEL_COLUMNS = ['click', 'conversion', 'true_ctr', 'true_cvr', 'hidden', 'true_hide'] as const;

export interface ClickSampling {
  /** Share of ads drawn from the user's interest topics (the rest uniformly), like retrieval serves. */
  interestShare: number;
  /** Share of rows served as to an unknown user (no profile): labels still come from the real user. */
  coldStartShare: number;
  /** Probability the request comes from the user's usual device (otherwise a uniform device). */
  usualDeviceShare: number;
}

export const DEFAULT_SAMPLING: ClickSampling = {
  interestShare: 0.5,
  coldStartShare: 0.05,
  usualDeviceShare: 0.8,
};

export interface ClickDatasetOptions {
  marketplace: MarketplaceSpec;
  rows: number;
  seed: number;
  /** Names an independent random stream, e.g. "train" or "validation". */
  split: string;
  sampling?: ClickSampling;
}

export interface ClickDataset {
  rows: number;
  dim: number;
  /** rows x dim, built by the serving code (buildFeatureMatrix). */
  features: Float32Array;
  /** rows x LABEL_COLUMNS.length. */
  labels: Float32Array;
}

/** The marketplace held in memory once: drawing examples then costs no entity regeneration. */
export class MarketplaceSample {
  readonly users: SimUser[];
  readonly ads: SimAd[];
  readonly adsByCategory: number[][];
  /**
   * The ads' category mixtures as serving decodes them from its catalog (categoryMixturesOf): from
   * what the catalog holds of each ad, its declared category and embedding, never its latent topics.
   */
  readonly categoryMixtures: MixtureLookup;

  constructor(readonly spec: MarketplaceSpec) {
    this.users = Array.from({ length: spec.users }, (_, i) => userAt(spec, i));
    this.ads = Array.from({ length: spec.ads }, (_, i) => adAt(spec, i));
    this.adsByCategory = Array.from({ length: TOPIC_COUNT }, () => []);
    this.ads.forEach((ad, i) => this.adsByCategory[ad.categoryIndex].push(i));
    this.categoryMixtures = categoryMixturesOf(
      this.ads.map(({ id, categoryIndex, embedding }) => ({ id, categoryIndex, embedding })),
    );
  }
}

/**
 * Draws (user, ad, surface, device) impressions from the simulator with their click and conversion
 * outcomes. Click ~ Bernoulli(pClickExamined): the position-free probability ranking predicts;
 * conversion ~ Bernoulli(pConversion) only after a click, so it is p(conversion | click); hidden only
 * when not clicked, so that P(hidden) is the simulator's P(hide | examined).
 */
export function generateClickDataset(
  options: ClickDatasetOptions,
  market = new MarketplaceSample(options.marketplace),
): ClickDataset {
  const { rows, seed, split } = options;
  const sampling = options.sampling ?? DEFAULT_SAMPLING;
  if (!Number.isInteger(rows) || rows < 1)
    throw new RangeError(`rows must be a positive integer, got ${rows}`);
  for (const [name, share] of Object.entries(sampling)) {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${share}`);
  }
  const dim = FEATURE_SPEC.dim;
  const width = LABEL_COLUMNS.length;
  const features = new Float32Array(rows * dim);
  const labels = new Float32Array(rows * width);
  const rng = Rng.derive(seed, 'ranking-clicks', split);
  const unknownInterests = new Float32Array(TOPIC_COUNT);

  for (let r = 0; r < rows; r++) {
    const user = market.users[rng.int(market.users.length)];
    const ad = drawAd(rng, market, user, sampling.interestShare);
    const surface: Surface = SURFACES[rng.int(SURFACES.length)];
    const device: Device = rng.bernoulli(sampling.usualDeviceShare)
      ? user.device
      : DEVICES[rng.int(DEVICES.length)];
    const known = !rng.bernoulli(sampling.coldStartShare);

    const history = known ? simulatedHistory(rng, market, user) : null;
    buildFeatureMatrix(
      {
        user: {
          interests: history?.affinity ?? unknownInterests,
          device,
          known,
          ...(history ? { activity: history.activity } : {}),
        },
        surface,
        categoryMixtures: market.categoryMixtures,
        ...(history ? { recentAds: history.recentAds } : {}),
        ...requestContext(rng, market, user, surface),
      },
      [ad],
      features.subarray(r * dim, (r + 1) * dim),
    );

    const trueCtr = groundTruth.pClickExamined(user, ad, { surface, device });
    const trueCvr = groundTruth.pConversion(user, ad);
    // Slot 0 is examined: P(hide | examined) = (1 - ctr) x P(hide | examined, no click), fresh user.
    const trueHide = groundTruth.pHide(user, ad, { surface, device, position: 0 });
    const click = rng.bernoulli(trueCtr);
    const conversion = click && rng.bernoulli(trueCvr);
    const hidden = !click && rng.bernoulli(trueHide / (1 - trueCtr));
    labels[r * width] = click ? 1 : 0;
    labels[r * width + 1] = conversion ? 1 : 0;
    labels[r * width + 2] = trueCtr;
    labels[r * width + 3] = trueCvr;
    labels[r * width + 4] = hidden ? 1 : 0;
    labels[r * width + 5] = trueHide;
  }
  return { rows, dim, features, labels };
}

/**
 * What the request carried, as the traffic driver sends it: a search names the product of an ad of a
 * category the user likes; a related-items rail sits next to such an ad. The simulated click does not
 * depend on either (the simulator's users click by interest), so these features help only as far as
 * the query and the context item reveal the user's interests.
 */
function requestContext(
  rng: Rng,
  market: MarketplaceSample,
  user: SimUser,
  surface: Surface,
): { query?: string; contextAd?: SimAd } {
  if (surface === 'search') {
    const title = drawAd(rng, market, user, 0.9).title;
    return { query: title.slice(title.indexOf(': ') + 2) };
  }
  if (surface === 'related_items') return { contextAd: drawAd(rng, market, user, 0.9) };
  return {};
}

/** Clicks of a simulated history: what the funnel would have logged for the user before this row. */
const HISTORY_CLICKS_MAX = 12;
/** Impressions logged per click in the history (a CTR of about 4%). */
const HISTORY_IMPRESSIONS_PER_CLICK = 25;

interface SimulatedHistory {
  affinity: Float32Array;
  activity: UserActivity;
  recentAds: SimAd[];
}

/**
 * The activity a funnel would have logged for the user: a few clicks on ads of the categories they
 * like (drawn from their interests, as logged clicks follow them) among many impressions. Features
 * see only this history, never the interests it was drawn from: the dataset then has what serving
 * has (affinity = smoothed share of clicks per category, as inferred from activity).
 */
function simulatedHistory(rng: Rng, market: MarketplaceSample, user: SimUser): SimulatedHistory {
  const clicks = new Array<number>(TOPIC_COUNT).fill(0);
  const impressions = new Array<number>(TOPIC_COUNT).fill(0);
  const hides = new Array<number>(TOPIC_COUNT).fill(0);
  const recentAds: SimAd[] = [];
  const n = rng.int(HISTORY_CLICKS_MAX + 1);
  for (let i = 0; i < n; i++) {
    const ad = drawAd(rng, market, user, 0.8);
    clicks[ad.categoryIndex] += 1;
    if (recentAds.length < 20) recentAds.push(ad);
  }
  for (let i = 0; i < (n + 1) * HISTORY_IMPRESSIONS_PER_CLICK; i++) {
    const category = rng.int(TOPIC_COUNT);
    impressions[category] += 1;
    if (rng.bernoulli(0.01)) hides[category] += 1;
  }
  for (let k = 0; k < TOPIC_COUNT; k++) impressions[k] += clicks[k];
  const activity: UserActivity = {
    ...emptyUserActivity(),
    impressionsByCategory: impressions,
    clicksByCategory: clicks,
    hidesByCategory: hides,
    recentAdIds: [...new Set(recentAds.map((ad) => ad.id))],
    recentAdvertiserIds: [...new Set(recentAds.map((ad) => ad.advertiserId))],
  };
  // The affinity serving infers from the same counts (libs/user-activity), as of now.
  return {
    affinity: Float32Array.from(categoryAffinity(activity, activity.updatedAt)),
    activity,
    recentAds,
  };
}

function drawAd(rng: Rng, market: MarketplaceSample, user: SimUser, interestShare: number): SimAd {
  if (rng.bernoulli(interestShare)) {
    const pool = market.adsByCategory[rng.weightedIndex(user.interests)];
    if (pool.length > 0) return market.ads[pool[rng.int(pool.length)]];
  }
  return market.ads[rng.int(market.ads.length)];
}

export interface LabelSummary {
  rows: number;
  clicks: number;
  conversions: number;
  hides: number;
  ctr: number;
  cvr: number;
  /** Null for exported logs: the true probabilities are unknown. */
  meanTrueCtr: number | null;
}

export function summarizeLabels(dataset: ClickDataset): LabelSummary {
  const width = LABEL_COLUMNS.length;
  let clicks = 0;
  let conversions = 0;
  let hides = 0;
  let trueCtr = 0;
  for (let r = 0; r < dataset.rows; r++) {
    clicks += dataset.labels[r * width];
    conversions += dataset.labels[r * width + 1];
    hides += dataset.labels[r * width + 4];
    trueCtr += dataset.labels[r * width + 2];
  }
  return {
    rows: dataset.rows,
    clicks,
    conversions,
    hides,
    ctr: clicks / dataset.rows,
    cvr: clicks > 0 ? conversions / clicks : 0,
    meanTrueCtr: trueCtr / dataset.rows,
  };
}
