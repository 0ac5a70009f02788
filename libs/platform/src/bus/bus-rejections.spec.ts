import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { SchemaRejectionError } from '../validation/schema-rejection.error.js';
import { BusRejections } from './bus-rejections.js';

function rejectionOf(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected the value to fail');
  return new SchemaRejectionError(result.error).rejection;
}

describe(BusRejections.name, () => {
  it('counts rejections by pattern and reason, and reports them on /health as up', async () => {
    const sut = new BusRejections();

    sut.count('adfunnel.ranking.score.v1', 'adIds: too_small');
    sut.count('adfunnel.ranking.score.v1', 'adIds: too_small');
    sut.count('adfunnel.auction.run.v1', '(payload): invalid_type');

    await expect(sut.check()).resolves.toEqual({
      total: 3,
      byPattern: {
        'adfunnel.ranking.score.v1': { 'adIds: too_small': 2 },
        'adfunnel.auction.run.v1': { '(payload): invalid_type': 1 },
      },
    });
  });

  it('folds reasons beyond 32 on one pattern into other, so a flood of odd messages stays small', () => {
    const sut = new BusRejections();

    for (let i = 0; i < 40; i++) sut.count('p', `field${i}: invalid_type`);
    sut.count('p', 'field0: invalid_type');

    const reasons = sut.snapshot().byPattern['p'] ?? {};
    expect(Object.keys(reasons)).toHaveLength(33);
    expect(reasons['other']).toBe(8);
    expect(reasons['field0: invalid_type']).toBe(2);
    expect(sut.snapshot().total).toBe(41);
  });
});

describe(SchemaRejectionError.name, () => {
  const Schema = z.strictObject({ adIds: z.array(z.number()).min(1), user: z.object({ id: z.string() }) });

  it('labels the first problem by field and zod code, array indices folded', () => {
    expect(rejectionOf(Schema, { adIds: [], user: { id: 'u' } })).toBe('adIds: too_small');
    expect(rejectionOf(Schema, { adIds: [1, 'x'], user: { id: 'u' } })).toBe('adIds[]: invalid_type');
    expect(rejectionOf(Schema, { adIds: [1], user: {} })).toBe('user.id: invalid_type');
    expect(rejectionOf(Schema, 'not an object')).toBe('(payload): invalid_type');
  });

  it('is an invalid_request whose message says what was wrong', () => {
    const result = Schema.safeParse({ adIds: [1], user: { id: 'u' }, extra: 1 });
    if (result.success) throw new Error('expected the value to fail');

    const sut = new SchemaRejectionError(result.error);

    expect(sut).toMatchObject({ code: 'invalid_request', message: 'unknown field "extra"' });
    expect(sut.rejection).toBe('(payload): unrecognized_keys');
  });
});
