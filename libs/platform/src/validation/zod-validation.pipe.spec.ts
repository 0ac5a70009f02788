import { AdfunnelError, AdRequestSchema } from '@adfunnel/contracts';
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ZodValidationPipe } from './zod-validation.pipe.js';

const Schema = z.strictObject({
  requestId: z.string().min(1),
  slots: z.number().int().min(1).max(10),
  user: z.strictObject({ id: z.string(), device: z.enum(['mobile', 'desktop']) }),
  adIds: z.array(z.number().int()).max(3),
});

const valid = { requestId: 'r1', slots: 2, user: { id: 'u00001', device: 'mobile' }, adIds: [1, 2] };

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AdfunnelError);
    expect((err as AdfunnelError).code).toBe('invalid_request');
    return (err as Error).message;
  }
  throw new Error('expected an invalid_request error');
}

describe(ZodValidationPipe.name, () => {
  const sut = new ZodValidationPipe(Schema);

  it('returns the parsed value when it is valid', () => {
    expect(sut.transform(valid)).toEqual(valid);
  });

  it('says a missing request body is missing and should be JSON', () => {
    expect(messageOf(() => sut.transform(undefined, { type: 'body' }))).toBe(
      'request body is missing; send a JSON object with content-type application/json',
    );
  });

  it('names an unknown field', () => {
    expect(messageOf(() => sut.transform({ ...valid, foo: 1 }))).toBe('unknown field "foo"');
  });

  it('names an unknown nested field with its path', () => {
    expect(messageOf(() => sut.transform({ ...valid, user: { ...valid.user, age: 3 } }))).toBe(
      'unknown field "user.age"',
    );
  });

  it('names an out-of-range field and the limit', () => {
    const message = messageOf(() => sut.transform({ ...valid, slots: 50 }));

    expect(message).toMatch(/^slots: /);
    expect(message).toContain('10');
  });

  it('names every bad field at once, with array indexes', () => {
    const message = messageOf(() =>
      sut.transform({ ...valid, requestId: undefined, user: { id: 'u1', device: 'tv' }, adIds: [1, 'x'] }),
    );

    expect(message).toContain('requestId: is required');
    expect(message).toContain('user.device: ');
    expect(message).toContain('"mobile"');
    expect(message).toContain('adIds[1]: expected number');
  });

  it('says so when the body is not an object', () => {
    expect(messageOf(() => sut.transform(undefined))).toMatch(/required|expected object/);
  });

  it('validates the public ad request schema from contracts', () => {
    const pipe = new ZodValidationPipe(AdRequestSchema);

    expect(messageOf(() => pipe.transform({ nonsense: true }))).toContain('unknown field "nonsense"');
  });
});
