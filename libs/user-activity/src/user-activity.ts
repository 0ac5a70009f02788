import { type EventType, MAX_RECENT_ACTIVITY, type UserActivity } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';

/** Defaults of the activity state; every service that reads or writes it uses the same ones. */
export const USER_ACTIVITY_DEFAULTS = {
  /** Redis keys live under `<prefix>:`. */
  keyPrefix: 'adfunnel',
  /** A week-old click weighs half a fresh one. */
  halfLifeMs: 7 * 86_400_000,
  /** A user's state is dropped a month after its last event. */
  ttlMs: 30 * 86_400_000,
  /** Trending is about the last day or so: yesterday's clicks weigh half. */
  trendingHalfLifeMs: 86_400_000,
  /** Ads kept per country in the trending set. */
  trendingMaxAds: 2000,
  /** A read on the serving path that has not answered by then fails; the request serves cold. */
  redisTimeoutMs: 50,
} as const;

/** One logged tracking event, with what the catalog says about its ad (its declared category). */
export interface ActivityEvent {
  readonly type: EventType;
  readonly adId: number;
  readonly advertiserId: number;
  /** Index of the ad's category in the TOPICS of libs/features. */
  readonly categoryIndex: number;
  /** Epoch ms the event happened (the funnel's clock). */
  readonly at: number;
}

/** Longest query kept, as UserActivitySchema allows. */
export const MAX_QUERY_LENGTH = 256;

const COUNT_FIELD = {
  impression: 'impressionsByCategory',
  click: 'clicksByCategory',
  hide: 'hidesByCategory',
  conversion: 'conversionsByCategory',
} as const satisfies Record<EventType, keyof UserActivity>;

/** The state of a user the funnel has seen nothing from. */
export function emptyUserActivity(): UserActivity {
  const zeros = () => new Array<number>(TOPIC_COUNT).fill(0);
  return {
    impressionsByCategory: zeros(),
    clicksByCategory: zeros(),
    hidesByCategory: zeros(),
    conversionsByCategory: zeros(),
    recentAdIds: [],
    recentAdvertiserIds: [],
    recentQueries: [],
    updatedAt: 0,
  };
}

/** True once anything was folded in: a count above zero or an entry in a recent list. */
export function hasActivity(activity: UserActivity | null | undefined): activity is UserActivity {
  if (activity === null || activity === undefined) return false;
  const { recentAdIds, recentAdvertiserIds, recentQueries } = activity;
  if (recentAdIds.length + recentAdvertiserIds.length + recentQueries.length > 0) return true;
  if (activity.engagementsByCategory?.some((n) => n > 0)) return true;
  return Object.values(COUNT_FIELD).some((field) => activity[field].some((n) => n > 0));
}

/** The factor a count stamped at `from` has kept at `to`: 1/2 per half-life, 1 when `to` is not later. */
export function decayFactor(from: number, to: number, halfLifeMs: number): number {
  checkHalfLife(halfLifeMs);
  return to <= from ? 1 : 2 ** (-(to - from) / halfLifeMs);
}

/**
 * The counts of `activity` valued at `at` instead of at its `updatedAt` (every count times the same
 * decay factor); `updatedAt` becomes `at`. A state already newer than `at` is returned as it is.
 */
export function decayActivity(activity: UserActivity, at: number, halfLifeMs: number): UserActivity {
  checkTime(at);
  if (at <= activity.updatedAt) return activity;
  const f = decayFactor(activity.updatedAt, at, halfLifeMs);
  const scale = (counts: readonly number[]) => counts.map((n) => n * f);
  const decayed: UserActivity = {
    ...activity,
    impressionsByCategory: scale(activity.impressionsByCategory),
    clicksByCategory: scale(activity.clicksByCategory),
    hidesByCategory: scale(activity.hidesByCategory),
    conversionsByCategory: scale(activity.conversionsByCategory),
    updatedAt: at,
  };
  if (activity.engagementsByCategory !== undefined) {
    decayed.engagementsByCategory = scale(activity.engagementsByCategory);
  }
  return decayed;
}

/**
 * Folds one logged event into the user's state. Counts are kept valued at `updatedAt`: an event at or
 * after it decays every count to the event's time and adds 1; an event from before it (delivered
 * late) adds its own decayed weight, 2^(-(updatedAt - at) / halfLife), and leaves `updatedAt`. Either
 * way the result is the one the events in time order would give.
 *
 * A click or a conversion puts the ad and its advertiser first in the recent lists (distinct, at most
 * MAX_RECENT_ACTIVITY); a late one goes after the entries already there, if there is room. A hide
 * takes the ad and its advertiser out of them: what the user asked not to see is no retargeting
 * signal. An impression changes only its count.
 */
export function foldEvent(
  activity: UserActivity | null | undefined,
  event: ActivityEvent,
  halfLifeMs: number = USER_ACTIVITY_DEFAULTS.halfLifeMs,
): UserActivity {
  checkEvent(event);
  const { state, late, weight } = valuedAt(activity, event.at, halfLifeMs);
  const field = COUNT_FIELD[event.type];
  const counts = [...state[field]];
  counts[event.categoryIndex] = (counts[event.categoryIndex] ?? 0) + weight;
  const next: UserActivity = { ...state, [field]: counts };
  switch (event.type) {
    case 'click':
    case 'conversion':
      next.recentAdIds = remember(state.recentAdIds, event.adId, late);
      next.recentAdvertiserIds = remember(state.recentAdvertiserIds, event.advertiserId, late);
      break;
    case 'hide':
      next.recentAdIds = state.recentAdIds.filter((id) => id !== event.adId);
      next.recentAdvertiserIds = state.recentAdvertiserIds.filter((id) => id !== event.advertiserId);
      break;
    case 'impression':
      break;
  }
  return next;
}

