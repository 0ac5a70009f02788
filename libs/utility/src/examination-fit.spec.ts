import { describe, expect, it } from '@jest/globals';
import { requireExamination } from './examination.js';
import { fitExamination, type SlotClicks } from './examination-fit.js';

const slot = (s: number, impressions: number, clicks: number, expectedClicks: number): SlotClicks => ({
  slot: s,
  impressions,
  clicks,
  expectedClicks,
});

describe(fitExamination.name, () => {
  it('divides each slot’s clicks-over-predicted ratio by slot 0’s', () => {
    // slot 0 delivers 0.8 of the predicted clicks, slot 1 0.4, slot 2 0.2: examination 1, 0.5, 0.25
    const sut = fitExamination([slot(0, 1000, 80, 100), slot(1, 1000, 24, 60), slot(2, 1000, 8, 40)], {
      minImpressions: 100,
    });
    expect(sut?.examination).toEqual([1, 0.5, 0.25]);
    expect(sut?.slots.map((s) => s.ratio)).toEqual([0.8, 0.4, 0.2]);
    expect(() => requireExamination(sut!.examination)).not.toThrow();
  });

  it('corrects for the ads shown: worse ads lower in the page do not read as less examination', () => {
    // slot 1 shows ads predicted at half slot 0's click rate and gets half the clicks: examined alike
    const sut = fitExamination([slot(0, 1000, 50, 50), slot(1, 1000, 25, 25)], { minImpressions: 100 });
    expect(sut?.examination).toEqual([1, 1]);
  });

  it('pools slots that rise down the page, weighted by expected clicks, and keeps the curve in [0.01, 1]', () => {
    const sut = fitExamination(
      [slot(0, 1000, 100, 100), slot(1, 1000, 30, 100), slot(2, 1000, 50, 100), slot(3, 1000, 0, 50)],
      { minImpressions: 100 },
    );
    expect(sut?.examination).toEqual([1, 0.4, 0.4, 0.01]);
  });

  it('adds up rows of one slot and stops at the first slot with too few impressions', () => {
    const sut = fitExamination(
      [
        slot(0, 600, 30, 30),
        slot(0, 600, 30, 30),
        slot(1, 1200, 30, 60),
        slot(2, 50, 5, 5),
        slot(3, 900, 1, 9),
      ],
      { minImpressions: 100 },
    );
    expect(sut?.examination).toEqual([1, 0.5]);
  });

  it('is null without enough slot-0 impressions or clicks to normalise by', () => {
    expect(fitExamination([slot(0, 50, 5, 5)], { minImpressions: 100 })).toBeNull();
    expect(fitExamination([slot(0, 500, 0, 5), slot(1, 500, 1, 5)], { minImpressions: 100 })).toBeNull();
    expect(fitExamination([slot(1, 500, 1, 5)], { minImpressions: 100 })).toBeNull();
  });
});
