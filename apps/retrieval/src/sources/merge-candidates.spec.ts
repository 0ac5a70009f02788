import { describe, expect, it } from '@jest/globals';
import type { CandidateSource } from '@adfunnel/contracts';
import { parseConfig, ConfigError } from '@adfunnel/platform';
import { RetrievalConfigSchema } from '../config.js';
import { mergeCandidates, type SourceCandidates } from './merge-candidates.js';
import { DEFAULT_QUOTAS, parseQuotas, quotaCounts, sourceFetchCounts } from './quotas.js';

function list(source: CandidateSource, adIds: number[]): SourceCandidates {
  return { adIds, scores: adIds.map((id) => id / 100), sources: adIds.map(() => source) };
}

describe(mergeCandidates.name, () => {
  const quotas = parseQuotas('lexical:0.5,query:0.3,ann:0.2');

  it('fills each source its quota, in priority order', () => {
    const merged = mergeCandidates(
      quotas,
      [list('lexical', [1, 2, 3, 4, 5, 6, 7]), list('query', [11, 12, 13, 14]), list('ann', [21, 22, 23])],
      10,
    );

    expect(merged.adIds).toEqual([1, 2, 3, 4, 5, 11, 12, 13, 21, 22]);
    expect(merged.sources).toEqual([...Array(5).fill('lexical'), ...Array(3).fill('query'), 'ann', 'ann']);
    expect(merged.scores).toEqual([0.01, 0.02, 0.03, 0.04, 0.05, 0.11, 0.12, 0.13, 0.21, 0.22]);
    expect(merged.taken).toEqual({ lexical: 5, query: 3, ann: 2 });
  });

  it('keeps an ad two sources found with the first, its score and label, and takes the next instead', () => {
    const merged = mergeCandidates(
      quotas,
      [list('lexical', [1, 2, 3, 4, 5]), list('query', [3, 11, 1, 12, 13]), list('ann', [11, 21, 22])],
      10,
    );

    expect(merged.adIds).toEqual([1, 2, 3, 4, 5, 11, 12, 13, 21, 22]);
    expect(new Set(merged.adIds).size).toBe(10);
    expect(merged.sources[merged.adIds.indexOf(3)]).toBe('lexical');
    expect(merged.scores[merged.adIds.indexOf(3)]).toBe(0.03);
    expect(merged.sources[merged.adIds.indexOf(11)]).toBe('query');
  });

  it('backfills a short source from the next sources in priority order, up to the limit', () => {
    const merged = mergeCandidates(
      quotas,
      [list('lexical', [1, 2]), list('query', [11, 12, 13, 14, 15, 16]), list('ann', [21, 22, 23, 24, 25])],
      10,
    );

    // lexical has 2 of its 5; query fills its 3, ann its 2, then query's rest and ann's next backfill.
    expect(merged.adIds).toEqual([1, 2, 11, 12, 13, 21, 22, 14, 15, 16]);
    expect(merged.taken).toEqual({ lexical: 2, query: 6, ann: 2 });
  });

  it('backfills what shares summing below 1 leave', () => {
    const merged = mergeCandidates(parseQuotas('context:0.5'), [list('context', [1, 2, 3, 4, 5, 6])], 4);

    expect(merged.adIds).toEqual([1, 2, 3, 4]);
  });

  it('answers fewer than the limit only when every source is spent', () => {
    const merged = mergeCandidates(
      quotas,
      [list('lexical', [1]), list('query', []), list('ann', [1, 2])],
      10,
    );

    expect(merged.adIds).toEqual([1, 2]);
    expect(merged.sources).toEqual(['lexical', 'ann']);
  });

  it('tops up from the last resort only once every source is spent, computing it only then', () => {
    let asked = 0;
    const popular = {
      source: 'popular' as const,
      candidates: () => {
        asked++;
        return list('popular', [2, 31, 32, 33]);
      },
    };
    const short = mergeCandidates(
      quotas,
      [list('lexical', [1]), list('query', []), list('ann', [2])],
      4,
      new Set(),
      popular,
    );

    expect(short.adIds).toEqual([1, 2, 31, 32]);
    expect(short.sources).toEqual(['lexical', 'ann', 'popular', 'popular']);
    expect(short.taken).toEqual({ lexical: 1, ann: 1, popular: 2 });

    const full = mergeCandidates(
      quotas,
      [list('lexical', [1, 2]), list('query', [3]), list('ann', [4])],
      4,
      new Set(),
      popular,
    );
    expect(full.adIds).toEqual([1, 2, 3, 4]);
    expect(asked).toBe(1);
  });

  it('keeps the excluded ad out of the last resort too', () => {
    const merged = mergeCandidates(parseQuotas('context:0.8'), [list('context', [])], 3, new Set([7]), {
      source: 'popular',
      candidates: () => list('popular', [7, 8, 9, 10]),
    });

    expect(merged.adIds).toEqual([8, 9, 10]);
  });

  it('never takes an excluded ad', () => {
    const merged = mergeCandidates(
      parseQuotas('context:0.6,ann:0.4'),
      [list('context', [7, 1, 2]), list('ann', [7, 3])],
      5,
      new Set([7]),
    );

    expect(merged.adIds).toEqual([1, 2, 3]);
  });

  describe('with sources that answered only their quota and headroom', () => {
    const full = [
      list('lexical', [1, 2, 3, 4, 5, 6, 7, 8]),
      list('query', [1, 2, 3, 11, 12, 13, 14, 15]),
      list('ann', [11, 21, 22, 23, 24, 25]),
    ];
    const cut = (lengths: number[]) =>
      full.map((l, i) => ({
        adIds: l.adIds.slice(0, lengths[i]),
        scores: l.scores.slice(0, lengths[i]),
        sources: l.sources.slice(0, lengths[i]),
      }));

    it('asks a source that dedupe ran dry for more and answers what its whole list gives', () => {
      const asked: number[] = [];

      const merged = mergeCandidates(quotas, cut([5, 4, 2]), 10, new Set(), undefined, (i) => {
        asked.push(i);
        return full[i];
      });

      // query's first three are lexical's: asked again, it fills its 3 from 11, 12, 13; ann loses 11.
      expect(merged).toEqual(mergeCandidates(quotas, full, 10));
      expect(merged.adIds).toEqual([1, 2, 3, 4, 5, 11, 12, 13, 21, 22]);
      expect(asked).toEqual([1, 2]);
    });

    it('backfills a short source from the others, asking them for more when they run out too', () => {
      const short = [list('lexical', [1, 2]), list('query', [11, 12, 13, 14]), list('ann', [21, 22, 23])];
      const longer = [short[0], list('query', [11, 12, 13, 14, 15, 16]), list('ann', [21, 22, 23, 24])];
      const asked: number[] = [];

      const merged = mergeCandidates(quotas, short, 10, new Set(), undefined, (i) => {
        asked.push(i);
        return i === 0 ? undefined : longer[i];
      });

      expect(merged.adIds).toEqual([1, 2, 11, 12, 13, 21, 22, 14, 15, 16]);
      expect(merged).toEqual(mergeCandidates(quotas, longer, 10));
      expect(asked).toEqual([0, 1]);
    });

    it('asks no source again when their answers fill the limit', () => {
      const asked: number[] = [];

      mergeCandidates(quotas, cut([8, 8, 6]), 10, new Set(), undefined, (i) => {
        asked.push(i);
        return full[i];
      });

      expect(asked).toEqual([]);
    });

    it('asks each source at most once, and answers short only when every source is spent', () => {
      const asked: number[] = [];

      const merged = mergeCandidates(quotas, cut([2, 2, 2]), 20, new Set(), undefined, (i) => {
        asked.push(i);
        return full[i];
      });

      expect(merged.adIds).toEqual(mergeCandidates(quotas, full, 20).adIds);
      expect(merged.adIds).toHaveLength(18);
      expect(asked).toEqual([0, 1, 2]);
    });
  });

  it('refuses lists that do not line up with the quotas or with themselves', () => {
    expect(() => mergeCandidates(quotas, [list('lexical', [1])], 5)).toThrow(
      new RangeError('1 candidate lists for 3 quotas'),
    );
    expect(() =>
      mergeCandidates(
        quotas,
        [{ adIds: [1, 2], scores: [1], sources: ['lexical', 'lexical'] }, list('query', []), list('ann', [])],
        5,
      ),
    ).toThrow(new RangeError('source lexical answered 2 ads, 1 scores and 2 labels'));
  });
});

