import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { CatalogAd } from '@adfunnel/catalog';
import {
  type AdRequest,
  type ServedAd,
  type ServedRecord,
  type ServedRecordJob,
  SERVED_OUTCOME_LUA,
  ServedRecordSchema,
} from '@adfunnel/contracts';
import {
  FEATURE_SPEC,
  TOPICS,
  TOPIC_COUNT,
  buildFeatureMatrix,
  featureRequestOf,
  EMBEDDING_DIM,
  featureSpecFingerprint,
} from '@adfunnel/features';
import { Metrics } from '@adfunnel/platform';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot, metricValue } from '@adfunnel/testing';
import { foldEvent, foldQuery } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { parseGatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';
import type { ServedQueue } from './served-queue.js';
import { ServedRecordWriter } from './served-record.writer.js';

const oneHot = (k: number) => Array.from({ length: TOPIC_COUNT }, (_, i) => (i === k ? 1 : 0));

/** Ad `id` of campaign 1 and advertiser `id`, as the served ads name it, on `topic` alone. */
const catalogAd = (id: number, topic: number): CatalogAd =>
  catalogAdFactory(
    id,
    { id: 1, advertiserId: id, bidType: 'CPC', bid: 1 },
    {
      category: TOPICS[topic],
      categoryIndex: topic,
      embedding: Float32Array.from({ length: EMBEDDING_DIM }, (_, d) => (d === topic ? 1 : 0)),
    },
  );

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

  const outcomeScripts = new Map(
    Object.values(SERVED_OUTCOME_LUA).map((source) => [
      createHash('sha1').update(source).digest('hex'),
      source,
    ]),
  );

  /**
   * A bull queue's producer side over a fake Redis: `add`, and the outcome scripts run as Redis would
   * (libs/redis's int-spec and the logging int-spec run the real ones). The queue's own connection
   * can be slow two ways: `holdCommands` keeps its commands from reaching Redis until `release`
   * (a backed-up connection), `holdReplies` runs them at once and keeps their replies until `release`
   * (a busy event loop that has not read them). `holdDecider` holds the second connection the same
   * way as holdCommands.
   */
  class FakeQueue {
    readonly jobs: { records: ServedRecord[]; jobId: string; outcomeKey: string | undefined }[] = [];
    readonly outcomes = new Map<string, string>();
    readonly claimed = new Set<string>();
    addFails = false;
    redisDown = false;
    holdCommands = false;
    holdReplies = false;
    holdDecider = false;
    private held: (() => void)[] = [];
    private heldDecider: (() => void)[] = [];

    private connection = (decider: boolean) => ({
      status: 'ready',
      on: () => undefined,
      connect: () => Promise.resolve(),
      quit: () => Promise.resolve('OK'),
      duplicate: () => this.connection(true),
      set: (key: string) => {
        if (this.redisDown) return Promise.reject(new Error('connect ECONNREFUSED'));
        if (this.claimed.has(key)) return Promise.resolve(null);
        this.claimed.add(key);
        return Promise.resolve('OK');
      },
      evalsha: (sha: string, _n: number, key: string, ...args: (string | number)[]) =>
        this.command(decider, () => this.script(outcomeScripts.get(sha)!, key, args)),
    });
    readonly client = this.connection(false);

    add(_name: string, data: ServedRecordJob, opts: { jobId: string }): Promise<unknown> {
      return this.command(false, () => {
        if (this.addFails) throw new Error('OOM command not allowed');
        this.jobs.push({ records: data.records, jobId: opts.jobId, outcomeKey: data.outcomeKey });
      });
    }

    close(): Promise<void> {
      return Promise.resolve();
    }

    /** Lets every held command run (in order) and every held reply through. */
    release(): void {
      const held = [...this.held, ...this.heldDecider];
      this.held = [];
      this.heldDecider = [];
      held.forEach((run) => run());
    }

    private command<T>(decider: boolean, run: () => T): Promise<T> {
      const holdCommand = decider ? this.holdDecider : this.holdCommands;
      return new Promise<T>((resolve, reject) => {
        const reply = (work: () => T) => {
          try {
            resolve(work());
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        };
        if (holdCommand) (decider ? this.heldDecider : this.held).push(() => reply(run));
        else if (!decider && this.holdReplies) {
          let result: () => T;
          try {
            const value = run();
            result = () => value;
          } catch (err) {
            result = () => {
              throw err;
            };
          }
          this.held.push(() => reply(result));
        } else queueMicrotask(() => reply(run));
      });
    }

    private script(source: string, key: string, args: (string | number)[]): string | null {
      const found = this.outcomes.get(key) ?? null;
      if (source === SERVED_OUTCOME_LUA.decide) {
        if (found !== null) return found;
        this.outcomes.set(key, String(args[0]));
        return String(args[0]);
      }
      if (source === SERVED_OUTCOME_LUA.withdraw) {
        if (found === 'served') this.outcomes.set(key, 'withheld');
        return found;
      }
      throw new Error(`unexpected script ${source}`);
    }
  }

  /** Releases held commands until `done` settles (each job's steps come a few ticks apart). */
  async function releaseUntil<T>(queue: FakeQueue, done: Promise<T>): Promise<T> {
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      queue.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return done;
  }

  let metrics: Metrics;
  function writerWith(queue: FakeQueue, env: Record<string, string> = {}): ServedRecordWriter {
    const catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService();
    const config = parseGatewayConfig({ TRACKING_SECRET: 'test-secret-0123456789', ...env });
    metrics = new Metrics({ service: 'gateway', defaultMetrics: false });
    return new ServedRecordWriter(catalog, config, queue as unknown as ServedQueue, metrics);
  }
  const counted = async (outcome: string) =>
    metricValue(await metrics.scrape(), 'adfunnel_gateway_served_records_total', { outcome });

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
        { ads, byId: new Map(ads.map((ad) => [ad.id, ad])) },
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
    queue.holdCommands = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '60000', SERVED_RECORD_GIVE_UP_MS: '120000' });

    const first = sut.write(request, traceOf('r1'), served, []);
    const rest = ['r2', 'r3', 'r4'].map((id) => sut.write(request, traceOf(id), served, []));
    expect(await releaseUntil(queue, first)).toBe(true);
    expect(await releaseUntil(queue, Promise.all(rest))).toEqual([true, true, true]);

    expect(queue.jobs.map((job) => job.records.map((r) => r.requestId))).toEqual([
      ['r1'],
      ['r2', 'r3', 'r4'],
    ]);
    expect(queue.jobs[1].jobId).toMatch(/^served:r2:/);
    // Each job's outcome, set before its add: served, for logging to store it.
    expect(queue.jobs.map((job) => queue.outcomes.get(job.outcomeKey!))).toEqual(['served', 'served']);
    expect(queue.jobs[0].outcomeKey).toBe(`adfunnel:served-outcome:${queue.jobs[0].jobId}`);
    expect(await counted('recorded')).toBe(4);
  });

  it('reports a record Redis refused as not durable', async () => {
    const queue = new FakeQueue();
    queue.addFails = true;
    const sut = writerWith(queue);

    expect(await sut.write(request, traceOf('r1'), served, [])).toBe(false);
    expect(await counted('failed')).toBe(1);
  });

  it('withholds a record Redis has not confirmed within SERVED_RECORD_TIMEOUT_MS', async () => {
    const queue = new FakeQueue();
    queue.holdCommands = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '20' });

    expect(await sut.write(request, traceOf('r1'), served, [])).toBe(false);
    // The backed-up connection delivers late: the job lands, but its outcome was withheld first.
    queue.release();
    await new Promise((resolve) => setImmediate(resolve));

    expect(queue.jobs.map((job) => job.records.map((r) => r.requestId))).toEqual([['r1']]);
    expect(queue.outcomes.get(queue.jobs[0].outcomeKey!)).toBe('withheld');
    expect(await counted('withheld')).toBe(1);
  });

  it('never sends a record whose time ran out while it waited for the add in flight', async () => {
    const queue = new FakeQueue();
    queue.holdCommands = true;
    queue.holdDecider = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '20', SERVED_RECORD_GIVE_UP_MS: '80' });

    const results = await Promise.all([
      sut.write(request, traceOf('r1'), served, []),
      sut.write(request, traceOf('r2'), served, []),
    ]);
    queue.holdCommands = false;
    queue.holdDecider = false;
    queue.release();
    await sut.onApplicationShutdown();

    // r2 waited behind r1's add past its timeout; r1's add had no word from Redis at all.
    expect(results).toEqual([false, false]);
    expect(queue.jobs.map((job) => job.records.map((r) => r.requestId))).toEqual([['r1']]);
    expect([await counted('withheld'), await counted('gave_up'), await counted('withdrawn')]).toEqual([
      1, 1, 1,
    ]);
    expect(queue.outcomes.get(queue.jobs[0].outcomeKey!)).toBe('withheld');
  });

  it('serves a record Redis had confirmed although the reply was read after SERVED_RECORD_TIMEOUT_MS', async () => {
    const queue = new FakeQueue();
    queue.holdReplies = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '20' });

    const result = sut.write(request, traceOf('r1'), served, []);
    await new Promise((resolve) => setTimeout(resolve, 40));
    queue.release();

    // The timer asked Redis to withhold it, and Redis answered it was served already.
    expect(await result).toBe(true);
    expect(queue.outcomes.get(queue.jobs[0].outcomeKey!)).toBe('served');
    expect(await counted('recorded')).toBe(1);
    expect(await counted('withheld')).toBe(0);
  });

  it('gives up after SERVED_RECORD_GIVE_UP_MS without a word from Redis, then withdraws the record', async () => {
    const queue = new FakeQueue();
    queue.holdCommands = true;
    queue.holdDecider = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '10', SERVED_RECORD_GIVE_UP_MS: '30' });

    expect(await sut.write(request, traceOf('r1'), served, [])).toBe(false);
    expect(await counted('gave_up')).toBe(1);
    // Redis comes back: served first (the add's connection), then the withhold, then the withdrawal.
    queue.holdCommands = false;
    queue.holdDecider = false;
    queue.release();
    await sut.onApplicationShutdown();

    expect(queue.jobs).toHaveLength(1);
    expect(queue.outcomes.get(queue.jobs[0].outcomeKey!)).toBe('withheld');
    expect(await counted('withdrawn')).toBe(1);
  });

  it('counts a withdrawal that came after logging stored the record', async () => {
    const queue = new FakeQueue();
    queue.holdReplies = true;
    queue.holdDecider = true;
    const sut = writerWith(queue, { SERVED_RECORD_TIMEOUT_MS: '10', SERVED_RECORD_GIVE_UP_MS: '30' });

    expect(await sut.write(request, traceOf('r1'), served, [])).toBe(false);
    // Logging took the job (SERVED_OUTCOME_LUA.take) before the withdrawal reached Redis.
    queue.outcomes.set(queue.jobs[0].outcomeKey!, 'stored');
    queue.holdDecider = false;
    queue.release();
    await sut.onApplicationShutdown();

    expect(await counted('stored_without_ads')).toBe(1);
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

  it("hands logging the request's experiment arms when the gateway runs experiments, and no key otherwise", async () => {
    const queue = new FakeQueue();
    const sut = writerWith(queue);
    expect(
      await sut.write(
        request,
        { ...traceOf('r-arm'), experimentArms: 'auction:pricing/treatment' },
        served,
        [],
      ),
    ).toBe(true);
    expect(await sut.write(request, { ...traceOf('r-held'), experimentArms: 'holdout' }, served, [])).toBe(
      true,
    );
    expect(await sut.write(request, traceOf('r-none'), served, [])).toBe(true);

    const [arm, held, none] = queue.jobs.flatMap((job) => job.records);
    expect(ServedRecordSchema.parse(arm)).toMatchObject({ experimentArms: 'auction:pricing/treatment' });
    expect(held).toMatchObject({ experimentArms: 'holdout' });
    expect(none).not.toHaveProperty('experimentArms');
  });
});
