import { describe, expect, it } from '@jest/globals';
import { LexicalIndex, type LexicalDocument } from './lexical-index.js';

const DOCS: LexicalDocument[] = [
  { id: 1, fields: ['Nova Works: wireless earbuds', 'Wireless earbuds from Nova Works - free shipping.'] },
  { id: 2, fields: ['Peak Labs: running shoes', 'Running shoes from Peak Labs - limited stock.'] },
  { id: 3, fields: ['Nova Labs: smartwatch', 'Smartwatch from Nova Labs - new arrivals.'] },
  { id: 4, fields: ['Blue Depot: wireless router', 'Wireless router from Blue Depot - 20% off today.'] },
  { id: 5, fields: ['Swift Co: USB-C hub', 'USB-C hub from Swift Co - rated 4.8 by buyers.'] },
];

describe(LexicalIndex.name, () => {
  const index = LexicalIndex.build(DOCS);

  it('builds the same index in slices as at once', async () => {
    const sliced = await LexicalIndex.buildInSlices(DOCS, {}, 0);

    expect(sliced).toEqual(index);
    expect(sliced.search('wireless earbuds', 5)).toEqual(index.search('wireless earbuds', 5));
  });

  it('indexes words and bigrams of every field, lower-cased', () => {
    expect(index.size).toBe(5);
    expect(index.search('EARBUDS', 5).adIds).toEqual([1]);
    expect(index.search('usb c', 5).adIds).toEqual([5]);
    // "shoes from" is a bigram of doc 2's text only; no bigram spans the title and the text.
    expect(index.search('shoes from', 5).adIds[0]).toBe(2);
    expect(index.search('stock nova', 5).adIds).toEqual(expect.arrayContaining([1, 2, 3]));
    expect(index.search('stock nova', 5).adIds).not.toContain(4);
  });

  it('ranks the ad with the exact product phrase above ads sharing one of its words (BM25)', () => {
    const hits = index.search('wireless earbuds', 5);

    expect(hits.adIds).toEqual([1, 4]);
    expect(hits.scores[0]).toBeGreaterThan(hits.scores[1]);
    expect(hits.scores[1]).toBeGreaterThan(0);
  });

  it('scores a rare word above a common one', () => {
    // "nova" is in two ads, "smartwatch" in one: the smartwatch ad wins a query with both.
    const hits = index.search('nova smartwatch', 5);

    expect(hits.adIds).toEqual([3, 1]);
  });

  it('counts a repeated query word once', () => {
    expect(index.search('earbuds earbuds', 5).scores).toEqual(index.search('earbuds', 5).scores);
  });

  it('keeps only ads the filter admits, up to the limit, ties by smaller id', () => {
    const twins = LexicalIndex.build([
      { id: 9, fields: ['Blue Co: dog food'] },
      { id: 7, fields: ['Wild Co: dog food'] },
      { id: 8, fields: ['Nova Co: dog food'] },
    ]);
    expect(twins.search('dog food', 2).adIds).toEqual([7, 8]);
    expect(index.search('from', 2).adIds).toHaveLength(2);
    expect(index.search('wireless earbuds', 5, (id) => id !== 1).adIds).toEqual([4]);
    expect(index.search('wireless', 0).adIds).toEqual([]);
  });

  it('matches nothing for an empty query or words no ad has', () => {
    expect(index.search('', 5)).toEqual({ adIds: [], scores: [] });
    expect(index.search('  -- ', 5)).toEqual({ adIds: [], scores: [] });
    expect(index.search('aquarium kit', 5)).toEqual({ adIds: [], scores: [] });
  });

  it('is rebuilt from a new catalog: a rebuilt index answers the new texts, the old one keeps its own', () => {
    const rebuilt = LexicalIndex.build([
      ...DOCS.filter((d) => d.id !== 1),
      { id: 6, fields: ['Clear Market: wireless earbuds', 'Wireless earbuds from Clear Market.'] },
    ]);

    expect(rebuilt.search('earbuds', 5).adIds).toEqual([6]);
    expect(index.search('earbuds', 5).adIds).toEqual([1]);
  });

  it('refuses duplicate ids and bad BM25 parameters or limits', () => {
    expect(() => LexicalIndex.build([DOCS[0], DOCS[0]])).toThrow(
      new RangeError('ad 1 appears twice in the lexical index'),
    );
    expect(() => LexicalIndex.build(DOCS, { b: 2 })).toThrow(
      new RangeError('BM25 b must be in [0, 1], got 2'),
    );
    expect(() => LexicalIndex.build(DOCS, { k1: -1 })).toThrow(
      new RangeError('BM25 k1 must be a non-negative number, got -1'),
    );
    expect(() => index.search('nova', -1)).toThrow(
      new RangeError('lexical search limit must be a non-negative integer, got -1'),
    );
  });

  it('answers from an empty catalog', () => {
    expect(LexicalIndex.build([]).search('nova', 5)).toEqual({ adIds: [], scores: [] });
  });
});
