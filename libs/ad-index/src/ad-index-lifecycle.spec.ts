import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Rng } from '@adfunnel/simulator';
import {
  AdIndex,
  SavedIndexError,
  graphToRead,
  type AdIndexOptions,
  type IndexSnapshot,
  type IndexableAd,
  type LoadExpectation,
} from './ad-index.js';

const DIM = 16;
const COUNTRIES = ['US', 'GB', 'JP', 'ZZ'];
const DEVICES = ['mobile', 'desktop', 'tablet'];

type Campaign = IndexableAd['campaign'];

function randomUnit(rng: Rng): Float32Array {
  const v = new Float32Array(DIM);
  let norm = 0;
  for (let d = 0; d < DIM; d++) {
    v[d] = rng.normal();
    norm += v[d] * v[d];
  }
  for (let d = 0; d < DIM; d++) v[d] /= Math.sqrt(norm);
  return v;
}

/**
 * 30 campaigns: 1-2 everywhere, 3-10 in the US, 11-20 in GB and JP, 21-25 in JP on tablets only,
 * 26-30 in the US on desktops; bids 1 to 30 USD CPM. With 1,500 ads and an exact threshold of 150
 * every strategy serves some bucket: exact scans (ZZ), bucket graphs (US but desktops, until the
 * budget runs out), the filtered catalog graph (GB) and the over-fetched one (JP tablets).
 */
function campaignAt(i: number): Campaign {
  const targetCountries = i < 2 ? [] : i < 10 ? ['US'] : i < 20 ? ['GB', 'JP'] : i < 25 ? ['JP'] : ['US'];
  const targetDevices = i < 20 ? [] : i < 25 ? ['tablet'] : ['desktop'];
  return { id: i + 1, status: 'active', bidType: 'CPM', bid: i + 1, targetCountries, targetDevices };
}

function catalogFactory(seed: number, count: number): Map<number, IndexableAd> {
  const rng = new Rng(seed);
  const campaigns = Array.from({ length: 30 }, (_, i) => campaignAt(i));
  const ads = new Map<number, IndexableAd>();
  for (let i = 0; i < count; i++) {
    const id = i + 1;
    ads.set(id, { id, status: 'active', embedding: randomUnit(rng), campaign: campaigns[i % 30] });
  }
  return ads;
}

function eligible(ad: IndexableAd, country: string, device: string): boolean {
  const c = ad.campaign;
  return (
    ad.status === 'active' &&
    c.status === 'active' &&
    (c.targetCountries.length === 0 || c.targetCountries.includes(country)) &&
    (c.targetDevices.length === 0 || c.targetDevices.includes(device))
  );
}

/** The exact top k ids of the eligible ads, as a brute-force scan of the catalog finds them. */
function exactTop(
  ads: Iterable<IndexableAd>,
  query: Float32Array,
  country: string,
  device: string,
  k: number,
) {
  const scored: { id: number; s: number }[] = [];
  for (const ad of ads) {
    if (!eligible(ad, country, device)) continue;
    let s = 0;
    let norm = 0;
    for (let d = 0; d < DIM; d++) {
      s += query[d] * ad.embedding[d];
      norm += ad.embedding[d] * ad.embedding[d];
    }
    scored.push({ id: ad.id, s: s / Math.sqrt(norm) });
  }
  return scored
    .sort((a, b) => b.s - a.s || a.id - b.id)
    .slice(0, k)
    .map((r) => r.id);
}

const pairs = COUNTRIES.flatMap((country) => [...DEVICES, 'watch'].map((device) => ({ country, device })));

/** Every (country, device) search and popular list of `index` for `queries`, for comparing two indexes. */
function answers(index: AdIndex, queries: readonly Float32Array[], extra = pairs) {
  return extra.flatMap(({ country, device }) => [
    index.popular({ country, device, k: 40 }),
    index.popular({ country, device, k: 40, excludeCampaigns: new Set([1, 12]) }),
    ...queries.map((embedding) => index.search({ embedding, country, device, k: 25 })),
    index.search({ embedding: queries[0], country, device, k: 25, excludeCampaigns: new Set([3, 11, 21]) }),
  ]);
}

/**
 * Checks `index` against the catalog: every answer eligible and live, eligible counts exact, exact
 * buckets equal to the scan, graph buckets recalling most of it; popular lists equal to a fresh build's.
 */