/**
 * Folds one engagement with the product's organic content (a save, like or click the surface reported
 * through `POST /v1/activity`) under its category, as foldEvent folds an ad event: counts decayed to
 * `at` and 1 added, or, late, the event's own decayed weight added. The recent ad lists are about ads
 * and do not change.
 */
export function foldEngagement(
  activity: UserActivity | null | undefined,
  categoryIndex: number,
  at: number,
  halfLifeMs: number = USER_ACTIVITY_DEFAULTS.halfLifeMs,
): UserActivity {
  checkCategoryIndex(categoryIndex);
  checkTime(at);
  const { state, weight } = valuedAt(activity, at, halfLifeMs);
  const counts = [...(state.engagementsByCategory ?? new Array<number>(TOPIC_COUNT).fill(0))];
  counts[categoryIndex] = (counts[categoryIndex] ?? 0) + weight;
  return { ...state, engagementsByCategory: counts };
}

/**
 * The state an event at `at` folds into, and the weight it adds: the counts decayed to `at` and 1, or,
 * for an event from before `updatedAt` (late), the state as it is and the event's own decayed weight.
 */
function valuedAt(
  activity: UserActivity | null | undefined,
  at: number,
  halfLifeMs: number,
): { state: UserActivity; late: boolean; weight: number } {
  checkHalfLife(halfLifeMs);
  const before = activity ?? emptyUserActivity();
  const late = at < before.updatedAt;
  if (late) return { state: before, late, weight: decayFactor(at, before.updatedAt, halfLifeMs) };
  return { state: decayActivity(before, at, halfLifeMs), late, weight: 1 };
}

/**
 * Folds a search query in: first in the recent queries (distinct after normalizeQuery, at most
 * MAX_RECENT_ACTIVITY; a late one after those there). Counts only decay to `at`. A query that is empty
 * once normalized changes nothing.
 */
export function foldQuery(
  activity: UserActivity | null | undefined,
  query: string,
  at: number,
  halfLifeMs: number = USER_ACTIVITY_DEFAULTS.halfLifeMs,
): UserActivity {
  checkTime(at);
  checkHalfLife(halfLifeMs);
  const before = activity ?? emptyUserActivity();
  const normalized = normalizeQuery(query);
  if (normalized === null) return before;
  const late = at < before.updatedAt;
  const state = late ? before : decayActivity(before, at, halfLifeMs);
  return { ...state, recentQueries: remember(state.recentQueries, normalized, late) };
}

/**
 * A query as the state keeps it: control characters as spaces, runs of white space as one, trimmed,
 * lower case, at most MAX_QUERY_LENGTH UTF-16 units (never half a character). Null when nothing is left.
 */
export function normalizeQuery(query: string): string | null {
  const cleaned = query
    // eslint-disable-next-line no-control-regex -- control characters are what it removes
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  if (cleaned.length === 0) return null;
  if (cleaned.length <= MAX_QUERY_LENGTH) return cleaned;
  let out = '';
  for (const char of cleaned) {
    if (out.length + char.length > MAX_QUERY_LENGTH) break;
    out += char;
  }
  return out.trimEnd();
}

/** `value` first (or, late, last if there is room), without another copy of it, at most MAX_RECENT_ACTIVITY. */
function remember<T>(list: readonly T[], value: T, late: boolean): T[] {
  if (late) {
    if (list.includes(value) || list.length >= MAX_RECENT_ACTIVITY) return [...list];
    return [...list, value];
  }
  return [value, ...list.filter((v) => v !== value)].slice(0, MAX_RECENT_ACTIVITY);
}

function checkEvent(event: ActivityEvent): void {
  if (!(event.type in COUNT_FIELD)) throw new RangeError(`unknown event type "${String(event.type)}"`);
  if (!Number.isSafeInteger(event.adId) || event.adId < 1) {
    throw new RangeError(`ad id must be a positive integer, got ${event.adId}`);
  }
  if (!Number.isSafeInteger(event.advertiserId) || event.advertiserId < 1) {
    throw new RangeError(`advertiser id must be a positive integer, got ${event.advertiserId}`);
  }
  checkCategoryIndex(event.categoryIndex);
  checkTime(event.at);
}

function checkCategoryIndex(categoryIndex: number): void {
  if (!Number.isInteger(categoryIndex) || categoryIndex < 0 || categoryIndex >= TOPIC_COUNT) {
    throw new RangeError(
      `category index must be an integer from 0 to ${TOPIC_COUNT - 1}, got ${categoryIndex}`,
    );
  }
}

function checkTime(at: number): void {
  if (!Number.isSafeInteger(at) || at < 0)
    throw new RangeError(`event time must be epoch ms >= 0, got ${at}`);
}

export function checkHalfLife(halfLifeMs: number): void {
  if (!(Number.isFinite(halfLifeMs) && halfLifeMs > 0)) {
    throw new RangeError(`half-life must be a positive number of ms, got ${halfLifeMs}`);
  }
}
