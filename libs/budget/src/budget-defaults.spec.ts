import { describe, expect, it } from '@jest/globals';
import { frequencyCapOf } from './budget-defaults.js';

describe(frequencyCapOf.name, () => {
  const fallback = { max: 10, windowHours: 24 };

  it("takes the campaign's own cap and window", () => {
    expect(frequencyCapOf({ frequencyCap: 3, frequencyWindowHours: 6 }, fallback)).toEqual({
      max: 3,
      windowHours: 6,
    });
  });

  it('fills what the campaign leaves unset from the default', () => {
    expect(frequencyCapOf({}, fallback)).toEqual(fallback);
    expect(frequencyCapOf({ frequencyCap: null, frequencyWindowHours: 2 }, fallback)).toEqual({
      max: 10,
      windowHours: 2,
    });
    expect(frequencyCapOf({ frequencyCap: 4, frequencyWindowHours: null }, fallback)).toEqual({
      max: 4,
      windowHours: 24,
    });
  });

  it('leaves a campaign uncapped when neither it nor the default caps it', () => {
    expect(frequencyCapOf({}, { max: 0, windowHours: 24 })).toBeUndefined();
    expect(frequencyCapOf({ frequencyCap: 2 }, { max: 0, windowHours: 24 })).toEqual({
      max: 2,
      windowHours: 24,
    });
  });
});
