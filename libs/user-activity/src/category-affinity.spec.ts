import { describe, expect, it } from '@jest/globals';
import { TOPIC_COUNT, topicIndex } from '@adfunnel/features';
import { AFFINITY_WEIGHTS, categoryAffinity } from './category-affinity.js';
import {
  type ActivityEvent,
  emptyUserActivity,
  foldEngagement,
  foldEvent,
  foldQuery,
} from './user-activity.js';

const HOUR = 3_600_000;
const HALF_LIFE = 24 * HOUR;
const T0 = Date.UTC(2026, 11, 1, 12);
const BOOKS = topicIndex('books');
const PETS = topicIndex('pets');

const fold = (events: Partial<ActivityEvent>[]) =>
  events.reduce(
    (state, e, i) =>
      foldEvent(
        state,
        { type: 'click', adId: 1 + i, advertiserId: 1, categoryIndex: BOOKS, at: T0, ...e },
        HALF_LIFE,
      ),
    emptyUserActivity(),
  );
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

describe(categoryAffinity.name, () => {
  it('is all zero for a user without activity', () => {
    expect(categoryAffinity(null, T0)).toEqual(new Array(TOPIC_COUNT).fill(0));
    expect(categoryAffinity(emptyUserActivity(), T0)).toEqual(new Array(TOPIC_COUNT).fill(0));
  });

  it('puts most weight on the clicked category and sums to 1', () => {
    const sut = categoryAffinity(fold([{ type: 'impression' }, {}]), T0, HALF_LIFE);
    expect(sum(sut)).toBeCloseTo(1, 12);
    expect(sut[BOOKS]).toBeCloseTo((1 / 16 + 1) / 2, 12);
    expect(Math.max(...sut.filter((_, k) => k !== BOOKS))).toBeCloseTo(1 / 32, 12);
  });

  it('follows the documented formula', () => {
    const activity = fold([
      { type: 'impression' },
      { type: 'impression' },
      { type: 'click' },
      { type: 'conversion' },
      { type: 'impression', categoryIndex: PETS },
      { type: 'impression', categoryIndex: PETS },
      { type: 'hide', categoryIndex: PETS },
    ]);
    const base = AFFINITY_WEIGHTS.prior / TOPIC_COUNT;
    const books = base + 1 + 2 - 0.05 * (2 - 1);
    const pets = Math.max(0, base - 1 - 0.05 * 2);
    const total = books + pets + base * (TOPIC_COUNT - 2);
    const sut = categoryAffinity(activity, T0, HALF_LIFE);
    expect(sut[BOOKS]).toBeCloseTo(books / total, 12);
    expect(sut[PETS]).toBe(0);
    expect(sut[0]).toBeCloseTo(base / total, 12);
  });

  it('counts an organic engagement as half a click', () => {
    const engaged = [0, 1].reduce((state, i) => foldEngagement(state, PETS, T0 + i, HALF_LIFE), fold([{}]));
    const base = AFFINITY_WEIGHTS.prior / TOPIC_COUNT;
    const d = 2 ** (-1 / HALF_LIFE);
    const books = base + d * 1;
    const pets = base + AFFINITY_WEIGHTS.engagement * (d + 1);
    const sut = categoryAffinity(engaged, T0 + 1, HALF_LIFE);
    expect(AFFINITY_WEIGHTS.engagement).toBe(0.5);
    expect(sut[PETS] / sut[BOOKS]).toBeCloseTo(pets / books, 12);
    expect(sum(sut)).toBeCloseTo(1, 12);
  });

  it('infers interests from organic engagement alone, for a user who never clicked an ad', () => {
    const sut = categoryAffinity(foldEngagement(null, PETS, T0, HALF_LIFE), T0, HALF_LIFE);
    expect(sut.indexOf(Math.max(...sut))).toBe(PETS);
  });

  it('counts impressions without a click a little against their category', () => {
    const sut = categoryAffinity(fold([{ type: 'impression', categoryIndex: PETS }]), T0, HALF_LIFE);
    expect(sut[PETS]).toBeLessThan(sut[BOOKS]);
    expect(sut[PETS]).toBeGreaterThan(0);
  });

  it('drifts back towards uniform as the activity ages', () => {
    const activity = fold([{}]);
    const fresh = categoryAffinity(activity, T0, HALF_LIFE)[BOOKS];
    const old = categoryAffinity(activity, T0 + 10 * HALF_LIFE, HALF_LIFE)[BOOKS];
    expect(old).toBeLessThan(fresh);
    expect(old).toBeGreaterThan(1 / TOPIC_COUNT);
    // a time before the state's own counts it as fresh
    expect(categoryAffinity(activity, T0 - HOUR, HALF_LIFE)[BOOKS]).toBe(fresh);
  });

  it('is uniform for a user who engaged with nothing in particular', () => {
    const queriesOnly = foldQuery(null, 'lamp', T0);
    expect(categoryAffinity(queriesOnly, T0)).toEqual(new Array(TOPIC_COUNT).fill(1 / TOPIC_COUNT));
    const hidAll = fold(
      Array.from({ length: TOPIC_COUNT }, (_, k) => ({ type: 'hide' as const, categoryIndex: k })),
    );
    expect(sum(categoryAffinity(hidAll, T0, HALF_LIFE))).toBeCloseTo(1, 12);
  });

  it('refuses counts that are not one per category', () => {
    const bad = { ...fold([{}]), clicksByCategory: [1, 2] };
    expect(() => categoryAffinity(bad, T0)).toThrow(
      new RangeError(`activity clicksByCategory has 2 categories, expected ${TOPIC_COUNT}`),
    );
  });
});
