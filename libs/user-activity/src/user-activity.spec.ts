import { describe, expect, it } from '@jest/globals';
import { MAX_RECENT_ACTIVITY, UserActivitySchema } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import {
  type ActivityEvent,
  MAX_QUERY_LENGTH,
  decayActivity,
  emptyUserActivity,
  foldEngagement,
  foldEvent,
  foldQuery,
  hasActivity,
  normalizeQuery,
} from './user-activity.js';

const HOUR = 3_600_000;
const HALF_LIFE = 24 * HOUR;
const T0 = Date.UTC(2026, 11, 1, 12);

const event = (overrides: Partial<ActivityEvent> = {}): ActivityEvent => ({
  type: 'click',
  adId: 42,
  advertiserId: 7,
  categoryIndex: 3,
  at: T0,
  ...overrides,
});

describe(foldEvent.name, () => {
  it('counts an event in its category and keeps a valid state', () => {
    const sut = foldEvent(null, event({ type: 'impression' }), HALF_LIFE);
    expect(sut.impressionsByCategory[3]).toBe(1);
    expect(sut.impressionsByCategory.reduce((a, b) => a + b)).toBe(1);
    expect(sut.clicksByCategory.every((n) => n === 0)).toBe(true);
    expect(sut.recentAdIds).toEqual([]);
    expect(sut.updatedAt).toBe(T0);
    expect(UserActivitySchema.parse(sut)).toEqual(sut);
    expect(sut.impressionsByCategory).toHaveLength(TOPIC_COUNT);
  });

  it('halves every count per half-life before adding the new event', () => {
    let sut = foldEvent(null, event({ type: 'click', categoryIndex: 1 }), HALF_LIFE);
    sut = foldEvent(sut, event({ type: 'hide', categoryIndex: 2 }), HALF_LIFE);
    sut = foldEvent(sut, event({ type: 'click', categoryIndex: 1, at: T0 + HALF_LIFE }), HALF_LIFE);
    expect(sut.clicksByCategory[1]).toBeCloseTo(1.5, 12);
    expect(sut.hidesByCategory[2]).toBeCloseTo(0.5, 12);
    expect(sut.updatedAt).toBe(T0 + HALF_LIFE);
  });

  it('gives a late event the weight it would have had in time order, and keeps updatedAt', () => {
    const inOrder = [T0, T0 + 3 * HOUR, T0 + 30 * HOUR].reduce(
      (state, at) => foldEvent(state, event({ at }), HALF_LIFE),
      emptyUserActivity(),
    );
    const shuffled = [T0 + 30 * HOUR, T0, T0 + 3 * HOUR].reduce(
      (state, at) => foldEvent(state, event({ at }), HALF_LIFE),
      emptyUserActivity(),
    );
    expect(shuffled.updatedAt).toBe(T0 + 30 * HOUR);
    expect(shuffled.clicksByCategory[3]).toBeCloseTo(inOrder.clicksByCategory[3], 12);
  });

  it('puts clicked and converted ads and their advertisers first, distinct, capped', () => {
    let sut = emptyUserActivity();
    for (let i = 1; i <= MAX_RECENT_ACTIVITY + 5; i++) {
      sut = foldEvent(sut, event({ adId: i, advertiserId: 100 + (i % 3), at: T0 + i }), HALF_LIFE);
    }
    expect(sut.recentAdIds).toHaveLength(MAX_RECENT_ACTIVITY);
    expect(sut.recentAdIds.slice(0, 3)).toEqual([25, 24, 23]);
    expect(sut.recentAdvertiserIds).toEqual([101, 100, 102]);
    sut = foldEvent(sut, event({ type: 'conversion', adId: 10, advertiserId: 102, at: T0 + 100 }), HALF_LIFE);
    expect(sut.recentAdIds[0]).toBe(10);
    expect(sut.recentAdIds.filter((id) => id === 10)).toHaveLength(1);
    expect(sut.recentAdvertiserIds).toEqual([102, 101, 100]);
  });

  it('files a late click after the recent entries, and not at all when the list is full', () => {
    let sut = foldEvent(null, event({ adId: 1, at: T0 + HOUR }), HALF_LIFE);
    sut = foldEvent(sut, event({ adId: 2, at: T0 }), HALF_LIFE);
    expect(sut.recentAdIds).toEqual([1, 2]);
    for (let i = 3; i <= MAX_RECENT_ACTIVITY; i++)
      sut = foldEvent(sut, event({ adId: i, at: T0 + HOUR + i }), HALF_LIFE);
    const full = foldEvent(sut, event({ adId: 999, at: T0 }), HALF_LIFE);
    expect(full.recentAdIds).toEqual(sut.recentAdIds);
    expect(full.clicksByCategory[3]).toBeGreaterThan(sut.clicksByCategory[3]);
  });

  it('takes a hidden ad and its advertiser out of the recent lists; impressions leave them alone', () => {
    let sut = foldEvent(null, event({ adId: 1, advertiserId: 7 }), HALF_LIFE);
    sut = foldEvent(sut, event({ adId: 2, advertiserId: 8, at: T0 + 1 }), HALF_LIFE);
    sut = foldEvent(sut, event({ type: 'impression', adId: 3, advertiserId: 9, at: T0 + 2 }), HALF_LIFE);
    expect(sut.recentAdIds).toEqual([2, 1]);
    sut = foldEvent(sut, event({ type: 'hide', adId: 2, advertiserId: 8, at: T0 + 3 }), HALF_LIFE);
    expect(sut.recentAdIds).toEqual([1]);
    expect(sut.recentAdvertiserIds).toEqual([7]);
  });

  it('refuses an event it cannot place, saying why', () => {
    expect(() => foldEvent(null, event({ categoryIndex: TOPIC_COUNT }))).toThrow(
      new RangeError(`category index must be an integer from 0 to ${TOPIC_COUNT - 1}, got ${TOPIC_COUNT}`),
    );
    expect(() => foldEvent(null, event({ adId: 0 }))).toThrow('ad id must be a positive integer, got 0');
    expect(() => foldEvent(null, event({ at: -1 }))).toThrow('event time must be epoch ms >= 0, got -1');
    expect(() => foldEvent(null, event(), 0)).toThrow('half-life must be a positive number of ms, got 0');
  });

  it('does not change the state it was given', () => {
    const before = foldEvent(null, event(), HALF_LIFE);
    const copy = structuredClone(before);
    foldEvent(before, event({ at: T0 + HOUR, adId: 9 }), HALF_LIFE);
    foldQuery(before, 'shoes', T0 + HOUR, HALF_LIFE);
    expect(before).toEqual(copy);
  });
});

