import { describe, expect, it } from '@jest/globals';
import { queryWordCoverage, textTokens, wordsAndBigrams } from './text-tokens.js';

describe(textTokens.name, () => {
  it('lower-cases and splits on anything that is not a letter or digit', () => {
    expect(textTokens('Nova Works: USB-C hub, 20% off today!')).toEqual([
      'nova',
      'works',
      'usb',
      'c',
      'hub',
      '20',
      'off',
      'today',
    ]);
  });

  it('keeps letters outside ASCII and gives nothing for blank text', () => {
    expect(textTokens('Crème brûlée für Müller')).toEqual(['crème', 'brûlée', 'für', 'müller']);
    expect(textTokens('  -- ')).toEqual([]);
  });
});

describe(wordsAndBigrams.name, () => {
  it('adds each adjacent pair after the words', () => {
    expect(wordsAndBigrams('Running shoes sale')).toEqual([
      'running',
      'shoes',
      'sale',
      'running shoes',
      'shoes sale',
    ]);
  });
});

describe(queryWordCoverage.name, () => {
  const doc = new Set(textTokens('Peak Labs running shoes: free shipping'));

  it('is the share of distinct query words the document has', () => {
    expect(queryWordCoverage(textTokens('running shoes'), doc)).toBe(1);
    expect(queryWordCoverage(textTokens('trail running shoes shoes'), doc)).toBeCloseTo(2 / 3);
    expect(queryWordCoverage(textTokens('aquarium'), doc)).toBe(0);
  });

  it('is 0 without a query', () => {
    expect(queryWordCoverage([], doc)).toBe(0);
  });
});
