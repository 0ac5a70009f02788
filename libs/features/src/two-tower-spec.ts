import { COUNTRIES, DEVICES, MAX_RECENT_ACTIVITY, SURFACES } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from './content-embedding.js';
import { TOPIC_COUNT, TOPICS } from './topics.js';

/**
 * The inputs of the two-tower retrieval model (tools/training/train_two_tower.py), computed the same
 * way by serving (TypeScript, here) and by training (Python, tools/training/two_tower_inputs.py): the
 * hash, the tokenizer, the bucket counts and the dense layouts below are the contract, and the
 * fingerprint over them is recorded in every model's manifest, so a retrieval service refuses towers
 * trained on other inputs. `two-tower-fixtures.json` pins the encoding; both languages test against it.
 *
 * Every input is observable: the catalog's ad fields (id, advertiser, title, text, declared category,
 * visual embedding) and what the funnel logged about the user (their activity state, declared
 * country and device, the surface, the search query, the context ad). Never the simulator's truth.
 */

/** A variable-length id list (a bag), padded with 0 to `length`; ids are hash buckets in 1..buckets-1. */
export interface IdInput {
  readonly name: string;
  readonly length: number;
  readonly buckets: number;
  readonly description: string;
}

export interface DenseGroup {
  readonly name: string;
  readonly dim: number;
  readonly description: string;
}

export interface TowerSpec {
  readonly ids: readonly IdInput[];
  /** Name of the float32 [N, denseDim] input. */
  readonly denseName: string;
  readonly dense: readonly DenseGroup[];
  readonly denseDim: number;
}

export interface TwoTowerSpec {
  readonly name: string;
  readonly version: number;
  /** How tokens and ids become buckets; changing either changes every id input. */
  readonly hash: string;
  readonly tokenizer: string;
  readonly ad: TowerSpec;
  readonly user: TowerSpec;
  readonly vocabularies: Readonly<Record<string, readonly string[]>>;
}

/** Words of an ad's title and text kept (title first); bigrams never span the two. */
export const AD_MAX_WORDS = 24;
/** Words of a search query kept. */
export const QUERY_MAX_WORDS = 8;
/** Recent queries of the activity whose tokens feed the user tower, most recent first. */
export const HISTORY_QUERIES = 5;

export const TOKEN_BUCKETS = 32768;
export const AD_ID_BUCKETS = 16384;
export const ADVERTISER_ID_BUCKETS = 4096;

const tower = (ids: IdInput[], denseName: string, dense: DenseGroup[]): TowerSpec => ({
  ids,
  denseName,
  dense,
  denseDim: dense.reduce((sum, g) => sum + g.dim, 0),
});

