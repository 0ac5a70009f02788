import { COUNTRIES, DEVICES, MAX_RECENT_ACTIVITY, SURFACES } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from './content-embedding.js';
import { textTokens } from './text-tokens.js';
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

/**
 * One tower's inputs. The ONNX tower (tools/training/two_tower.py) takes two tensors: `tokens`, int64
 * [N, tokenLength], every id input side by side (columns in `ids` order), each shifted into its own
 * range of one shared embedding table (`tokenBuckets` rows: input k's bucket b is row base_k + b, base_k
 * the buckets of the inputs before it; 0 pads), pooled as a mean over the non-zero ids; and `dense`,
 * float32 [N, denseDim].
 */
export interface TowerSpec {
  readonly ids: readonly IdInput[];
  readonly dense: readonly DenseGroup[];
  readonly denseDim: number;
  /** Columns of `tokens`: the sum of the id inputs' lengths. */
  readonly tokenLength: number;
  /** Rows of the shared token table: the sum of the id inputs' buckets. */
  readonly tokenBuckets: number;
}

export interface TwoTowerSpec {
  readonly name: string;
  readonly version: number;
  /** How tokens and ids become buckets; changing either changes every id input. */
  readonly hash: string;
  readonly tokenizer: string;
  readonly ad: TowerSpec;
  readonly user: TowerSpec;
  /** Words kept per ad and per query, recent queries read, recent ads and advertisers read. */
  readonly limits: {
    readonly adMaxWords: number;
    readonly queryMaxWords: number;
    readonly historyQueries: number;
    readonly historyLength: number;
  };
  readonly vocabularies: Readonly<Record<string, readonly string[]>>;
}

/** Words of an ad's title and text kept (title first); bigrams never span the two. */
export const AD_MAX_WORDS = 24;
/** Words of a search query kept. */
export const QUERY_MAX_WORDS = 8;
/** Recent queries of the activity whose tokens feed the user tower, most recent first. */
export const HISTORY_QUERIES = 5;

export const TOKEN_BUCKETS = 8192;
export const AD_ID_BUCKETS = 8192;
export const ADVERTISER_ID_BUCKETS = 1024;

const tower = (ids: IdInput[], dense: DenseGroup[]): TowerSpec => ({
  ids,
  dense,
  denseDim: dense.reduce((sum, g) => sum + g.dim, 0),
  tokenLength: ids.reduce((sum, i) => sum + i.length, 0),
  tokenBuckets: ids.reduce((sum, i) => sum + i.buckets, 0),
});

/** The single definition of the two-tower model's inputs. */
export const TWO_TOWER_SPEC: TwoTowerSpec = {
  name: 'adfunnel-two-tower-inputs',
  version: 1,
  hash: 'fnv1a32-utf8: bucket = 1 + fnv1a32(namespace ":" value) mod (buckets - 1); 0 pads',
  tokenizer:
    'textTokens: runs of letters/digits of text.toLowerCase(); words (w:word) then bigrams (b:word word)',
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
  limits: {
    adMaxWords: AD_MAX_WORDS,
    queryMaxWords: QUERY_MAX_WORDS,
    historyQueries: HISTORY_QUERIES,
    historyLength: MAX_RECENT_ACTIVITY,
  },
  vocabularies: { topics: TOPICS, devices: DEVICES, countries: COUNTRIES, surfaces: SURFACES },
};

