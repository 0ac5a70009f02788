import { AdfunnelError, AdRequestSchema } from '@adfunnel/contracts';
import { ZodValidationPipe } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';

/** What POST /v1/ads answers 400 with (invalid_request) when adPositions is malformed. */
function rejection(body: Record<string, unknown>): AdfunnelError {
  const sut = new ZodValidationPipe(AdRequestSchema);
  try {
    sut.transform({ userId: 'u1', surface: 'home_feed', country: 'US', device: 'mobile', ...body });
  } catch (error) {
    return error as AdfunnelError;
  }
  throw new Error('the body was accepted');
}

describe('AdRequest adPositions', () => {
  it('accepts strictly increasing feed positions and leaves them out when absent', () => {
    const sut = new ZodValidationPipe(AdRequestSchema);
    const base = { userId: 'u1', surface: 'home_feed', country: 'US', device: 'mobile' };
    expect(sut.transform({ ...base, adPositions: [2, 5, 9] }).adPositions).toEqual([2, 5, 9]);
    expect(sut.transform(base).adPositions).toBeUndefined();
  });

  it.each([
    ['out of order', [4, 2], /adPositions.*strictly increasing/],
    ['repeated', [3, 3], /adPositions.*strictly increasing/],
    ['negative', [-1, 2], /adPositions\[0\]: expected number to be >=0/],
    ['fractional', [1.5], /adPositions\[0\]: expected an integer/],
    ['empty', [], /adPositions/],
    ['too many', Array.from({ length: 51 }, (_, i) => i), /adPositions/],
  ])('refuses adPositions %s as invalid_request naming the field', (_what, adPositions, message) => {
    const error = rejection({ adPositions });
    expect(error).toBeInstanceOf(AdfunnelError);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(message);
  });
});
