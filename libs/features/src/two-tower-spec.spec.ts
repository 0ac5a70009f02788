import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { MAX_RECENT_ACTIVITY } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from './content-embedding.js';
import { TOPIC_COUNT } from './topics.js';
import {
  AD_ID_BUCKETS,
  AD_MAX_WORDS,
  TOKEN_BUCKETS,
  TWO_TOWER_SPEC,
  type TwoTowerAd,
  type TwoTowerRequest,
  denseOffsets,
  encodeAdTowerInputs,
  tokenLayout,
  encodeUserTowerInputs,
  fnv1a32,
  hashBucket,
  tokenize,
  twoTowerSpecFingerprint,
  writeTextIds,
} from './two-tower-spec.js';

/** Shared with tools/training/test_two_tower_inputs.py: the Python encoder must give the same arrays. */
const FIXTURES = new URL('../fixtures/two-tower-fixtures.json', import.meta.url);

interface Fixtures {
  fingerprint: string;
  hashes: [string, number][];
  tokens: [string, string[]][];
  ads: TwoTowerAd[];
  catalog: Record<string, Pick<TwoTowerAd, 'categoryIndex' | 'embedding'>>;
  requests: TwoTowerRequest[];
  adInputs: Record<string, number | number[]>;
  userInputs: Record<string, number | number[]>;
}

const fixtures = JSON.parse(readFileSync(FIXTURES, 'utf8')) as Fixtures;
const asPlain = (inputs: object) =>
  Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [
      k,
      typeof v === 'number' ? v : Array.from(v as ArrayLike<number>),
    ]),
  );

const ad = (over: Partial<TwoTowerAd> = {}): TwoTowerAd => ({
  id: 1,
  advertiserId: 2,
  title: 'ACME: trail shoes',
  text: 'Trail shoes from ACME.',
  categoryIndex: 4,
  embedding: new Float32Array(EMBEDDING_DIM).fill(0.1),
  ...over,
});

describe('two-tower input spec', () => {
  it('has a stable fingerprint that changes with any input', () => {
    expect(twoTowerSpecFingerprint()).toMatch(/^[0-9a-f]{16}$/);
    expect(twoTowerSpecFingerprint()).toBe(fixtures.fingerprint);
    const wider = {
      ...TWO_TOWER_SPEC,
      ad: { ...TWO_TOWER_SPEC.ad, ids: TWO_TOWER_SPEC.ad.ids.map((i) => ({ ...i, buckets: i.buckets * 2 })) },
    };
    expect(twoTowerSpecFingerprint(wider)).not.toBe(twoTowerSpecFingerprint());
  });

  it('sums its dense groups', () => {
    expect(TWO_TOWER_SPEC.ad.denseDim).toBe(TOPIC_COUNT + EMBEDDING_DIM);
    const user = denseOffsets(TWO_TOWER_SPEC.user);
    const last = TWO_TOWER_SPEC.user.dense[TWO_TOWER_SPEC.user.dense.length - 1];
    expect(user[last.name] + last.dim).toBe(TWO_TOWER_SPEC.user.denseDim);
  });
});

describe(fnv1a32.name, () => {
  it('is FNV-1a over UTF-8 bytes', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c); // the published FNV-1a 32 test vector
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('gives the fixtures the Python encoder is held to', () => {
    for (const [value, hash] of fixtures.hashes) expect([value, fnv1a32(value)]).toEqual([value, hash]);
  });
});

describe(hashBucket.name, () => {
  it('keeps 0 for padding and namespaces apart', () => {
    for (let id = 1; id < 500; id++) {
      const b = hashBucket('ad', id, 7);
      expect(b).toBeGreaterThanOrEqual(1);
      expect(b).toBeLessThanOrEqual(6);
    }
    expect(hashBucket('ad', 5, AD_ID_BUCKETS)).not.toBe(hashBucket('adv', 5, AD_ID_BUCKETS));
  });

  it('refuses fewer than two buckets', () => {
    expect(() => hashBucket('ad', 1, 1)).toThrow(RangeError);
  });
});

describe(tokenize.name, () => {
  it('lower-cases NFKC runs of letters and digits', () => {
    for (const [text, tokens] of fixtures.tokens) expect([text, tokenize(text)]).toEqual([text, tokens]);
    expect(tokenize('ACME: Trail-shoes, 2x!')).toEqual(['acme', 'trail', 'shoes', '2x']);
  });
});

describe(writeTextIds.name, () => {
  it('writes words, then bigrams within each field, then padding', () => {
    const out = new Int32Array(8);
    const n = writeTextIds(['a b', 'c'], 4, TOKEN_BUCKETS, out);
    const w = (s: string) => hashBucket('w', s, TOKEN_BUCKETS);
    expect(n).toBe(4);
    expect(Array.from(out)).toEqual([
      w('a'),
      w('b'),
      w('c'),
      hashBucket('b', 'a b', TOKEN_BUCKETS),
      0,
      0,
      0,
      0,
    ]);
  });

  it('keeps the first maxWords words of all fields', () => {
    const out = new Int32Array(2 * AD_MAX_WORDS);
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    expect(writeTextIds([words, 'never'], AD_MAX_WORDS, TOKEN_BUCKETS, out)).toBe(2 * AD_MAX_WORDS - 1);
    expect(out[AD_MAX_WORDS - 1]).toBe(hashBucket('w', `w${AD_MAX_WORDS - 1}`, TOKEN_BUCKETS));
    expect(out[2 * AD_MAX_WORDS - 1]).toBe(0);
  });
});