/** The single definition of the two-tower model's inputs. */
export const TWO_TOWER_SPEC: TwoTowerSpec = {
  name: 'adfunnel-two-tower-inputs',
  version: 1,
  hash: 'fnv1a32-utf8: bucket = 1 + fnv1a32(namespace ":" value) mod (buckets - 1); 0 pads',
  tokenizer:
    'nfkc-lower-alnum-runs: words = runs of letters/digits of NFKC(text).toLowerCase(); w:word, b:word word',
  ad: tower(
    [
      { name: 'ad_id', length: 1, buckets: AD_ID_BUCKETS, description: 'the ad id (ad:<id>)' },
      {
        name: 'advertiser_id',
        length: 1,
        buckets: ADVERTISER_ID_BUCKETS,
        description: 'the advertiser id (adv:<id>)',
      },
      {
        name: 'ad_text',
        length: 2 * AD_MAX_WORDS,
        buckets: TOKEN_BUCKETS,
        description: `words then bigrams of title and text, the first ${AD_MAX_WORDS} words`,
      },
    ],
    'ad_dense',
    [
      { name: 'ad.category', dim: TOPIC_COUNT, description: 'one-hot of the declared category over TOPICS' },
      { name: 'ad.embedding', dim: EMBEDDING_DIM, description: "the catalog's visual embedding of the ad" },
    ],
  ),
  user: tower(
    [
      {
        name: 'history_ads',
        length: MAX_RECENT_ACTIVITY,
        buckets: AD_ID_BUCKETS,
        description: 'recently clicked or converted ads, most recent first (ad:<id>)',
      },
      {
        name: 'history_advertisers',
        length: MAX_RECENT_ACTIVITY,
        buckets: ADVERTISER_ID_BUCKETS,
        description: 'advertisers of those ads (adv:<id>)',
      },
      {
        name: 'query_tokens',
        length: 2 * QUERY_MAX_WORDS,
        buckets: TOKEN_BUCKETS,
        description: 'words then bigrams of the search query',
      },
      {
        name: 'history_query_tokens',
        length: 4 * QUERY_MAX_WORDS,
        buckets: TOKEN_BUCKETS,
        description: `words then bigrams of the ${HISTORY_QUERIES} most recent queries`,
      },
      {
        name: 'context_ad',
        length: 1,
        buckets: AD_ID_BUCKETS,
        description: 'the ad the ads are shown next to (related_items), ad:<id>',
      },
    ],
    'user_dense',
    [
      { name: 'user.known', dim: 1, description: '1 when the activity holds any event' },
      {
        name: 'user.impression_share',
        dim: TOPIC_COUNT,
        description: 'decayed impressions per category / total',
      },
      { name: 'user.click_share', dim: TOPIC_COUNT, description: 'decayed clicks per category / total' },
      { name: 'user.hide_share', dim: TOPIC_COUNT, description: 'decayed hides per category / total' },
      {
        name: 'user.log_totals',
        dim: 4,
        description: 'log1p of decayed impressions, clicks, hides, conversions',
      },
      {
        name: 'user.history_embedding',
        dim: EMBEDDING_DIM,
        description: 'unit mean of the visual embeddings of the recent ads the catalog holds',
      },
      { name: 'ctx.device', dim: DEVICES.length, description: 'one-hot over DEVICES' },
      { name: 'ctx.country', dim: COUNTRIES.length + 1, description: 'one-hot over COUNTRIES, then other' },
      { name: 'ctx.surface', dim: SURFACES.length, description: 'one-hot over SURFACES' },
      { name: 'ctx.has_query', dim: 1, description: '1 when the request has a query with a word' },
      { name: 'ctx.ad_present', dim: 1, description: '1 when the context ad is in the catalog' },
      { name: 'ctx.ad_category', dim: TOPIC_COUNT, description: 'one-hot of the context ad category' },
      { name: 'ctx.ad_embedding', dim: EMBEDDING_DIM, description: 'visual embedding of the context ad' },
    ],
  ),
  vocabularies: { topics: TOPICS, devices: DEVICES, countries: COUNTRIES, surfaces: SURFACES },
};

/** Offsets of each dense group of a tower, by name. */
export function denseOffsets(spec: TowerSpec): Readonly<Record<string, number>> {
  const offsets: Record<string, number> = {};
  let at = 0;
  for (const g of spec.dense) {
    offsets[g.name] = at;
    at += g.dim;
  }
  return offsets;
}

/** FNV-1a (64-bit, hex) over the canonical JSON of the spec, as featureSpecFingerprint does for ranking. */
export function twoTowerSpecFingerprint(spec: TwoTowerSpec = TWO_TOWER_SPEC): string {
  const towerJson = (t: TowerSpec) => ({
    ids: t.ids.map((i) => [i.name, i.length, i.buckets]),
    dense: [t.denseName, t.dense.map((g) => [g.name, g.dim])],
  });
  const canonical = JSON.stringify({
    name: spec.name,
    version: spec.version,
    hash: spec.hash,
    tokenizer: spec.tokenizer,
    ad: towerJson(spec.ad),
    user: towerJson(spec.user),
    constants: [AD_MAX_WORDS, QUERY_MAX_WORDS, HISTORY_QUERIES],
    vocabularies: Object.keys(spec.vocabularies)
      .sort()
      .map((k) => [k, spec.vocabularies[k]]),
  });
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < canonical.length; i++) {
    h ^= BigInt(canonical.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

// ---- hashing and tokens ----------------------------------------------------------------------------

const utf8 = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes of `value`, unsigned. */
export function fnv1a32(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
    } else {
      // Non-ASCII: hash the UTF-8 bytes of the rest, so the value matches Python's str.encode('utf-8').
      for (const byte of utf8.encode(value.slice(i))) h = Math.imul(h ^ byte, 0x01000193);
      break;
    }
  }
  return h >>> 0;
}