function expectFaithful(
  index: AdIndex,
  catalog: Map<number, IndexableAd>,
  options: AdIndexOptions,
  rng: Rng,
) {
  const fresh = AdIndex.build([...catalog.values()], options);
  expect(index.size).toBe(fresh.size);
  let found = 0;
  let wanted = 0;
  for (const { country, device } of [
    ...pairs,
    { country: 'NZ', device: 'mobile' },
    { country: 'NZ', device: 'watch' },
  ]) {
    expect(index.popular({ country, device, k: 60 })).toEqual(fresh.popular({ country, device, k: 60 }));
    expect(index.eligibleCount(country, device)).toBe(fresh.eligibleCount(country, device));
    const query = randomUnit(rng);
    const result = index.search({ embedding: query, country, device, k: 20 });
    const truth = exactTop(catalog.values(), query, country, device, 20);
    expect(result.adIds).toHaveLength(truth.length);
    for (const id of result.adIds) expect(eligible(catalog.get(id)!, country, device)).toBe(true);
    if (index.strategyFor(country, device) === 'exact') expect(result.adIds).toEqual(truth);
    const set = new Set(truth);
    found += result.adIds.filter((id) => set.has(id)).length;
    wanted += truth.length;
  }
  expect(found / wanted).toBeGreaterThanOrEqual(0.9);
}

/** Random edits of a catalog: new ads, removals, new vectors, new targeting (also new places) and bids. */
function mutate(catalog: Map<number, IndexableAd>, rng: Rng, round: number): void {
  const ids = [...catalog.keys()];
  const pick = () => ids[Math.floor(rng.next() * ids.length)];
  let nextId = Math.max(...ids) + 1;
  for (let i = 0; i < 40; i++) {
    const template = catalog.get(pick())!;
    catalog.set(nextId, { ...template, id: nextId, embedding: randomUnit(rng) });
    nextId++;
  }
  for (let i = 0; i < 60; i++) catalog.delete(pick());
  for (let i = 0; i < 30; i++) {
    const ad = catalog.get(pick());
    if (ad !== undefined) catalog.set(ad.id, { ...ad, embedding: randomUnit(rng) });
  }
  for (let i = 0; i < 20; i++) {
    const ad = catalog.get(pick());
    if (ad === undefined) continue;
    const campaign: Campaign =
      i % 4 === 0
        ? { ...ad.campaign, id: 100 + round, targetCountries: ['NZ', 'GB'], targetDevices: [] }
        : i % 4 === 1
          ? { ...ad.campaign, id: 200 + round, targetCountries: [], targetDevices: ['watch'] }
          : i % 4 === 2
            ? { ...ad.campaign, bid: ad.campaign.bid + 0.5 }
            : { ...ad.campaign, status: 'paused' };
    catalog.set(ad.id, { ...ad, campaign });
  }
}

/**
 * The index's snapshot as a loader would get it back from disk: graphs written and read by hnswlib,
 * arrays and meta copied (through JSON for the meta), nothing shared with the index.
 */
async function throughDisk(index: AdIndex, dir: string): Promise<IndexSnapshot> {
  await mkdir(dir, { recursive: true });
  return index.persist(async (s) => {
    const copyOf = async (graph: IndexSnapshot['graph'], file: string) => {
      await graph.writeIndex(join(dir, file));
      const read = graphToRead(s.meta.dim);
      await read.readIndex(join(dir, file));
      return read;
    };
    const bucketGraphs = new Map<number, IndexSnapshot['graph']>();
    for (const [bucket, graph] of s.bucketGraphs)
      bucketGraphs.set(bucket, await copyOf(graph, `bucket-${bucket}`));
    return {
      meta: JSON.parse(JSON.stringify(s.meta)) as IndexSnapshot['meta'],
      ids: s.ids.slice(),
      prior: s.prior.slice(),
      campaigns: s.campaigns.slice(),
      vectors: s.vectors.slice(),
      rules: s.rules.slice(),
      keys: s.keys === undefined ? undefined : [...s.keys],
      graph: await copyOf(s.graph, 'graph'),
      bucketGraphs,
    };
  });
}

