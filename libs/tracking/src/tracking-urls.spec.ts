import { describe, expect, it } from '@jest/globals';
import type { TrackingClaims } from '@adfunnel/contracts';
import { SignedEventToken } from './signed-event-token.js';
import { trackingUrls } from './tracking-urls.js';

const secret = 'unit-test-secret-0123456789';
const claims: TrackingClaims = {
  v: 1,
  r: 'req-9',
  u: 'u00009',
  a: 1,
  c: 1,
  adv: 1,
  s: 2,
  bt: 'CPM',
  p: 2.5,
  t: 1_000,
  exp: 2_000,
};

describe(trackingUrls.name, () => {
  it('builds impression and click URLs whose token verifies to the claims', () => {
    const sut = trackingUrls({ baseUrl: 'https://t.example.com/', claims, secret });
    const impression = new URL(sut.impressionUrl);
    const click = new URL(sut.clickUrl);
    expect(`${impression.origin}${impression.pathname}`).toBe('https://t.example.com/v1/events/impression');
    expect(`${click.origin}${click.pathname}`).toBe('https://t.example.com/v1/events/click');
    expect(SignedEventToken.verify(impression.searchParams.get('t')!, secret, 1_500)).toEqual(claims);
    expect(SignedEventToken.verify(click.searchParams.get('t')!, secret, 1_500)).toEqual(claims);
  });

  it('rejects a base URL that is not absolute http(s)', () => {
    expect(() => trackingUrls({ baseUrl: '/relative', claims, secret })).toThrow(/not an absolute URL/);
    expect(() => trackingUrls({ baseUrl: 'ftp://x', claims, secret })).toThrow(/must be http\(s\)/);
  });
});
