import { MAX_RECENT_ACTIVITY, type UserActivity, UserActivitySchema } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import type { Redis } from 'ioredis';
import { UserActivityKeys } from './user-activity-keys.js';
import {
  BUMP_TRENDING,
  FOLD_EVENT,
  FOLD_ORGANIC,
  FOLD_QUERY,
  LIST_SEPARATOR,
  USER_HASH_FIELDS as F,
} from './user-activity-scripts.js';
import {
  type ActivityEvent,
  USER_ACTIVITY_DEFAULTS,
  checkHalfLife,
  foldEngagement,
  foldEvent,
  foldQuery,
  normalizeQuery,
} from './user-activity.js';

/** Request ids per user whose queries were folded, remembered so a redelivered job folds nothing. */
const REMEMBERED_QUERY_REQUESTS = 32;

/** Organic event ids per user remembered (the latest events'), so a retried report folds nothing twice. */
export const REMEMBERED_ORGANIC_EVENTS = 1000;

/**
 * One thing the user did on the product itself (libs/contracts OrganicEvent, resolved): an engagement
 * with organic content of a category, or an organic search (its query already normalized).
 */
export type OrganicActivity =
  | { readonly id: string; readonly type: 'engagement'; readonly categoryIndex: number; readonly at: number }
  | { readonly id: string; readonly type: 'search'; readonly query: string; readonly at: number };

/** What recordOrganic did with a report's events. */
export interface OrganicFold {
  /** Folded now. */
  readonly folded: number;
  /** Skipped: their id was among the user's last REMEMBERED_ORGANIC_EVENTS folded (or twice in the report). */
  readonly duplicates: number;
}

export interface UserActivityStoreOptions {
  /** Keys live under `<prefix>:` (UserActivityKeys). */
  readonly prefix: string;
  readonly halfLifeMs?: number;
  /** A user's hash expires this long after its last write. */
  readonly ttlMs?: number;
  readonly trendingHalfLifeMs?: number;
  readonly trendingMaxAds?: number;
}

/** An ad of the trending set with its clicks decayed to the time asked. */
export interface TrendingAd {
  readonly adId: number;
  readonly clicks: number;
}

/**
 * The users' activity state in Redis: one hash per user, folded by Lua scripts that do in one atomic
 * step what foldEvent and foldQuery do, so concurrent workers never lose an update; a read is one
 * HGETALL (readMany: one pipelined round trip). Beside it, per country, the trending set of decayed
 * clicks per ad that retrieval reads with trendingAds.
 *
 * Whoever calls record must make sure an event reaches it once (logging folds an event only when
 * the event store stored it for the first time); recordQuery dedupes by request id itself.
 */
export class UserActivityStore {
  readonly keys: UserActivityKeys;
  readonly halfLifeMs: number;
  readonly ttlMs: number;
  readonly trendingHalfLifeMs: number;
  readonly trendingMaxAds: number;

  constructor(
    private readonly redis: Redis,
    options: UserActivityStoreOptions,
  ) {
    this.keys = new UserActivityKeys(options.prefix);
    this.halfLifeMs = options.halfLifeMs ?? USER_ACTIVITY_DEFAULTS.halfLifeMs;
    this.ttlMs = options.ttlMs ?? USER_ACTIVITY_DEFAULTS.ttlMs;
    this.trendingHalfLifeMs = options.trendingHalfLifeMs ?? USER_ACTIVITY_DEFAULTS.trendingHalfLifeMs;
    this.trendingMaxAds = options.trendingMaxAds ?? USER_ACTIVITY_DEFAULTS.trendingMaxAds;
    checkHalfLife(this.halfLifeMs);
    checkHalfLife(this.trendingHalfLifeMs);
    if (!Number.isSafeInteger(this.ttlMs) || this.ttlMs < 1) {
      throw new RangeError(`user activity TTL must be a positive integer of ms, got ${this.ttlMs}`);
    }
    if (!Number.isSafeInteger(this.trendingMaxAds) || this.trendingMaxAds < 1) {
      throw new RangeError(`trending needs room for at least 1 ad, got ${this.trendingMaxAds}`);
    }
  }

