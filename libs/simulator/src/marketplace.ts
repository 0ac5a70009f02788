import type { BidType, CampaignStatus, Device } from '@adfunnel/contracts';
import { BID_TYPES, COUNTRIES, DEVICES } from '@adfunnel/contracts';
import { EMBEDDING_DIM, TOPIC_COUNT, TOPICS, l2Normalize } from '@adfunnel/features';
import { embedTopicMixture } from './latent-embedding.js';
import { Rng } from './rng.js';

/** Size and seed of a simulated marketplace. Entity i of each kind depends only on (seed, kind, i). */
export interface MarketplaceSpec {
  readonly seed: number;
  readonly advertisers: number;
  readonly campaignsPerAdvertiser: number;
  readonly ads: number;
  readonly users: number;
}

/** The demo marketplace the catalog seed builds. */
export const DEMO_MARKETPLACE: MarketplaceSpec = {
  seed: 42,
  advertisers: 200,
  campaignsPerAdvertiser: 3,
  ads: 10_000,
  users: 10_000,
};

export interface SimAdvertiser {
  id: number;
  name: string;
  /** Index into TOPICS of what the advertiser mostly sells. */
  focusTopic: number;
}

export interface SimCampaign {
  id: number;
  advertiserId: number;
  name: string;
  status: CampaignStatus;
  bidType: BidType;
  /** USD; per 1000 impressions for CPM, per click for CPC, per conversion for CPA. */
  bid: number;
  dailyBudget: number;
  /** Empty means every country. */
  targetCountries: string[];
  /** Empty means every device. */
  targetDevices: Device[];
}

export interface SimAd {
  id: number;
  campaignId: number;
  advertiserId: number;
  title: string;
  text: string;
  imageUrl: string;
  landingUrl: string;
  category: string;
  categoryIndex: number;
  /** Latent topic mixture (ground truth, not in the catalog). */
  topics: Float32Array;
  /** Latent click quality on the logit scale (ground truth). */
  quality: number;
  /** Latent conversion quality on the logit scale (ground truth). */
  conversionQuality: number;
  /** Observable content embedding: the topic mixture embedded, plus noise. */
  embedding: Float32Array;
}

export interface SimUser {
  id: string;
  country: string;
  device: Device;
  /** Interest profile over TOPICS; sums to 1. */
  interests: Float32Array;
  /** Relative rate at which the user arrives (mean about 1). */
  activity: number;
  /** 0..1: how many ads the user tolerates before fatigue sets in. */
  adTolerance: number;
}

const COUNTRY_WEIGHTS = [0.3, 0.1, 0.1, 0.08, 0.2, 0.1, 0.07, 0.05];
const DEVICE_WEIGHTS = [0.6, 0.3, 0.1];
const BID_TYPE_WEIGHTS = [0.25, 0.5, 0.25];
const STATUS_WEIGHTS: [CampaignStatus, number][] = [
  ['active', 0.9],
  ['paused', 0.07],
  ['ended', 0.03],
];
const BID_MEDIAN: Record<BidType, number> = { CPM: 4, CPC: 0.6, CPA: 15 };

/** First words of advertiser names (and so of ad brands). */
export const BRAND_HEADS = [
  'Nova',
  'Blue',
  'Peak',
  'Urban',
  'Bright',
  'North',
  'Swift',
  'Golden',
  'Clear',
  'Wild',
];
const BRAND_TAILS = [
  'Works',
  'Goods',
  'Labs',
  'House',
  'Trading',
  'Supply',
  'Co',
  'Market',
  'Studio',
  'Depot',
];
/** Products an ad of each topic names in its title and text (the simulated searches name them too). */
export const PRODUCTS: Record<string, readonly string[]> = {
  fashion: ['sneakers', 'denim jacket', 'summer dress', 'wool coat'],
  electronics: ['wireless earbuds', '4K monitor', 'smartwatch', 'USB-C hub'],
  home: ['linen bedding', 'ceramic cookware', 'floor lamp', 'storage set'],
  beauty: ['vitamin C serum', 'matte lipstick', 'hair dryer', 'night cream'],
  sports: ['running shoes', 'yoga mat', 'road bike helmet', 'dumbbell set'],
  toys: ['building blocks', 'plush bear', 'puzzle box', 'RC car'],
  books: ['thriller novel', 'cookbook', 'kids atlas', 'biography'],
  grocery: ['coffee beans', 'olive oil', 'granola', 'green tea'],
  auto: ['dash cam', 'car wax', 'floor mats', 'tyre inflator'],
  travel: ['carry-on case', 'city break', 'travel pillow', 'beach resort'],
  pets: ['dog food', 'cat tree', 'pet bed', 'aquarium kit'],
  garden: ['pruning shears', 'seed kit', 'garden hose', 'raised bed'],
  music: ['acoustic guitar', 'vinyl record', 'studio headphones', 'keyboard'],
  gaming: ['game controller', 'gaming chair', 'RPG title', 'mechanical keyboard'],
  health: ['protein powder', 'fitness tracker', 'multivitamin', 'massage gun'],
  finance: ['cashback card', 'savings account', 'budget app', 'travel insurance'],
};
const HOOKS = ['free shipping', '20% off today', 'new arrivals', 'rated 4.8 by buyers', 'limited stock'];

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function checkIndex(kind: string, i: number, count: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= count) {
    throw new RangeError(`${kind} index ${i} outside 0..${count - 1}`);
  }
}

export function campaignCount(spec: MarketplaceSpec): number {
  return spec.advertisers * spec.campaignsPerAdvertiser;
}