/** Where each id input sits in a tower's `tokens`: its first column and the base of its bucket range. */
export function tokenLayout(spec: TowerSpec): Readonly<Record<string, { column: number; base: number }>> {
  const layout: Record<string, { column: number; base: number }> = {};
  let column = 0;
  let base = 0;
  for (const input of spec.ids) {
    layout[input.name] = { column, base };
    column += input.length;
    base += input.buckets;
  }
  return layout;
}

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
    dense: t.dense.map((g) => [g.name, g.dim]),
  });
  const canonical = JSON.stringify({
    name: spec.name,
    version: spec.version,
    hash: spec.hash,
    tokenizer: spec.tokenizer,
    ad: towerJson(spec.ad),
    user: towerJson(spec.user),
    limits: spec.limits,
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

/** The funnel's one tokenizer (text-tokens.ts): lower-cased runs of letters and digits. */
export function tokenize(text: string): string[] {
  return textTokens(text);
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

/** One tower's two tensors for `rows` rows, row-major (see TowerSpec). */
export interface TowerInputs {
  readonly rows: number;
  /** [rows, tokenLength]: bucket ids shifted into the shared table, 0 pads. */
  readonly tokens: Int32Array;
  /** [rows, denseDim]. */
  readonly dense: Float32Array;
}

const AD = TWO_TOWER_SPEC.ad;
const USER = TWO_TOWER_SPEC.user;
const AD_DENSE = denseOffsets(AD);
const USER_DENSE = denseOffsets(USER);
const AD_TOKENS = tokenLayout(AD);
const USER_TOKENS = tokenLayout(USER);

function towerInputs(spec: TowerSpec, rows: number): TowerInputs {
  return {
    rows,
    tokens: new Int32Array(rows * spec.tokenLength),
    dense: new Float32Array(rows * spec.denseDim),
  };
}

/** Adds the input's base to the non-zero ids it wrote at tokens[at..at+length). */
function shift(tokens: Int32Array, at: number, length: number, base: number): void {
  if (base === 0) return;
  for (let j = at; j < at + length; j++) if (tokens[j] !== 0) tokens[j] += base;
}

export function encodeAdTowerInputs(ads: readonly TwoTowerAd[]): TowerInputs {
  const inputs = towerInputs(AD, ads.length);
  const { tokens, dense } = inputs;
  for (let i = 0; i < ads.length; i++) {
    const ad = ads[i];
    const t = i * AD.tokenLength;
    tokens[t + AD_TOKENS['ad_id'].column] = AD_TOKENS['ad_id'].base + hashBucket('ad', ad.id, AD_ID_BUCKETS);
    tokens[t + AD_TOKENS['advertiser_id'].column] =
      AD_TOKENS['advertiser_id'].base + hashBucket('adv', ad.advertiserId, ADVERTISER_ID_BUCKETS);
    const text = AD_TOKENS['ad_text'];
    writeTextIds([ad.title, ad.text], AD_MAX_WORDS, TOKEN_BUCKETS, tokens, t + text.column);
    shift(tokens, t + text.column, 2 * AD_MAX_WORDS, text.base);
    const row = i * AD.denseDim;
    dense[row + AD_DENSE['ad.category'] + categoryOf(ad)] = 1;
    writeEmbedding(ad, dense, row + AD_DENSE['ad.embedding']);
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

/** Encodes `requests` (one row each) for the user tower. */
export function encodeUserTowerInputs(
  requests: readonly TwoTowerRequest[],
  lookup: TwoTowerAdLookup,
): TowerInputs {
  const inputs = towerInputs(USER, requests.length);
  for (let i = 0; i < requests.length; i++) writeUserRow(requests[i], lookup, inputs, i);
  return inputs;
}

function writeIds(
  ids: readonly number[],
  namespace: string,
  input: string,
  buckets: number,
  tokens: Int32Array,
  t: number,
): void {
  const { column, base } = USER_TOKENS[input];
  ids.slice(0, MAX_RECENT_ACTIVITY).forEach((id, k) => {
    tokens[t + column + k] = base + hashBucket(namespace, id, buckets);
  });
}

function writeUserRow(r: TwoTowerRequest, lookup: TwoTowerAdLookup, inputs: TowerInputs, i: number): void {
  const { tokens, dense } = inputs;
  const t = i * USER.tokenLength;
  const row = i * USER.denseDim;
  const activity = r.activity ?? undefined;
  if (activity !== undefined) {
    const ads = activity.recentAdIds.slice(0, MAX_RECENT_ACTIVITY);
    writeIds(ads, 'ad', 'history_ads', AD_ID_BUCKETS, tokens, t);
    writeIds(activity.recentAdvertiserIds, 'adv', 'history_advertisers', ADVERTISER_ID_BUCKETS, tokens, t);
    const queries = USER_TOKENS['history_query_tokens'];
    writeTextIds(
      activity.recentQueries.slice(0, HISTORY_QUERIES),
      2 * QUERY_MAX_WORDS,
      TOKEN_BUCKETS,
      tokens,
      t + queries.column,
    );
    shift(tokens, t + queries.column, 4 * QUERY_MAX_WORDS, queries.base);
    const totals = [
      writeShare(activity.impressionsByCategory, dense, row + USER_DENSE['user.impression_share']),
      writeShare(activity.clicksByCategory, dense, row + USER_DENSE['user.click_share']),
      writeShare(activity.hidesByCategory, dense, row + USER_DENSE['user.hide_share']),
      sum(checkCategories(activity.conversionsByCategory)),
    ];
    totals.forEach((total, k) => {
      dense[row + USER_DENSE['user.log_totals'] + k] = Math.log1p(total);
    });
    const known = totals.some((total) => total > 0) || ads.length > 0 || activity.recentQueries.length > 0;
    dense[row + USER_DENSE['user.known']] = known ? 1 : 0;
    // The recent ads' mean embedding as a unit vector (what the heuristic retrieval searches with),
    // summed in float64 as the Python encoder does, written as float32 once normalized.
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
  const query = USER_TOKENS['query_tokens'];
  const ids = writeTextIds([r.query ?? ''], QUERY_MAX_WORDS, TOKEN_BUCKETS, tokens, t + query.column);
  shift(tokens, t + query.column, 2 * QUERY_MAX_WORDS, query.base);
  dense[row + USER_DENSE['ctx.has_query']] = ids > 0 ? 1 : 0;
  const contextAdId = r.contextAdId ?? undefined;
  if (contextAdId !== undefined) {
    const context = USER_TOKENS['context_ad'];
    tokens[t + context.column] = context.base + hashBucket('ad', contextAdId, AD_ID_BUCKETS);
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