describe(quotaCounts.name, () => {
  it('hands the rounding remainder to the largest fractions, never above the limit', () => {
    expect(quotaCounts(parseQuotas('lexical:0.5,query:0.3,ann:0.2'), 200)).toEqual([100, 60, 40]);
    expect(quotaCounts(parseQuotas('ann:0.6,trending:0.15,retargeting:0.1,popular:0.15'), 7)).toEqual([
      4, 1, 1, 1,
    ]);
    expect(quotaCounts(parseQuotas('ann:0.34,popular:0.33,trending:0.33'), 1)).toEqual([1, 0, 0]);
    expect(quotaCounts(parseQuotas('ann:0.5'), 9)).toEqual([5]);
  });
});

describe(sourceFetchCounts.name, () => {
  const home = parseQuotas('ann:0.6,trending:0.15,retargeting:0.1,popular:0.15');

  it('asks each source for its quota times the headroom, rounded up, at most the limit', () => {
    expect(sourceFetchCounts(home, 200, 1.5)).toEqual([180, 45, 30, 45]);
    expect(sourceFetchCounts(home, 200, 1)).toEqual(quotaCounts(home, 200));
    expect(sourceFetchCounts(parseQuotas('context:0.8,ann:0.2'), 200, 1.5)).toEqual([200, 60]);
    expect(sourceFetchCounts(parseQuotas('ann:0.34,popular:0.33,trending:0.33'), 1, 2)).toEqual([1, 0, 0]);
  });

  it('asks every source for the whole limit with headroom 0, and refuses a headroom below 1', () => {
    expect(sourceFetchCounts(home, 200, 0)).toEqual([200, 200, 200, 200]);
    expect(() => sourceFetchCounts(home, 200, 0.5)).toThrow(RangeError);
  });
});

