import { describe, expect, it } from '@jest/globals';
import { DEFAULT_EXAMINATION, examinationAt, requireExamination } from './examination.js';

describe('examination', () => {
  it('defaults to 3 / (s + 3): 1, 0.75, 0.6, 0.5 for the first slots, over the 10 a request may ask for', () => {
    expect(DEFAULT_EXAMINATION.slice(0, 4)).toEqual([1, 0.75, 0.6, 0.5]);
    expect(DEFAULT_EXAMINATION).toHaveLength(10);
    expect(() => requireExamination(DEFAULT_EXAMINATION)).not.toThrow();
  });

  it('repeats its last probability past its end', () => {
    expect(examinationAt([1, 0.7], 0)).toBe(1);
    expect(examinationAt([1, 0.7], 5)).toBe(0.7);
  });

  it.each([
    [[], 'examination must be a non-empty list of probabilities'],
    [[0.9, 0.5], 'examination[0] must be 1 (pCTR is the click rate at slot 0), got 0.9'],
    [
      [1, 0.5, 0.6],
      'examination must not increase down the page, but examination[2] = 0.6 > examination[1] = 0.5',
    ],
    [[1, 0], 'examination[1] must be a probability in (0, 1], got 0'],
  ])('rejects %j', (examination, message) => {
    expect(() => requireExamination(examination)).toThrow(message);
  });
});
