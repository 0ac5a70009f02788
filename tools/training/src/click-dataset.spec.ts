import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  CategoryMixtureDecoder,
  EMBEDDING_DIM,
  FEATURE_OFFSETS,
  FEATURE_SPEC,
  TOPIC_COUNT,
  featureSpecFingerprint,
  interestMatch,
} from '@adfunnel/features';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  DEFAULT_SAMPLING,
  LABEL_COLUMNS,
  MarketplaceSample,
  generateClickDataset,
  summarizeLabels,
} from './click-dataset.js';
import { datasetMeta, readClickDataset, writeClickDataset } from './dataset-files.js';

const SPEC: MarketplaceSpec = { seed: 3, advertisers: 10, campaignsPerAdvertiser: 2, ads: 200, users: 50 };
const market = new MarketplaceSample(SPEC);
const W = LABEL_COLUMNS.length;

describe(generateClickDataset.name, () => {
  it('is a pure function of (marketplace, seed, split)', () => {
    const a = generateClickDataset({ marketplace: SPEC, rows: 500, seed: 1, split: 'train' }, market);
    const b = generateClickDataset({ marketplace: SPEC, rows: 500, seed: 1, split: 'train' }, market);
    const other = generateClickDataset(
      { marketplace: SPEC, rows: 500, seed: 1, split: 'validation' },
      market,
    );

    expect(b.features).toEqual(a.features);
    expect(b.labels).toEqual(a.labels);
    expect(other.labels).not.toEqual(a.labels);
  });

  it('labels conversions only after clicks and carries valid true probabilities', () => {
    const sut = generateClickDataset({ marketplace: SPEC, rows: 20_000, seed: 2, split: 'train' }, market);

    for (let r = 0; r < sut.rows; r++) {
      const [click, conversion, trueCtr, trueCvr] = sut.labels.subarray(r * W, (r + 1) * W);
      expect(click === 0 || click === 1).toBe(true);
      if (click === 0) expect(conversion).toBe(0);
      expect(trueCtr > 0 && trueCtr < 1 && trueCvr > 0 && trueCvr < 1).toBe(true);
    }
    const summary = summarizeLabels(sut);
    // Click frequency tracks the ground-truth probability it was drawn from.
    expect(Math.abs(summary.ctr - summary.meanTrueCtr!)).toBeLessThan(0.005);
  });

  it('labels hides only on rows not clicked, at about the true P(hide | examined)', () => {
    const sut = generateClickDataset({ marketplace: SPEC, rows: 20_000, seed: 3, split: 'train' }, market);

    let hides = 0;
    let trueHide = 0;
    for (let r = 0; r < sut.rows; r++) {
      const [click, , trueCtr, , hidden, pHide] = sut.labels.subarray(r * W, (r + 1) * W);
      expect(hidden === 0 || hidden === 1).toBe(true);
      if (click === 1) expect(hidden).toBe(0);
      expect(pHide > 0 && pHide < 1 - trueCtr).toBe(true);
      hides += hidden;
      trueHide += pHide;
    }
    expect(summarizeLabels(sut).hides).toBe(hides);
    // 20,000 draws at a rate of a few percent: a standard error of about 0.0015.
    expect(Math.abs(hides - trueHide) / sut.rows).toBeLessThan(0.006);
  });

  it('gives about coldStartShare of the rows no activity, as serving sees users it never logged', () => {
    const sut = generateClickDataset({ marketplace: SPEC, rows: 10_000, seed: 4, split: 'train' }, market);
    const dim = FEATURE_SPEC.dim;
    let unknown = 0;
    for (let r = 0; r < sut.rows; r++) {
      if (sut.features[r * dim + FEATURE_OFFSETS['user.known']] === 0) {
        unknown++;
        expect(sut.features[r * dim + FEATURE_OFFSETS['cross.recent_cosine']]).toBe(0);
        expect(sut.features[r * dim + FEATURE_OFFSETS['user.activity']]).toBe(0);
      }
    }
    expect(unknown / sut.rows).toBeCloseTo(DEFAULT_SAMPLING.coldStartShare, 1);
  });

  it("carries each ad's category mixture decoded from the catalog's categories and embeddings alone", () => {
    const sut = generateClickDataset({ marketplace: SPEC, rows: 300, seed: 5, split: 'train' }, market);
    const decoder = CategoryMixtureDecoder.fromAds(
      market.ads.map(({ categoryIndex, embedding }) => ({ categoryIndex, embedding })),
    );
    const dim = FEATURE_SPEC.dim;
    const at = (name: string, r: number) => r * dim + FEATURE_OFFSETS[name];
    let mixed = 0;
    for (let r = 0; r < sut.rows; r++) {
      const embedding = sut.features.subarray(at('ad.embedding', r), at('ad.embedding', r) + EMBEDDING_DIM);
      const ad = market.ads.find((a) => a.embedding.every((x, d) => x === embedding[d]))!;
      const mixture = sut.features.subarray(
        at('ad.category_mixture', r),
        at('ad.category_mixture', r) + TOPIC_COUNT,
      );
      expect(Array.from(mixture)).toEqual(Array.from(decoder.decode(ad)));
      const affinity = sut.features.subarray(at('user.affinity', r), at('user.affinity', r) + TOPIC_COUNT);
      expect(sut.features[at('cross.interest_match', r)]).toBeCloseTo(interestMatch(affinity, mixture), 6);
      if (mixture[ad.categoryIndex] < 1) mixed++;
    }
    // Most ads are about more than their declared category.
    expect(mixed / sut.rows).toBeGreaterThan(0.5);
  });

  it('rejects bad sizes and shares with a message', () => {
    expect(() => generateClickDataset({ marketplace: SPEC, rows: 0, seed: 1, split: 'x' }, market)).toThrow(
      'rows must be a positive integer, got 0',
    );
    const sampling = { ...DEFAULT_SAMPLING, interestShare: 1.5 };
    expect(() =>
      generateClickDataset({ marketplace: SPEC, rows: 1, seed: 1, split: 'x', sampling }, market),
    ).toThrow('interestShare must be within [0, 1], got 1.5');
  });
});

describe(writeClickDataset.name, () => {
  it('writes the documented files and reads them back unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adfunnel-clicks-'));
    try {
      const dataset = generateClickDataset({ marketplace: SPEC, rows: 300, seed: 5, split: 'train' }, market);
      const meta = datasetMeta(dataset, {
        split: 'train',
        seed: 5,
        marketplace: SPEC,
        sampling: DEFAULT_SAMPLING,
        summary: summarizeLabels(dataset),
      });

      await writeClickDataset(dir, dataset, meta);
      const back = await readClickDataset(dir);

      expect(back.dataset.features).toEqual(dataset.features);
      expect(back.dataset.labels).toEqual(dataset.labels);
      expect(back.meta.featureSpec).toEqual({
        name: FEATURE_SPEC.name,
        version: FEATURE_SPEC.version,
        fingerprint: featureSpecFingerprint(),
        dim: FEATURE_SPEC.dim,
      });
      expect(back.meta.columns.labels.names).toEqual([
        'click',
        'conversion',
        'true_ctr',
        'true_cvr',
        'hidden',
        'true_hide',
      ]);
      const raw = await readFile(join(dir, 'features.f32'));
      expect(raw.byteLength).toBe(300 * FEATURE_SPEC.dim * 4);
      expect(raw.readFloatLE(0)).toBe(dataset.features[0]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
