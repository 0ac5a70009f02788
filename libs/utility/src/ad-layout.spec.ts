import { describe, expect, it } from '@jest/globals';
import { adLayout } from './ad-layout.js';

describe(adLayout.name, () => {
  it('is one block from position 0 when the request names no positions, as many as the ad load allows', () => {
    expect(adLayout({ slots: 3, adLoad: 10, minSpacing: 4 })).toEqual([0, 1, 2]);
    expect(adLayout({ slots: 5, adLoad: 2, minSpacing: 1 })).toEqual([0, 1]);
  });

  it('keeps the earliest named positions at least minSpacing apart', () => {
    expect(adLayout({ slots: 4, adLoad: 10, adPositions: [0, 2, 3, 5, 6, 9], minSpacing: 3 })).toEqual([
      0, 3, 6, 9,
    ]);
    expect(adLayout({ slots: 10, adLoad: 10, adPositions: [1, 2, 3], minSpacing: 1 })).toEqual([1, 2, 3]);
  });

  it('stops at the slots requested and at the ad load, whichever is fewer', () => {
    const adPositions = [0, 4, 8, 12, 16];
    expect(adLayout({ slots: 2, adLoad: 10, adPositions, minSpacing: 4 })).toEqual([0, 4]);
    expect(adLayout({ slots: 5, adLoad: 3, adPositions, minSpacing: 4 })).toEqual([0, 4, 8]);
  });

  it.each([
    [[3, 3], 'adPositions must be strictly increasing integers >= 0, but adPositions[1] is 3'],
    [[4, 2], 'adPositions must be strictly increasing integers >= 0, but adPositions[1] is 2'],
    [[-1], 'adPositions must be strictly increasing integers >= 0, but adPositions[0] is -1'],
  ])('rejects adPositions %j', (adPositions, message) => {
    expect(() => adLayout({ slots: 2, adLoad: 2, adPositions, minSpacing: 1 })).toThrow(message);
  });

  it('rejects an ad load or spacing below 1', () => {
    expect(() => adLayout({ slots: 2, adLoad: 0, minSpacing: 1 })).toThrow(
      'adLoad must be an integer >= 1, got 0',
    );
    expect(() => adLayout({ slots: 2, adLoad: 2, minSpacing: 0 })).toThrow(
      'minSpacing must be an integer >= 1, got 0',
    );
  });
});
