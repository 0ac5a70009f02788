import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { CandidateSourceSchema } from './domain.js';
import { enumValues, finiteNumbers, integers } from './number-arrays.js';

/** Each fast array against the zod array schema it stands for: the same verdict and the same issues. */
describe('fast number arrays', () => {
  const cases: [string, z.ZodType, z.ZodType, unknown[]][] = [
    [
      'integers with bounds',
      integers({ min: 1, max: 3 }),
      z.array(z.number().int()).min(1).max(3),
      [[1, 2], [], [1, 2, 3, 4], [1, 'x', 2.5], [Number.MAX_SAFE_INTEGER + 2], 'nope', undefined, null],
    ],
    [
      'finite numbers',
      finiteNumbers(),
      z.array(z.number()),
      [[0.1, -2, 0], [], [1, Infinity], [NaN], [1, '2'], [1, null], {}, undefined],
    ],
    [
      'candidate sources',
      enumValues(CandidateSourceSchema),
      z.array(CandidateSourceSchema),
      [['ann', 'lexical'], ['ann', 'nearest'], [1], 'ann'],
    ],
  ];

  it.each(cases)(
    '%s: accepts and rejects as the zod array does, with its issues',
    (_, fast, plain, values) => {
      for (const value of values) {
        const a = plain.safeParse(value);
        const b = fast.safeParse(value);
        expect({ value, success: b.success }).toEqual({ value, success: a.success });
        expect(b.error?.issues).toEqual(a.error?.issues);
      }
    },
  );

  it('keeps the issue paths inside an object, optional or not', () => {
    const schema = z.object({ adIds: integers({ min: 1 }), pHide: finiteNumbers().optional() });
    expect(schema.safeParse({ adIds: [1, 2] }).success).toBe(true);
    const issues = schema.safeParse({ adIds: [1, 1.5], pHide: [0.1, 'x'] }).error?.issues;
    expect(issues?.map((i) => [i.code, i.path])).toEqual([
      ['invalid_type', ['adIds', 1]],
      ['invalid_type', ['pHide', 1]],
    ]);
  });
});