describe(encodeAdTowerInputs.name, () => {
  it('matches the fixtures', () => {
    expect(asPlain(encodeAdTowerInputs(fixtures.ads))).toEqual(fixtures.adInputs);
  });

  it('lays out ids, text and dense features per ad', () => {
    const sut = encodeAdTowerInputs([ad(), ad({ id: 2, categoryIndex: 0 })]);
    const { denseDim, tokenLength } = TWO_TOWER_SPEC.ad;
    const layout = tokenLayout(TWO_TOWER_SPEC.ad);
    expect(sut.rows).toBe(2);
    expect(sut.tokens).toHaveLength(2 * tokenLength);
    expect(sut.tokens[layout['ad_id'].column]).toBe(hashBucket('ad', 1, AD_ID_BUCKETS));
    const text = layout['ad_text'];
    expect(sut.tokens[text.column]).toBe(text.base + hashBucket('w', 'acme', TOKEN_BUCKETS));
    expect(sut.tokens[tokenLength - 1]).toBe(0);
    expect(sut.dense[4]).toBe(1);
    expect(sut.dense[denseDim]).toBe(1);
    expect(sut.dense[TOPIC_COUNT]).toBeCloseTo(0.1, 6);
  });

  it('gives every id input a bucket range of its own in the shared table', () => {
    const layout = tokenLayout(TWO_TOWER_SPEC.ad);
    const sut = encodeAdTowerInputs([ad()]);
    for (const input of TWO_TOWER_SPEC.ad.ids) {
      const { column, base } = layout[input.name];
      for (const id of sut.tokens.subarray(column, column + input.length)) {
        if (id !== 0) expect(id - base).toBeGreaterThan(0);
        if (id !== 0) expect(id - base).toBeLessThan(input.buckets);
      }
    }
    expect(TWO_TOWER_SPEC.ad.tokenBuckets).toBe(AD_ID_BUCKETS + 1024 + TOKEN_BUCKETS);
  });

  it('refuses a bad category or embedding', () => {
    expect(() => encodeAdTowerInputs([ad({ categoryIndex: TOPIC_COUNT })])).toThrow(RangeError);
    expect(() => encodeAdTowerInputs([ad({ embedding: [1, 2] })])).toThrow(/2 dimensions, expected 32/);
  });
});

describe(encodeUserTowerInputs.name, () => {
  const lookup = (id: number) => fixtures.catalog[String(id)];

  it('matches the fixtures', () => {
    const sut = asPlain(encodeUserTowerInputs(fixtures.requests, lookup));
    const { dense, ...ids } = sut;
    const { dense: expectedDense, ...expectedIds } = fixtures.userInputs;
    expect(ids).toEqual(expectedIds);
    (dense as number[]).forEach((v, i) => expect(v).toBeCloseTo((expectedDense as number[])[i], 6));
  });

  it('encodes a user without activity from the context alone', () => {
    const sut = encodeUserTowerInputs([{ device: 'mobile', country: 'US', surface: 'home_feed' }], lookup);
    const o = denseOffsets(TWO_TOWER_SPEC.user);
    expect(Array.from(sut.tokens)).toEqual(new Array(TWO_TOWER_SPEC.user.tokenLength).fill(0));
    expect(sut.tokens).toHaveLength(TWO_TOWER_SPEC.user.tokenLength);
    expect(MAX_RECENT_ACTIVITY).toBe(20);
    expect(sut.dense[o['user.known']]).toBe(0);
    expect(sut.dense[o['ctx.device']]).toBe(1);
    expect(sut.dense[o['ctx.surface']]).toBe(1);
    expect(sut.dense.reduce((s, v) => s + v, 0)).toBe(3);
  });

  it('refuses an unknown device or surface and activity of another taxonomy', () => {
    const base = { device: 'mobile', country: 'US', surface: 'home_feed' };
    expect(() => encodeUserTowerInputs([{ ...base, device: 'watch' }], lookup)).toThrow(
      /unknown device "watch"/,
    );
    expect(() => encodeUserTowerInputs([{ ...base, surface: 'inbox' }], lookup)).toThrow(/unknown surface/);
    const activity = {
      impressionsByCategory: [1],
      clicksByCategory: [],
      hidesByCategory: [],
      conversionsByCategory: [],
      recentAdIds: [],
      recentAdvertiserIds: [],
      recentQueries: [],
    };
    expect(() => encodeUserTowerInputs([{ ...base, activity }], lookup)).toThrow(/1 categories, expected 16/);
  });
});
