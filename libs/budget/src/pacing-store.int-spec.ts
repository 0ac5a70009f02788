import { afterAll, describe, expect, it } from '@jest/globals';
import type { CampaignPacingState } from '@adfunnel/pacing';
import { TEST_REDIS_URL, deleteRedisKeys, testRunId } from '@adfunnel/testing';
import { Redis } from 'ioredis';
import { type PacingUpdate, PacingStore } from './pacing-store.js';

const HOUR_MS = 3_600_000;
const DAY_START = Date.UTC(2026, 2, 2);

function updateFactory(campaignId: number, rate: number): PacingUpdate {
  const state: CampaignPacingState = {
    day: '2026-03-02',
    rate,
    sliceStartMs: DAY_START + HOUR_MS,
    spentMicros: 1_000,
    demandSpend: 2_000,
    demandShare: 0.05,
  };
  return { campaignId, rate: { rate, validUntilMs: DAY_START + 24 * HOUR_MS }, state };
}

describe(PacingStore.name, () => {
  const prefix = testRunId('pacing_store');
  const clients: Redis[] = [];
  let run = 0;
  /** A store of its own per test: each test starts from an empty pacing state. */
  const storeFactory = () => {
    const redis = new Redis(TEST_REDIS_URL);
    clients.push(redis);
    return new PacingStore(redis, `${prefix}-${++run}`);
  };

  afterAll(async () => {
    for (let i = 1; i <= run; i++) await deleteRedisKeys(`${prefix}-${i}`);
    for (const client of clients) client.disconnect();
  });

  it('adds request counts per hour and reads back the hours that have any', async () => {
    const sut = storeFactory();

    await sut.countRequests(
      new Map([
        [DAY_START, 5],
        [DAY_START + 2 * HOUR_MS, 7],
      ]),
    );
    await sut.countRequests(new Map([[DAY_START, 3]]));

    await expect(sut.requestCounts(DAY_START, DAY_START + 3 * HOUR_MS)).resolves.toEqual([
      { hourStartMs: DAY_START, requests: 8 },
      { hourStartMs: DAY_START + 2 * HOUR_MS, requests: 7 },
    ]);
    await expect(sut.requestCounts(DAY_START + HOUR_MS, DAY_START + 2 * HOUR_MS)).resolves.toEqual([]);
  });

  it('lets one replica of many take a slice’s lock, and nobody take a committed slice again', async () => {
    const sut = storeFactory();

    const taken = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => sut.lockSlice(7, owner, 5_000)));
    const winner = ['a', 'b', 'c', 'd'][taken.indexOf(true)];

    expect(taken.filter(Boolean)).toHaveLength(1);
    await expect(sut.commitSlice(7, winner, [updateFactory(1, 0.25)])).resolves.toBe(true);
    await expect(sut.lastSlice()).resolves.toBe(7);
    await expect(sut.lockSlice(7, 'a', 5_000)).resolves.toBe(false);
    await expect(sut.lockSlice(6, 'a', 5_000)).resolves.toBe(false);
    await expect(sut.lockSlice(8, 'a', 5_000)).resolves.toBe(true);
  });

  it('replaces every rate and state at a commit, and keeps them as written', async () => {
    const sut = storeFactory();
    await sut.lockSlice(1, 'a', 5_000);
    await sut.commitSlice(1, 'a', [updateFactory(1, 0.25), updateFactory(2, 1)]);

    await sut.lockSlice(2, 'a', 5_000);
    await sut.commitSlice(2, 'a', [updateFactory(2, 0.5)]);

    await expect(sut.rates()).resolves.toEqual(
      new Map([[2, { rate: 0.5, validUntilMs: DAY_START + 24 * HOUR_MS }]]),
    );
    await expect(sut.states()).resolves.toEqual(new Map([[2, updateFactory(2, 0.5).state]]));
  });

  it('writes nothing for a replica that lost its lock', async () => {
    const sut = storeFactory();
    await sut.lockSlice(3, 'slow', 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await expect(sut.lockSlice(3, 'fast', 5_000)).resolves.toBe(true);
    await sut.commitSlice(3, 'fast', [updateFactory(1, 0.1)]);

    await expect(sut.commitSlice(3, 'slow', [updateFactory(1, 0.9)])).resolves.toBe(false);
    await expect(sut.commitSlice(4, 'slow', [updateFactory(1, 0.9)])).resolves.toBe(false);
    expect((await sut.rates()).get(1)?.rate).toBe(0.1);
  });

  it('gives a lock back early only to its owner', async () => {
    const sut = storeFactory();
    await sut.lockSlice(5, 'a', 60_000);

    await sut.unlockSlice('b');
    await expect(sut.lockSlice(5, 'b', 60_000)).resolves.toBe(false);
    await sut.unlockSlice('a');
    await expect(sut.lockSlice(5, 'b', 60_000)).resolves.toBe(true);
  });
});