/** The bucket (1..buckets-1) of `value` in `namespace`; 0 is the padding id. */
export function hashBucket(namespace: string, value: string | number, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 2)
    throw new RangeError(`buckets must be an integer >= 2, got ${buckets}`);
  return 1 + (fnv1a32(`${namespace}:${value}`) % (buckets - 1));
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Runs of letters and digits of the NFKC-normalized, lower-cased text. */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
}

/**
 * Words then bigrams of `fields` (each field's bigrams stay inside it), the first `maxWords` words in
 * all, hashed into `buckets`, padded with 0 to `2 * maxWords` ids and written at `out[at..]`.
 */
export function writeTextIds(
  fields: readonly string[],
  maxWords: number,
  buckets: number,
  out: Int32Array,
  at = 0,
): number {
  const words: string[][] = [];
  let kept = 0;
  for (const field of fields) {
    if (kept >= maxWords) break;
    const tokens = tokenize(field).slice(0, maxWords - kept);
    kept += tokens.length;
    words.push(tokens);
  }
  const length = 2 * maxWords;
  out.fill(0, at, at + length);
  let n = 0;
  for (const tokens of words) for (const w of tokens) out[at + n++] = hashBucket('w', w, buckets);
  for (const tokens of words) {
    for (let i = 1; i < tokens.length && n < length; i++) {
      out[at + n++] = hashBucket('b', `${tokens[i - 1]} ${tokens[i]}`, buckets);
    }
  }
  return n;
}

// ---- the ad tower ----------------------------------------------------------------------------------

/** The catalog fields the ad tower reads; `CatalogAd` satisfies it. */
export interface TwoTowerAd {
  readonly id: number;
  readonly advertiserId: number;
  readonly title: string;
  readonly text: string;
  /** Index into TOPICS. */
  readonly categoryIndex: number;
  readonly embedding: ArrayLike<number>;
}

/** Row-major ad tower inputs for N ads: one array per input of `TWO_TOWER_SPEC.ad`. */
export interface AdTowerInputs {
  readonly rows: number;
  readonly ad_id: Int32Array;
  readonly advertiser_id: Int32Array;
  readonly ad_text: Int32Array;
  readonly ad_dense: Float32Array;
}

const AD_DENSE = denseOffsets(TWO_TOWER_SPEC.ad);
const USER_DENSE = denseOffsets(TWO_TOWER_SPEC.user);
const AD_TEXT_LENGTH = 2 * AD_MAX_WORDS;

export function encodeAdTowerInputs(ads: readonly TwoTowerAd[]): AdTowerInputs {
  const n = ads.length;
  const dim = TWO_TOWER_SPEC.ad.denseDim;
  const inputs: AdTowerInputs = {
    rows: n,
    ad_id: new Int32Array(n),
    advertiser_id: new Int32Array(n),
    ad_text: new Int32Array(n * AD_TEXT_LENGTH),
    ad_dense: new Float32Array(n * dim),
  };
  for (let i = 0; i < n; i++) {
    const ad = ads[i];
    inputs.ad_id[i] = hashBucket('ad', ad.id, AD_ID_BUCKETS);
    inputs.advertiser_id[i] = hashBucket('adv', ad.advertiserId, ADVERTISER_ID_BUCKETS);
    writeTextIds([ad.title, ad.text], AD_MAX_WORDS, TOKEN_BUCKETS, inputs.ad_text, i * AD_TEXT_LENGTH);
    const row = i * dim;
    inputs.ad_dense[row + AD_DENSE['ad.category'] + categoryOf(ad)] = 1;
    writeEmbedding(ad, inputs.ad_dense, row + AD_DENSE['ad.embedding']);
  }
  return inputs;
}