export function advertiserAt(spec: MarketplaceSpec, i: number): SimAdvertiser {
  checkIndex('advertiser', i, spec.advertisers);
  const rng = Rng.derive(spec.seed, 'advertiser', i);
  const focusTopic = rng.int(TOPIC_COUNT);
  return {
    id: i + 1,
    name: `${rng.pick(BRAND_HEADS)} ${rng.pick(BRAND_TAILS)} ${i + 1}`,
    focusTopic,
  };
}

function distinct<T>(rng: Rng, items: readonly T[], n: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out;
}

export function campaignAt(spec: MarketplaceSpec, i: number): SimCampaign {
  checkIndex('campaign', i, campaignCount(spec));
  const advertiser = advertiserAt(spec, Math.floor(i / spec.campaignsPerAdvertiser));
  const rng = Rng.derive(spec.seed, 'campaign', i);
  const bidType = BID_TYPES[rng.weightedIndex(BID_TYPE_WEIGHTS)];
  const status = STATUS_WEIGHTS[rng.weightedIndex(STATUS_WEIGHTS.map(([, w]) => w))][0];
  const targetCountries = rng.bernoulli(0.55) ? [] : distinct(rng, COUNTRIES, 1 + rng.int(3)).sort();
  const targetDevices = rng.bernoulli(0.7) ? [] : distinct(rng, DEVICES, 1 + rng.int(2)).sort();
  return {
    id: i + 1,
    advertiserId: advertiser.id,
    name: `${advertiser.name} / ${TOPICS[advertiser.focusTopic]} #${(i % spec.campaignsPerAdvertiser) + 1}`,
    status,
    bidType,
    bid: Math.max(0.01, round2(rng.logNormal(BID_MEDIAN[bidType], 0.5))),
    dailyBudget: Math.max(10, Math.round(rng.logNormal(300, 0.8))),
    targetCountries,
    targetDevices,
  };
}

/** Ads are spread evenly over campaigns in id order. */
export function campaignIndexOfAd(spec: MarketplaceSpec, adIndex: number): number {
  return Math.floor((adIndex * campaignCount(spec)) / spec.ads);
}

const EMBEDDING_NOISE = 0.06;

export function adAt(spec: MarketplaceSpec, i: number): SimAd {
  checkIndex('ad', i, spec.ads);
  const campaignIndex = campaignIndexOfAd(spec, i);
  const advertiserIndex = Math.floor(campaignIndex / spec.campaignsPerAdvertiser);
  const advertiser = advertiserAt(spec, advertiserIndex);
  const rng = Rng.derive(spec.seed, 'ad', i);
  const alpha = new Float32Array(TOPIC_COUNT).fill(0.08);
  alpha[advertiser.focusTopic] = 2.5;
  alpha[rng.int(TOPIC_COUNT)] += 0.8;
  const topics = rng.dirichlet(alpha);
  let categoryIndex = 0;
  for (let k = 1; k < TOPIC_COUNT; k++) if (topics[k] > topics[categoryIndex]) categoryIndex = k;
  const category = TOPICS[categoryIndex];
  const embedding = embedTopicMixture(topics);
  for (let d = 0; d < EMBEDDING_DIM; d++) embedding[d] += EMBEDDING_NOISE * rng.normal();
  l2Normalize(embedding);
  const product = rng.pick(PRODUCTS[category]);
  const id = i + 1;
  const brand = advertiser.name.replace(/ \d+$/, '');
  return {
    id,
    campaignId: campaignIndex + 1,
    advertiserId: advertiser.id,
    title: `${brand}: ${product}`,
    text: `${product[0].toUpperCase()}${product.slice(1)} from ${brand} - ${rng.pick(HOOKS)}.`,
    imageUrl: `https://img.example.com/ads/${id}.jpg`,
    landingUrl: `https://adv${advertiser.id}.example.com/products/${id}`,
    category,
    categoryIndex,
    topics,
    quality: 0.4 * rng.normal(),
    conversionQuality: 0.5 * rng.normal(),
    embedding,
  };
}

export function userIdAt(i: number): string {
  return `u${String(i + 1).padStart(5, '0')}`;
}

export function userAt(spec: MarketplaceSpec, i: number): SimUser {
  checkIndex('user', i, spec.users);
  const rng = Rng.derive(spec.seed, 'user', i);
  return {
    id: userIdAt(i),
    country: COUNTRIES[rng.weightedIndex(COUNTRY_WEIGHTS)],
    device: DEVICES[rng.weightedIndex(DEVICE_WEIGHTS)],
    interests: rng.dirichlet(new Float32Array(TOPIC_COUNT).fill(0.25)),
    activity: rng.logNormal(1, 0.5),
    adTolerance: 0.3 + 0.7 * rng.next(),
  };
}

function* range<T>(count: number, at: (i: number) => T): Generator<T> {
  for (let i = 0; i < count; i++) yield at(i);
}

export const advertisers = (spec: MarketplaceSpec): Generator<SimAdvertiser> =>
  range(spec.advertisers, (i) => advertiserAt(spec, i));
export const campaigns = (spec: MarketplaceSpec): Generator<SimCampaign> =>
  range(campaignCount(spec), (i) => campaignAt(spec, i));
export const ads = (spec: MarketplaceSpec): Generator<SimAd> => range(spec.ads, (i) => adAt(spec, i));
export const users = (spec: MarketplaceSpec): Generator<SimUser> => range(spec.users, (i) => userAt(spec, i));