describe(parseQuotas.name, () => {
  it('keeps the sources in the order given, with their shares', () => {
    expect(parseQuotas(' query:0.3 , lexical:0.7')).toEqual([
      { source: 'query', share: 0.3 },
      { source: 'lexical', share: 0.7 },
    ]);
  });

  it.each([
    ['', 'got none'],
    ['lexical', '"lexical" is not one'],
    ['lexical:0.5:1', '"lexical:0.5:1" is not one'],
    ['exact:0.5', '"exact" is not a source'],
    ['lexical:0.5,lexical:0.2', 'lexical is named twice'],
    ['lexical:0', 'lexical has share "0"'],
    ['lexical:abc', 'lexical has share "abc"'],
    ['lexical:', 'lexical has share ""'],
    ['lexical:0.7,query:0.5', 'the shares sum to 1.2'],
  ])('refuses %j: %s', (raw, problem) => {
    expect(() => parseQuotas(raw)).toThrow(
      new RangeError(
        'expected <source>:<share> pairs separated by commas, in merge priority, sources among interest, ann, popular, ' +
          `query, lexical, context, trending, retargeting, shares in (0, 1] summing to at most 1; ${problem}`,
      ),
    );
  });
});

describe('RETRIEVAL_QUOTAS_<SURFACE>', () => {
  it('defaults each surface to its own sources', () => {
    const config = parseConfig(RetrievalConfigSchema, {});

    expect(config.RETRIEVAL_QUOTAS_HOME_FEED).toEqual(DEFAULT_QUOTAS.home_feed);
    expect(config.RETRIEVAL_QUOTAS_SEARCH.map((q) => q.source)).toEqual(['lexical', 'query']);
    expect(config.RETRIEVAL_QUOTAS_RELATED_ITEMS[0]).toEqual({ source: 'context', share: 0.8 });
  });

  it('replaces a surface default whole', () => {
    const config = parseConfig(RetrievalConfigSchema, { RETRIEVAL_QUOTAS_SEARCH: 'query:1' });

    expect(config.RETRIEVAL_QUOTAS_SEARCH).toEqual([{ source: 'query', share: 1 }]);
    expect(config.RETRIEVAL_QUOTAS_HOME_FEED).toEqual(DEFAULT_QUOTAS.home_feed);
  });

  it('names the variable and what is wrong with it', () => {
    let error: unknown;
    try {
      parseConfig(RetrievalConfigSchema, { RETRIEVAL_QUOTAS_HOME_FEED: 'ann:0.9,popular:0.2' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable)).toEqual(['RETRIEVAL_QUOTAS_HOME_FEED']);
    expect((error as ConfigError).message).toContain('RETRIEVAL_QUOTAS_HOME_FEED: expected <source>:<share>');
    expect((error as ConfigError).message).toContain('the shares sum to 1.1');
  });
});
