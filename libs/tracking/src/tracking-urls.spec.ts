import { describe, expect, it } from '@jest/globals';
import type { ServedAdClaims } from '@adfunnel/contracts';
import { SignedEventToken } from './signed-event-token.js';
import { TrackingTokenError } from './tracking-token.error.js';
import { trackingUrls } from './tracking-urls.js';

const secret = 'unit-test-secret-0123456789';
const claims: ServedAdClaims = {
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

const tokenOf = (url: string) => new URL(url).searchParams.get('t')!;

describe(trackingUrls.name, () => {
  it('builds impression, click and hide URLs, each with a token of its own kind over the claims', () => {
    const sut = trackingUrls({ baseUrl: 'https://t.example.com/', claims, secret });
    const impression = new URL(sut.impressionUrl);
    const click = new URL(sut.clickUrl);
    const hide = new URL(sut.hideUrl);
    expect(`${impression.origin}${impression.pathname}`).toBe('https://t.example.com/v1/events/impression');
    expect(`${click.origin}${click.pathname}`).toBe('https://t.example.com/v1/events/click');
    expect(`${hide.origin}${hide.pathname}`).toBe('https://t.example.com/v1/events/hide');
    expect(SignedEventToken.verify(tokenOf(sut.hideUrl), secret, 1_500, 'hide')).toEqual({
      ...claims,
      k: 'hide',
    });
    expect(SignedEventToken.verify(tokenOf(sut.impressionUrl), secret, 1_500, 'impression')).toEqual({
      ...claims,
      k: 'impression',
    });
    expect(SignedEventToken.verify(tokenOf(sut.clickUrl), secret, 1_500, 'click')).toEqual({
      ...claims,
      k: 'click',
    });
  });

  it('gives the click URL a token the impression endpoint refuses, and the other way round', () => {
    const sut = trackingUrls({ baseUrl: 'https://t.example.com', claims, secret });
    expect(tokenOf(sut.clickUrl)).not.toBe(tokenOf(sut.impressionUrl));
    expect(() => SignedEventToken.verify(tokenOf(sut.clickUrl), secret, 1_500, 'impression')).toThrow(
      new TrackingTokenError('wrong_type', 'tracking token is a click token, not an impression token'),
    );
    expect(() => SignedEventToken.verify(tokenOf(sut.impressionUrl), secret, 1_500, 'click')).toThrow(
      'tracking token is an impression token, not a click token',
    );
    expect(() => SignedEventToken.verify(tokenOf(sut.impressionUrl), secret, 1_500, 'hide')).toThrow(
      'tracking token is an impression token, not a hide token',
    );
    expect(() => SignedEventToken.verify(tokenOf(sut.hideUrl), secret, 1_500, 'click')).toThrow(
      'tracking token is a hide token, not a click token',
    );
  });

  it('rejects a base URL that is not absolute http(s)', () => {
    expect(() => trackingUrls({ baseUrl: '/relative', claims, secret })).toThrow(/not an absolute URL/);
    expect(() => trackingUrls({ baseUrl: 'ftp://x', claims, secret })).toThrow(/must be http\(s\)/);
  });
});
