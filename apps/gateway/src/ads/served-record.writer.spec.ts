import { describe, expect, it } from '@jest/globals';
import type { CatalogAd } from '@adfunnel/catalog';
import {
  type AdRequest,
  type ServedAd,
  type ServedRecord,
  type ServedRecordJob,
  ServedRecordSchema,
} from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  TOPIC_COUNT,
  buildFeatureMatrix,
  featureRequestOf,
  EMBEDDING_DIM,
  featureSpecFingerprint,
} from '@adfunnel/features';
import { FakeCatalogSnapshots, catalogSnapshot } from '@adfunnel/testing';
import { foldEvent, foldQuery } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { parseGatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';
import type { ServedQueue } from './served-queue.js';
import { ServedRecordWriter } from './served-record.writer.js';

const oneHot = (k: number) => Array.from({ length: TOPIC_COUNT }, (_, i) => (i === k ? 1 : 0));

const catalogAd = (id: number, topic: number): CatalogAd =>
  ({
    id,
    categoryIndex: topic,
    embedding: Float32Array.from({ length: EMBEDDING_DIM }, (_, d) => (d === topic ? 1 : 0)),
  }) as unknown as CatalogAd;

describe(ServedRecordWriter.name, () => {
  Logger.overrideLogger(false);
  const request: AdRequest = { userId: 'u1', surface: 'search', country: 'US', device: 'desktop', slots: 2 };
  const counts = (n: number) => oneHot(3).map((v) => v * n);
  const user = {
    userId: 'u1',
    country: 'US',
    device: 'desktop' as const,
    interests: oneHot(3),
    known: true,
    // The rows depend on the activity too: a recently clicked ad, its advertiser, the category's counts.
    activity: {
      impressionsByCategory: counts(12),
      clicksByCategory: counts(2),
      hidesByCategory: counts(1),
      conversionsByCategory: counts(0),
      recentAdIds: [9],
      recentAdvertiserIds: [9],
      recentQueries: [],
      updatedAt: 1,
    },
  };
  const ads = [catalogAd(7, 3), catalogAd(9, 5)];
  const served = ads.map(
    (ad, slot) => ({ slot, adId: ad.id, campaignId: 1, advertiserId: ad.id }) as ServedAd,
  );
  const trace = (catalogVersion: string): FunnelTrace => ({
    requestId: 'r1',
    servedAt: 1,
    user,
    scores: {
      modelVersion: 'm',
      pCtr: [0.1, 0.2],
      pCvr: [0.3, 0.4],
      featureSpec: featureSpecFingerprint(),
      catalogVersion,
    },
    auction: {
      mechanism: 'gsp',
      reservePerImpression: 0,
      considered: 2,
      eligible: 2,
      winners: ads.map((ad, slot) => ({
        slot,
        adId: ad.id,
        campaignId: 1,
        advertiserId: ad.id,
        bidType: 'CPC' as const,
        bid: 1,
        price: 0.5,
        valuePerImpression: 0.1,
        pCtr: 0.1,
        pCvr: 0.3,
      })),
    },
  });

  /** A bull queue's producer side: `add` answers when `release` says, `set` as Redis would for SET NX. */
  class FakeQueue {
    readonly jobs: { records: ServedRecord[]; jobId: string }[] = [];
    readonly claimed = new Set<string>();
    addFails = false;
    redisDown = false;
    holdAdds = false;
    private held: (() => void)[] = [];
    readonly client = {
      status: 'ready',
      on: () => undefined,
      set: (key: string) => {
        if (this.redisDown) return Promise.reject(new Error('connect ECONNREFUSED'));
        if (this.claimed.has(key)) return Promise.resolve(null);
        this.claimed.add(key);
        return Promise.resolve('OK');
      },
    };

    add(_name: string, data: ServedRecordJob, opts: { jobId: string }): Promise<unknown> {
      const added = () => {
        if (this.addFails) throw new Error('OOM command not allowed');
        this.jobs.push({ records: data.records, jobId: opts.jobId });
      };
      if (!this.holdAdds) return Promise.resolve().then(added);
      return new Promise((resolve, reject) =>
        this.held.push(() => {
          try {
            resolve(added());
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        }),
      );
    }

    release(): void {
      const held = this.held;
      this.held = [];
      held.forEach((run) => run());
    }
  }

  function writerWith(queue: FakeQueue, env: Record<string, string> = {}): ServedRecordWriter {
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService();
    const config = parseGatewayConfig({ TRACKING_SECRET: 'test-secret-0123456789', ...env });
    return new ServedRecordWriter(catalog, config, queue as unknown as ServedQueue);
  }

  const traceOf = (requestId: string): FunnelTrace => ({ ...trace('cat-1'), requestId });

  it('logs the rows ranking scored: same libs/features code, same user context, same catalog version', async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);

    expect(await sut.write(request, trace('cat-1'), served, [])).toBe(true);

    const expected = buildFeatureMatrix(
      featureRequestOf(
        { interests: user.interests, device: 'desktop', known: true, activity: user.activity },
        'search',
        { query: request.query, contextAdId: request.contextAdId },
        new Map(ads.map((ad) => [ad.id, ad])),
      ),
      ads,
    );
    const sent = queue.jobs.flatMap((job) => job.records);
    expect(sent).toHaveLength(1);
    expect(sent[0].featureDim).toBe(FEATURE_SPEC.dim);
    expect(sent[0].ads[1].features).toEqual(Array.from(expected.subarray(FEATURE_SPEC.dim)));
  });

  it("logs each ad's pHide from a model with a hide head, looked up by ad id, and none from a model without", async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);
    const withHide = trace('cat-1');
    // Ranking scored three candidates; ads 9 and 7 won, in that candidate order.
    withHide.scores = {
      ...withHide.scores!,
      pCtr: [0.2, 0.5, 0.1],
      pCvr: [0.4, 0.5, 0.3],
      pHide: [0.03, 0.5, 0.01],
    };
    withHide.scoredAdIds = [9, 11, 7];

    await sut.write(request, withHide, served, []);
    await sut.write(request, traceOf('r2'), served, []);

    const [hide, none] = queue.jobs.flatMap((job) => job.records);
    expect(hide.ads.map((ad) => [ad.adId, ad.pHide])).toEqual([
      [7, 0.01],
      [9, 0.03],
    ]);
    expect(none.ads.every((ad) => !('pHide' in ad))).toBe(true);
  });

  it("logs each ad's pCtrRaw beside the calibrated pCtr when ranking calibrated, and none when it did not", async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);
    const calibrated = trace('cat-1');
    calibrated.scores = {
      ...calibrated.scores!,
      pCtr: [0.25, 0.6, 0.15],
      pCtrRaw: [0.2, 0.5, 0.1],
      calibration: 'm@2026-12-02T00:00:00.000Z',
      pCvr: [0.4, 0.5, 0.3],
    };
    calibrated.scoredAdIds = [9, 11, 7];

    await sut.write(request, calibrated, served, []);
    await sut.write(request, traceOf('r2'), served, []);

    const [withRaw, none] = queue.jobs.flatMap((job) => job.records);
    expect(withRaw.ads.map((ad) => [ad.adId, ad.pCtrRaw])).toEqual([
      [7, 0.1],
      [9, 0.2],
    ]);
    expect(none.ads.every((ad) => !('pCtrRaw' in ad))).toBe(true);
  });

  it('logs no rows when ranking scored against another catalog version', async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);

    await sut.write(request, trace('cat-0'), served, []);

    const [record] = queue.jobs[0].records;
    expect(record.featureDim).toBeNull();
    expect(record.ads.every((ad) => ad.features === null)).toBe(true);
  });

  it('writes nothing for an answer without ads', async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);

    expect(await sut.write(request, trace('cat-1'), [], [])).toBe(true);
    expect(queue.jobs).toEqual([]);
  });

  it('adds the records that arrive while an add is in flight as one job, and answers each once its job is in', async () => {
    const queue = new FakeQueue();
    queue.holdAdds = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '60000' });

    const first = sut.write(request, traceOf('r1'), served, []);
    const rest = ['r2', 'r3', 'r4'].map((id) => sut.write(request, traceOf(id), served, []));
    queue.release();
    expect(await first).toBe(true);
    await Promise.resolve();
    queue.release();

    expect(await Promise.all(rest)).toEqual([true, true, true]);
    expect(queue.jobs.map((job) => job.records.map((r) => r.requestId))).toEqual([
      ['r1'],
      ['r2', 'r3', 'r4'],
    ]);
    expect(queue.jobs[1].jobId).toMatch(/^served:r2:/);
  });

  it('reports a record Redis refused as not durable', async () => {
    const queue = new FakeQueue();
    queue.addFails = true;
    const sut = writerWith(queue);

    expect(await sut.write(request, traceOf('r1'), served, [])).toBe(false);
  });

  it('reports a record not in Redis within SERVED_RECORD_TIMEOUT_MS as not durable, and never sends one still waiting', async () => {
    const queue = new FakeQueue();
    queue.holdAdds = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '20' });

    const results = await Promise.all([
      sut.write(request, traceOf('r1'), served, []),
      sut.write(request, traceOf('r2'), served, []),
    ]);
    queue.release();
    await new Promise((resolve) => setTimeout(resolve, 10));

    expect(results).toEqual([false, false]);
    expect(queue.jobs.map((job) => job.records.map((r) => r.requestId))).toEqual([['r1']]);
  });

  it('refuses a request id already claimed with a conflict naming it', async () => {
    const sut = writerWith(new FakeQueue());
    expect(await sut.claim('reused-id')).toBe(true);

    await expect(sut.claim('reused-id')).rejects.toMatchObject({
      code: 'conflict',
      reason: 'duplicate_request_id',
      message: expect.stringContaining('"reused-id" was already used'),
    });
  });

  it('claims a fresh id, and reports an id Redis could not claim as not claimed', async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);
    expect(await sut.claim('r-fresh')).toBe(true);

    queue.redisDown = true;
    expect(await sut.claim('r-unclaimed')).toBe(false);
  });

  it('hands logging the request query, its context item and the activity the user was served with', async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);
    const activity = foldQuery(
      foldEvent(null, { type: 'click', adId: 7, advertiserId: 7, categoryIndex: 3, at: 1 }),
      'desk lamp',
      1,
    );
    const withActivity: FunnelTrace = { ...traceOf('r-query'), user: { ...user, activity } };
    const searched: AdRequest = { ...request, query: 'Desk lamp', contextAdId: 9 };

    expect(await sut.write(searched, withActivity, served, [])).toBe(true);
    const coldStart: FunnelTrace = { ...traceOf('r-plain'), user: { ...user, activity: undefined } };
    expect(await sut.write(request, coldStart, served, [])).toBe(true);

    const [record, plain] = queue.jobs.flatMap((job) => job.records);
    expect(ServedRecordSchema.parse(record)).toMatchObject({
      requestId: 'r-query',
      query: 'Desk lamp',
      contextAdId: 9,
      userActivity: activity,
    });
    expect(plain).toMatchObject({ requestId: 'r-plain', userActivity: null });
    expect(plain).not.toHaveProperty('query');
    expect(plain).not.toHaveProperty('contextAdId');
  });
});