// ---- the user tower --------------------------------------------------------------------------------

/** The activity fields the user tower reads; `UserActivity` of @adfunnel/contracts satisfies it. */
export interface TwoTowerActivity {
  readonly impressionsByCategory: readonly number[];
  readonly clicksByCategory: readonly number[];
  readonly hidesByCategory: readonly number[];
  readonly conversionsByCategory: readonly number[];
  readonly recentAdIds: readonly number[];
  readonly recentAdvertiserIds: readonly number[];
  readonly recentQueries: readonly string[];
}

/** One request as the user tower sees it. */
export interface TwoTowerRequest {
  /** What the funnel logged about the user; absent for a user it has seen nothing from. */
  readonly activity?: TwoTowerActivity | null;
  readonly device: string;
  readonly country: string;
  readonly surface: string;
  readonly query?: string | null;
  readonly contextAdId?: number | null;
}

/** Finds a catalog ad's category and visual embedding (the history embedding and the context ad). */
export type TwoTowerAdLookup = (adId: number) => Pick<TwoTowerAd, 'categoryIndex' | 'embedding'> | undefined;

export interface UserTowerInputs {
  readonly rows: number;
  readonly history_ads: Int32Array;
  readonly history_advertisers: Int32Array;
  readonly query_tokens: Int32Array;
  readonly history_query_tokens: Int32Array;
  readonly context_ad: Int32Array;
  readonly user_dense: Float32Array;
}

/** Encodes `requests` (one row each) for the user tower. */
export function encodeUserTowerInputs(
  requests: readonly TwoTowerRequest[],
  lookup: TwoTowerAdLookup,
): UserTowerInputs {
  const n = requests.length;
  const dim = TWO_TOWER_SPEC.user.denseDim;
  const inputs: UserTowerInputs = {
    rows: n,
    history_ads: new Int32Array(n * MAX_RECENT_ACTIVITY),
    history_advertisers: new Int32Array(n * MAX_RECENT_ACTIVITY),
    query_tokens: new Int32Array(n * 2 * QUERY_MAX_WORDS),
    history_query_tokens: new Int32Array(n * 4 * QUERY_MAX_WORDS),
    context_ad: new Int32Array(n),
    user_dense: new Float32Array(n * dim),
  };
  for (let i = 0; i < n; i++) writeUserRow(requests[i], lookup, inputs, i);
  return inputs;
}