describe(foldQuery.name, () => {
  it('keeps recent queries normalized, most recent first, distinct, capped', () => {
    let sut = foldQuery(null, 'Running  Shoes ', T0, HALF_LIFE);
    sut = foldQuery(sut, 'tent', T0 + 1, HALF_LIFE);
    sut = foldQuery(sut, 'running shoes', T0 + 2, HALF_LIFE);
    expect(sut.recentQueries).toEqual(['running shoes', 'tent']);
    for (let i = 0; i < MAX_RECENT_ACTIVITY + 3; i++) sut = foldQuery(sut, `q${i}`, T0 + 10 + i, HALF_LIFE);
    expect(sut.recentQueries).toHaveLength(MAX_RECENT_ACTIVITY);
    expect(sut.recentQueries[0]).toBe(`q${MAX_RECENT_ACTIVITY + 2}`);
    expect(sut.updatedAt).toBe(T0 + 10 + MAX_RECENT_ACTIVITY + 2);
  });

  it('decays the counts to the query time and ignores an empty query', () => {
    const clicked = foldEvent(null, event(), HALF_LIFE);
    const sut = foldQuery(clicked, 'lamp', T0 + HALF_LIFE, HALF_LIFE);
    expect(sut.clicksByCategory[3]).toBeCloseTo(0.5, 12);
    expect(foldQuery(clicked, ' \t\n ', T0 + HALF_LIFE, HALF_LIFE)).toBe(clicked);
  });
});