describe(`${AdIndex.name} lifecycle`, () => {
  let root: string;
  const options: AdIndexOptions = {
    catalogVersion: 'cat-1',
    embeddingVersion: 'content@test',
    dim: DIM,
    exactThreshold: 150,
    efSearch: 64,
  };
  const expectation: LoadExpectation = {
    embeddingVersion: 'content@test',
    dim: DIM,
    exactThreshold: 150,
    efSearch: 64,
  };
  const queries = Array.from({ length: 4 }, (_, i) => randomUnit(new Rng(900 + i)));

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ad-index-lifecycle-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('snapshot and restore', () => {
    it('answers every search and popular list the same after a round trip through disk', async () => {
      const catalog = catalogFactory(1, 1500);
      const built = AdIndex.build([...catalog.values()], options);

      const loaded = AdIndex.restore(await throughDisk(built, join(root, 'round-trip')), expectation, {
        dir: '/saved/here',
        savedAt: '2026-01-01T00:00:00.000Z',
        startedAt: performance.now(),
      });

      expect(new Set(['exact', 'graph', 'bucket-graph', 'filtered-graph'])).toEqual(
        new Set(pairs.map(({ country, device }) => built.strategyFor(country, device))),
      );
      expect(loaded.origin).toMatchObject({
        kind: 'loaded',
        dir: '/saved/here',
        savedAt: '2026-01-01T00:00:00.000Z',
      });
      expect(built.origin.kind).toBe('built');
      expect(loaded.version).toBe(built.version);
      expect(loaded.buildMs).toBe(built.buildMs);
      expect(loaded.catalogVersion).toBe('cat-1');
      expect(loaded.embeddingVersion).toBe('content@test');
      expect(loaded.size).toBe(built.size);
      expect(loaded.buckets).toBe(built.buckets);
      for (const { country, device } of pairs) {
        expect(loaded.strategyFor(country, device)).toBe(built.strategyFor(country, device));
      }
      expect(answers(loaded, queries)).toEqual(answers(built, queries));
    });

    it('keeps deleted points, moved vectors, split buckets and vector keys across a round trip', async () => {
      const catalog = catalogFactory(2, 1500);
      const keyed = (ads: Iterable<IndexableAd>) => [...ads].map((ad) => ({ ...ad, vectorKey: `k${ad.id}` }));
      const index = AdIndex.build(keyed(catalog.values()), options);
      const rng = new Rng(3);
      mutate(catalog, rng, 1);
      index.apply(index.changes(keyed(catalog.values())), 'cat-2');

      const loaded = AdIndex.restore(await throughDisk(index, join(root, 'after-changes')), expectation);

      expect(index.deleted).toBeGreaterThan(0);
      expect(loaded.deleted).toBe(index.deleted);
      expect(loaded.catalogVersion).toBe('cat-2');
      const nz = [{ country: 'NZ', device: 'mobile' }, { country: 'GB', device: 'watch' }, ...pairs];
      expect(answers(loaded, queries, nz)).toEqual(answers(index, queries, nz));
      const someId = [...catalog.keys()][5];
      expect(loaded.vectorOf(someId)).toEqual(index.vectorOf(someId));
      expect(loaded.vectorOf(someId)?.key).toBe(`k${someId}`);
      // The loaded index takes further changes like the one it was saved from.
      mutate(catalog, rng, 2);
      loaded.apply(loaded.changes([...catalog.values()]), 'cat-3');
      expectFaithful(loaded, catalog, options, new Rng(4));
    });

    it('refuses a snapshot of another embedding, dimension, layout or format, naming what differs', async () => {
      const snapshot = await throughDisk(
        AdIndex.build([...catalogFactory(5, 300).values()], options),
        join(root, 'refusals'),
      );
      const refusal = (expected: LoadExpectation, meta = snapshot.meta) => {
        try {
          AdIndex.restore({ ...snapshot, meta }, expected);
        } catch (error) {
          return error as SavedIndexError;
        }
        throw new Error('restored');
      };

      const model = refusal({ ...expectation, embeddingVersion: 'two-tower@v2' });
      expect(model).toBeInstanceOf(SavedIndexError);
      expect(model.reason).toBe('mismatch');
      expect(model.message).toBe(
        'saved ad index does not fit: embedding version saved "content@test", expected "two-tower@v2"',
      );
      expect(refusal({ ...expectation, dim: 32, exactThreshold: 500 }).message).toBe(
        'saved ad index does not fit: dim saved 16, expected 32; exactThreshold saved 150, expected 500',
      );
      expect(refusal(expectation, { ...snapshot.meta, formatVersion: 99 }).message).toBe(
        'saved ad index does not fit: format version saved 99, expected 1',
      );
      expect(
        refusal(expectation, { ...snapshot.meta, counts: { ...snapshot.meta.counts, slots: 299 } }),
      ).toMatchObject({
        reason: 'corrupt',
        message: 'saved ad index is inconsistent: ids: 300, expected 299',
      });
      // efSearch is a search setting: any value restores.
      expect(AdIndex.restore(snapshot, { ...expectation, efSearch: 200 }).efSearch).toBe(200);
    });

    it('takes no changes while a writer holds the snapshot', async () => {
      const catalog = catalogFactory(9, 300);
      const index = AdIndex.build([...catalog.values()], options);
      catalog.delete(1);
      const changes = index.changes([...catalog.values()]);

      const dir = join(root, 'busy');
      await mkdir(dir);
      const saving = index.persist((snapshot) => snapshot.graph.writeIndex(join(dir, 'graph')));
      expect(() => index.apply(changes, 'cat-2')).toThrow(
        'the ad index is being saved; apply changes once persist() has resolved',
      );
      await saving;
      expect(index.apply(changes, 'cat-2')).toMatchObject({ removed: 1 });
    });
  });

  describe('incremental changes', () => {
    it.each([
      ['graphs and scans', 150],
      ['exact scans only', 1_000_000],
    ])('follows the catalog edit by edit as a fresh build would (%s)', (_, exactThreshold) => {
      const opts = { ...options, exactThreshold };
      const catalog = catalogFactory(10, 1500);
      const index = AdIndex.build([...catalog.values()], opts);
      const rng = new Rng(11);

      for (let round = 1; round <= 4; round++) {
        const removedBefore = new Set(catalog.keys());
        mutate(catalog, rng, round);
        const changes = index.changes([...catalog.values()]);
        const applied = index.apply(changes, `cat-${round + 1}`);

        expect(applied.added).toBeGreaterThan(0);
        expect(applied.updated).toBeGreaterThan(0);
        expect(applied.removed).toBeGreaterThan(0);
        expect(index.catalogVersion).toBe(`cat-${round + 1}`);
        expect(index.version).toBe(`cat-${round + 1}@${index.builtAt.toISOString()}`);
        expectFaithful(index, catalog, opts, rng);
        // A removed or paused ad is never an answer, whatever the query.
        const gone = [...removedBefore].filter(
          (id) => !catalog.has(id) || catalog.get(id)!.campaign.status !== 'active',
        );
        for (const id of gone.slice(0, 10)) expect(index.vectorOf(id)).toBeUndefined();
      }
      expect(index.changes([...catalog.values()])).toMatchObject({ added: [], updated: [], removed: [] });
    });

    it('finds an ad at its new vector and in its new targeting right after the change', () => {
      const catalog = catalogFactory(12, 1500);
      const index = AdIndex.build([...catalog.values()], options);
      const target = randomUnit(new Rng(13));
      const moved = catalog.get(7)!; // campaign 7: the US
      const retargeted = catalog.get(15)!; // campaign 15: GB and JP

      catalog.set(7, { ...moved, embedding: target });
      catalog.set(15, {
        ...retargeted,
        campaign: { ...retargeted.campaign, id: 77, targetCountries: ['NZ'], targetDevices: ['watch'] },
      });
      index.apply(index.changes([...catalog.values()]), 'cat-2');

      expect(index.search({ embedding: target, country: 'US', device: 'mobile', k: 1 }).adIds).toEqual([7]);
      const nzWatch = index.search({ embedding: retargeted.embedding, country: 'NZ', device: 'watch', k: 3 });
      expect(nzWatch.adIds[0]).toBe(15);
      const gbMobile = index.search({
        embedding: retargeted.embedding,
        country: 'GB',
        device: 'mobile',
        k: 50,
      });
      expect(gbMobile.adIds).not.toContain(15);
      expect(index.popular({ country: 'NZ', device: 'watch', k: 1000 }).adIds).toContain(15);
    });

    it('applies in slices with nothing visible until the switch, then as apply() would', async () => {
      const catalog = catalogFactory(19, 1500);
      const index = AdIndex.build([...catalog.values()], options);
      const twin = AdIndex.build([...catalog.values()], options);
      const before = answers(index, queries);
      const oldIds = new Set(catalog.keys());
      mutate(catalog, new Rng(20), 1);
      const changes = index.changes([...catalog.values()]);

      // A slice of 0 ms: a yield after every point, so the test sees the state between them.
      const applying = index.applyInSlices(changes, 'cat-2', 0);
      await new Promise<void>((resolve) => setImmediate(resolve));

      // Staged points are in the graphs already, but no answer holds them and nothing else moved.
      expect(index.catalogVersion).toBe('cat-1');
      const during = answers(index, queries);
      during.forEach((result, i) => {
        expect(result.adIds.every((id) => oldIds.has(id))).toBe(true);
        if (result.sources.every((source) => source !== 'ann')) expect(result).toEqual(before[i]);
      });
      expect(() => index.apply(index.changes([...catalog.values()]), 'cat-3')).toThrow(
        'the ad index is applying other changes',
      );
      await expect(index.persist(() => Promise.resolve())).rejects.toThrow(
        'the ad index is applying changes; persist it once they are applied',
      );

      const applied = await applying;
      twin.apply(twin.changes([...catalog.values()]), 'cat-2');

      expect(applied).toMatchObject({ added: changes.added.length, removed: changes.removed.length });
      expect(index.catalogVersion).toBe('cat-2');
      expect(answers(index, queries)).toEqual(answers(twin, queries));
      expectFaithful(index, catalog, options, new Rng(21));
    });

    it('refuses changes computed against an older state of the index', () => {
      const catalog = catalogFactory(14, 300);
      const index = AdIndex.build([...catalog.values()], options);
      catalog.delete(3);
      const first = index.changes([...catalog.values()]);
      const stale = index.changes([...catalog.values()]);
      index.apply(first, 'cat-2');

      expect(() => index.apply(stale, 'cat-2')).toThrow(
        'these changes were computed against generation 0 of the index, which is at 1',
      );
    });

    it('checks every ad before changing anything, naming the bad one', () => {
      const catalog = catalogFactory(15, 300);
      const index = AdIndex.build([...catalog.values()], options);
      const before = answers(index, queries);
      catalog.set(5000, { ...catalog.get(1)!, id: 5000, embedding: new Float32Array(DIM) });

      expect(() => index.changes([...catalog.values()])).toThrow('ad 5000 has an all-zero embedding');
      expect(answers(index, queries)).toEqual(before);
    });
  });

  describe('compaction', () => {
    it('counts soft-deleted points and rebuilds without them, answering as a fresh build would', async () => {
      const catalog = catalogFactory(16, 1500);
      const index = AdIndex.build([...catalog.values()], options);
      expect(index.deleted).toBe(0);
      expect(index.needsCompaction(0.2)).toBe(false);

      for (const id of [...catalog.keys()].filter((id) => id % 3 === 0)) catalog.delete(id);
      index.apply(index.changes([...catalog.values()]), 'cat-2');

      expect(index.deleted).toBeGreaterThanOrEqual(500);
      expect(index.deletedShare).toBeGreaterThan(0.3);
      expect(index.needsCompaction(0.2)).toBe(true);
      expect(index.needsCompaction(0.5)).toBe(false);
      expect(index.changedSinceBuild).toEqual({ added: 0, updated: 0, removed: 500 });

      const compacted = await index.compact();

      expect(compacted.deleted).toBe(0);
      expect(compacted.needsCompaction(0)).toBe(false);
      expect(compacted.size).toBe(1000);
      expect(compacted.catalogVersion).toBe('cat-2');
      expect(compacted.embeddingVersion).toBe('content@test');
      expectFaithful(compacted, catalog, options, new Rng(17));
      // New ads get new slots: the removed ones stay deleted until a compaction.
      for (let id = 10_001; id <= 10_100; id++) {
        catalog.set(id, { ...catalog.get(1)!, id, embedding: randomUnit(new Rng(id)) });
      }
      const before = index.deleted;
      index.apply(index.changes([...catalog.values()]), 'cat-3');
      expect(index.deleted).toBe(before);
      expectFaithful(index, catalog, options, new Rng(18));
    });
  });
});