function writeUserRow(
  r: TwoTowerRequest,
  lookup: TwoTowerAdLookup,
  inputs: UserTowerInputs,
  i: number,
): void {
  const dense = inputs.user_dense;
  const row = i * TWO_TOWER_SPEC.user.denseDim;
  const activity = r.activity ?? undefined;
  if (activity !== undefined) {
    const ads = activity.recentAdIds.slice(0, MAX_RECENT_ACTIVITY);
    ads.forEach((id, k) => {
      inputs.history_ads[i * MAX_RECENT_ACTIVITY + k] = hashBucket('ad', id, AD_ID_BUCKETS);
    });
    activity.recentAdvertiserIds.slice(0, MAX_RECENT_ACTIVITY).forEach((id, k) => {
      inputs.history_advertisers[i * MAX_RECENT_ACTIVITY + k] = hashBucket('adv', id, ADVERTISER_ID_BUCKETS);
    });
    writeTextIds(
      activity.recentQueries.slice(0, HISTORY_QUERIES),
      2 * QUERY_MAX_WORDS,
      TOKEN_BUCKETS,
      inputs.history_query_tokens,
      i * 4 * QUERY_MAX_WORDS,
    );
    const totals = [
      writeShare(activity.impressionsByCategory, dense, row + USER_DENSE['user.impression_share']),
      writeShare(activity.clicksByCategory, dense, row + USER_DENSE['user.click_share']),
      writeShare(activity.hidesByCategory, dense, row + USER_DENSE['user.hide_share']),
      sum(checkCategories(activity.conversionsByCategory)),
    ];
    totals.forEach((t, k) => {
      dense[row + USER_DENSE['user.log_totals'] + k] = Math.log1p(t);
    });
    const known = totals.some((t) => t > 0) || ads.length > 0 || activity.recentQueries.length > 0;
    dense[row + USER_DENSE['user.known']] = known ? 1 : 0;
    // The mean of the recent ads' embeddings, as a unit vector: what the heuristic retrieval searched with.
    // Summed in float64 (Python sums the same way), written as float32 once normalized.
    const mean = new Float64Array(EMBEDDING_DIM);
    for (const id of ads) {
      const ad = lookup(id);
      if (ad === undefined) continue;
      for (let d = 0; d < EMBEDDING_DIM; d++) mean[d] += ad.embedding[d];
    }
    writeUnit(mean, dense, row + USER_DENSE['user.history_embedding']);
  }
  dense[row + USER_DENSE['ctx.device'] + indexIn(DEVICES, r.device, 'device')] = 1;
  const country = (COUNTRIES as readonly string[]).indexOf(r.country);
  dense[row + USER_DENSE['ctx.country'] + (country < 0 ? COUNTRIES.length : country)] = 1;
  dense[row + USER_DENSE['ctx.surface'] + indexIn(SURFACES, r.surface, 'surface')] = 1;
  const words = writeTextIds(
    [r.query ?? ''],
    QUERY_MAX_WORDS,
    TOKEN_BUCKETS,
    inputs.query_tokens,
    i * 2 * QUERY_MAX_WORDS,
  );
  dense[row + USER_DENSE['ctx.has_query']] = words > 0 ? 1 : 0;
  const contextAdId = r.contextAdId ?? undefined;
  if (contextAdId !== undefined) {
    inputs.context_ad[i] = hashBucket('ad', contextAdId, AD_ID_BUCKETS);
    const ad = lookup(contextAdId);
    if (ad !== undefined) {
      dense[row + USER_DENSE['ctx.ad_present']] = 1;
      dense[row + USER_DENSE['ctx.ad_category'] + categoryOf(ad)] = 1;
      writeEmbedding(ad, dense, row + USER_DENSE['ctx.ad_embedding']);
    }
  }
}

function checkCategories(values: readonly number[]): readonly number[] {
  if (values.length !== TOPIC_COUNT) {
    throw new RangeError(`activity counts have ${values.length} categories, expected ${TOPIC_COUNT}`);
  }
  return values;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Writes values / their sum (zeros when the sum is 0) and returns the sum. */
function writeShare(values: readonly number[], out: Float32Array, at: number): number {
  const total = sum(checkCategories(values));
  if (total > 0) for (let k = 0; k < TOPIC_COUNT; k++) out[at + k] = values[k] / total;
  return total;
}

function categoryOf(ad: Pick<TwoTowerAd, 'categoryIndex'>): number {
  if (!Number.isInteger(ad.categoryIndex) || ad.categoryIndex < 0 || ad.categoryIndex >= TOPIC_COUNT) {
    throw new RangeError(`ad category index ${ad.categoryIndex} outside 0..${TOPIC_COUNT - 1}`);
  }
  return ad.categoryIndex;
}

function writeEmbedding(ad: Pick<TwoTowerAd, 'embedding'>, out: Float32Array, at: number): void {
  if (ad.embedding.length !== EMBEDDING_DIM) {
    throw new RangeError(`ad embedding has ${ad.embedding.length} dimensions, expected ${EMBEDDING_DIM}`);
  }
  for (let d = 0; d < EMBEDDING_DIM; d++) out[at + d] = ad.embedding[d];
}

/** Writes `v` scaled to unit length (nothing when it is zero). */
function writeUnit(v: Float64Array, out: Float32Array, at: number): void {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let d = 0; d < v.length; d++) out[at + d] = v[d] / norm;
}

function indexIn(values: readonly string[], value: string, what: string): number {
  const index = values.indexOf(value);
  if (index < 0) throw new RangeError(`unknown ${what} "${value}"; known: ${values.join(', ')}`);
  return index;
}