describe(foldEngagement.name, () => {
  it('counts an organic engagement in its category, decaying the ad counts with it', () => {
    const clicked = foldEvent(null, event({ categoryIndex: 5 }), HALF_LIFE);
    const sut = foldEngagement(clicked, 3, T0 + HALF_LIFE, HALF_LIFE);
    expect(UserActivitySchema.parse(sut)).toEqual(sut);
    expect(sut.engagementsByCategory![3]).toBe(1);
    expect(sut.engagementsByCategory!.filter((n) => n > 0)).toHaveLength(1);
    expect(sut.clicksByCategory[5]).toBeCloseTo(0.5, 12);
    expect(sut.updatedAt).toBe(T0 + HALF_LIFE);
    expect(sut.recentAdIds).toEqual([42]);
    const again = foldEngagement(sut, 3, T0 + 2 * HALF_LIFE, HALF_LIFE);
    expect(again.engagementsByCategory![3]).toBeCloseTo(1.5, 12);
  });

  it('gives a late engagement its decayed weight and keeps updatedAt', () => {
    const now = foldEngagement(null, 1, T0 + HALF_LIFE, HALF_LIFE);
    const sut = foldEngagement(now, 1, T0, HALF_LIFE);
    expect(sut.engagementsByCategory![1]).toBeCloseTo(1.5, 12);
    expect(sut.updatedAt).toBe(T0 + HALF_LIFE);
  });

  it('decays engagements with every later fold, and a state without them keeps none', () => {
    const engaged = foldEngagement(null, 2, T0, HALF_LIFE);
    expect(
      foldEvent(engaged, event({ at: T0 + HALF_LIFE }), HALF_LIFE).engagementsByCategory![2],
    ).toBeCloseTo(0.5, 12);
    expect(foldEvent(null, event(), HALF_LIFE).engagementsByCategory).toBeUndefined();
    expect(hasActivity(engaged)).toBe(true);
  });

  it('refuses a category it cannot place', () => {
    expect(() => foldEngagement(null, TOPIC_COUNT, T0)).toThrow(
      /category index must be an integer from 0 to 15/,
    );
    expect(() => foldEngagement(null, 1, -1)).toThrow(RangeError);
  });
});

describe(normalizeQuery.name, () => {
  it('trims, folds white space and case, drops control characters, caps the length', () => {
    expect(normalizeQuery('  Red\x1fDRESS\n size 8 ')).toBe('red dress size 8');
    expect(normalizeQuery('\x00 ')).toBeNull();
    const long = normalizeQuery('ab'.repeat(200))!;
    expect(long).toHaveLength(MAX_QUERY_LENGTH);
    // never half a surrogate pair
    const emoji = normalizeQuery('a' + '😀'.repeat(200))!;
    expect(emoji.length).toBeLessThanOrEqual(MAX_QUERY_LENGTH);
    expect(emoji.endsWith('😀')).toBe(true);
  });
});

describe(hasActivity.name, () => {
  it('is false for no state and an empty one, true once anything was folded', () => {
    expect(hasActivity(null)).toBe(false);
    expect(hasActivity(emptyUserActivity())).toBe(false);
    expect(hasActivity(foldEvent(null, event({ type: 'impression' })))).toBe(true);
    expect(hasActivity(foldQuery(null, 'x', T0))).toBe(true);
  });
});

describe(decayActivity.name, () => {
  it('leaves a state newer than the time asked as it is', () => {
    const state = foldEvent(null, event(), HALF_LIFE);
    expect(decayActivity(state, T0 - HOUR, HALF_LIFE)).toBe(state);
    expect(decayActivity(state, T0 + 2 * HALF_LIFE, HALF_LIFE).clicksByCategory[3]).toBeCloseTo(0.25, 12);
  });
});