  /** Folds one event into the user's state (foldEvent, atomically). */
  async record(userId: string, event: ActivityEvent): Promise<void> {
    // The pure fold validates the event exactly as the script will apply it.
    foldEvent(null, event, this.halfLifeMs);
    await FOLD_EVENT.run(
      this.redis,
      [this.keys.user(userId)],
      [
        event.at,
        this.halfLifeMs,
        this.ttlMs,
        TOPIC_COUNT,
        F[event.type],
        event.categoryIndex,
        event.adId,
        event.advertiserId,
        MAX_RECENT_ACTIVITY,
        event.type,
      ],
    );
  }

  /**
   * Folds the query of request `requestId` into the user's state (foldQuery, atomically), once: false
   * when that request's query was folded before, or the query is empty once normalized.
   */
  async recordQuery(userId: string, requestId: string, query: string, at: number): Promise<boolean> {
    if (requestId.length === 0 || requestId.includes(LIST_SEPARATOR)) {
      throw new RangeError(`request id must be non-empty without control characters, got "${requestId}"`);
    }
    if (!Number.isSafeInteger(at) || at < 0)
      throw new RangeError(`query time must be epoch ms >= 0, got ${at}`);
    const normalized = normalizeQuery(query);
    if (normalized === null) return false;
    const folded = await FOLD_QUERY.run(
      this.redis,
      [this.keys.user(userId)],
      [
        at,
        this.halfLifeMs,
        this.ttlMs,
        TOPIC_COUNT,
        normalized,
        requestId,
        MAX_RECENT_ACTIVITY,
        REMEMBERED_QUERY_REQUESTS,
      ],
    );
    return folded === 1;
  }

  /**
   * Folds a report of organic activity into the user's state in one atomic step, in the order given:
   * each engagement as foldEngagement, each search as foldQuery; an event whose id was folded before
   * (among the user's last REMEMBERED_ORGANIC_EVENTS) counts nothing. Validates every event first,
   * so a bad one folds none of them.
   */
  async recordOrganic(userId: string, events: readonly OrganicActivity[]): Promise<OrganicFold> {
    const args: (string | number)[] = [
      this.halfLifeMs,
      this.ttlMs,
      TOPIC_COUNT,
      MAX_RECENT_ACTIVITY,
      REMEMBERED_ORGANIC_EVENTS,
    ];
    for (const event of events) {
      if (!/^[\x21-\x7e]+$/.test(event.id)) {
        throw new RangeError(`event id must be printable ASCII without spaces, got "${event.id}"`);
      }
      if (event.type === 'engagement') {
        // The pure fold validates the event exactly as the script will apply it.
        foldEngagement(null, event.categoryIndex, event.at, this.halfLifeMs);
        args.push(event.id, event.type, event.at, event.categoryIndex);
      } else {
        foldQuery(null, event.query, event.at, this.halfLifeMs);
        if (normalizeQuery(event.query) !== event.query) {
          throw new RangeError(`search query must be normalized (normalizeQuery), got "${event.query}"`);
        }
        args.push(event.id, event.type, event.at, event.query);
      }
    }
    if (events.length === 0) return { folded: 0, duplicates: 0 };
    const [folded, duplicates] = (await FOLD_ORGANIC.run(
      this.redis,
      [this.keys.user(userId), this.keys.organicIds(userId)],
      args,
    )) as [number, number];
    return { folded, duplicates };
  }

  /** The user's state, null for a user without one (never seen, or expired). One HGETALL. */
  async read(userId: string): Promise<UserActivity | null> {
    const key = this.keys.user(userId);
    return parseUserHash(key, await this.redis.hgetall(key));
  }

  /** The state of each user that has one, in one pipelined round trip. */
  async readMany(userIds: readonly string[]): Promise<Map<string, UserActivity>> {
    const found = new Map<string, UserActivity>();
    if (userIds.length === 0) return found;
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) pipeline.hgetall(this.keys.user(userId));
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, hash], i) => {
      const userId = userIds[i];
      if (error) throw error;
      const activity = parseUserHash(this.keys.user(userId), hash as Record<string, string>);
      if (activity !== null) found.set(userId, activity);
    });
    return found;
  }

  /** Counts a click on `adId` in `country`'s trending set. */
  async bumpTrending(country: string, adId: number, at: number): Promise<void> {
    if (!Number.isSafeInteger(adId) || adId < 1)
      throw new RangeError(`ad id must be a positive integer, got ${adId}`);
    if (!Number.isSafeInteger(at) || at < 0)
      throw new RangeError(`click time must be epoch ms >= 0, got ${at}`);
    await BUMP_TRENDING.run(
      this.redis,
      [this.keys.trending(country), this.keys.trendingEpoch(country)],
      [at, this.trendingHalfLifeMs, this.trendingMaxAds, this.ttlMs, adId],
    );
  }

  /** trendingAds under this store's prefix and half-life. */
  trending(country: string, limit: number, now: number): Promise<TrendingAd[]> {
    return trendingAds(this.redis, country, limit, {
      prefix: this.keys.prefix,
      halfLifeMs: this.trendingHalfLifeMs,
      now,
    });
  }
}

export interface TrendingOptions {
  /** Default USER_ACTIVITY_DEFAULTS.keyPrefix; the writer's USER_ACTIVITY_KEY_PREFIX. */
  readonly prefix?: string;
  /** Default USER_ACTIVITY_DEFAULTS.trendingHalfLifeMs; the writer's TRENDING_HALF_LIFE_MS. */
  readonly halfLifeMs?: number;
  /** Epoch ms the clicks are decayed to (the funnel's clock); default now. */
  readonly now?: number;
}

/**
 * The `limit` ads clicked most in `country` lately (decayed clicks, most first): one ZREVRANGE, with
 * the set's epoch in the same round trip. Empty before any click there. The ads are whatever was
 * clicked; the reader still applies targeting, status and budget.
 */
export async function trendingAds(
  redis: Redis,
  country: string,
  limit: number,
  options: TrendingOptions = {},
): Promise<TrendingAd[]> {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
  if (limit === 0) return [];
  const keys = new UserActivityKeys(options.prefix ?? USER_ACTIVITY_DEFAULTS.keyPrefix);
  const halfLifeMs = options.halfLifeMs ?? USER_ACTIVITY_DEFAULTS.trendingHalfLifeMs;
  checkHalfLife(halfLifeMs);
  const now = options.now ?? Date.now();
  const replies = await redis
    .pipeline()
    .zrevrange(keys.trending(country), 0, limit - 1, 'WITHSCORES')
    .get(keys.trendingEpoch(country))
    .exec();
  const [[rangeError, flat], [epochError, epochRaw]] = replies ?? [
    [null, []],
    [null, null],
  ];
  if (rangeError) throw rangeError;
  if (epochError) throw epochError;
  const members = flat as string[];
  if (members.length === 0 || epochRaw === null) return [];
  const scale = 2 ** ((Number(epochRaw) - now) / halfLifeMs);
  const ads: TrendingAd[] = [];
  for (let i = 0; i < members.length; i += 2) {
    ads.push({ adId: Number(members[i]), clicks: Number(members[i + 1]) * scale });
  }
  return ads;
}

/** The hash as UserActivity; null when empty. A hash that does not parse is an error naming its key. */
export function parseUserHash(key: string, hash: Record<string, string>): UserActivity | null {
  if (Object.keys(hash).length === 0) return null;
  const numbers = (field: string) => {
    const raw = hash[field];
    if (raw === undefined || raw === '') return new Array<number>(TOPIC_COUNT).fill(0);
    return raw.split(',').map(Number);
  };
  const ids = (field: string) => {
    const raw = hash[field];
    return raw === undefined || raw === '' ? [] : raw.split(',').map(Number);
  };
  const queries = hash[F.queries];
  const candidate = {
    impressionsByCategory: numbers(F.impression),
    clicksByCategory: numbers(F.click),
    hidesByCategory: numbers(F.hide),
    conversionsByCategory: numbers(F.conversion),
    recentAdIds: ids(F.ads),
    recentAdvertiserIds: ids(F.advertisers),
    recentQueries: queries === undefined || queries === '' ? [] : queries.split(LIST_SEPARATOR),
    updatedAt: Number(hash[F.at] ?? 0),
    ...(hash[F.engagement] === undefined ? {} : { engagementsByCategory: numbers(F.engagement) }),
  };
  const parsed = UserActivitySchema.safeParse(candidate);
  if (!parsed.success) throw new Error(`user activity ${key} does not parse: ${parsed.error.message}`);
  for (const field of [F.impression, F.click, F.hide, F.conversion, F.engagement]) {
    const length = hash[field]?.split(',').length ?? TOPIC_COUNT;
    if (length !== TOPIC_COUNT) {
      throw new Error(`user activity ${key}: ${field} has ${length} categories, expected ${TOPIC_COUNT}`);
    }
  }
  return parsed.data;
}
