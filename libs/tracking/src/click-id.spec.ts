import { describe, expect, it } from '@jest/globals';
import { CLICK_ID_PARAM } from '@adfunnel/contracts';
import { landingUrlWithClickId } from './click-id.js';

const clickId = '0123456789abcdef0123456789abcdef';

describe(landingUrlWithClickId.name, () => {
  it('adds the click id to a URL without a query', () => {
    expect(landingUrlWithClickId('https://shop.example.com/p/42', clickId)).toBe(
      `https://shop.example.com/p/42?${CLICK_ID_PARAM}=${clickId}`,
    );
  });

  it('keeps the existing query as written and the fragment after it', () => {
    const sut = landingUrlWithClickId(
      'https://shop.example.com/p/42?utm_source=adfunnel&q=a%20b+c&empty=#reviews',
      clickId,
    );
    expect(sut).toBe(
      `https://shop.example.com/p/42?utm_source=adfunnel&q=a%20b+c&empty=&adf_click_id=${clickId}#reviews`,
    );
    const url = new URL(sut);
    expect(url.hash).toBe('#reviews');
    expect(url.searchParams.get('q')).toBe('a b c');
    expect(url.searchParams.get(CLICK_ID_PARAM)).toBe(clickId);
  });

  it('replaces a click id the landing URL already carried instead of adding a second one', () => {
    const sut = new URL(
      landingUrlWithClickId(`https://shop.example.com/?${CLICK_ID_PARAM}=stale&x=1`, clickId),
    );
    expect(sut.searchParams.getAll(CLICK_ID_PARAM)).toEqual([clickId]);
    expect(sut.searchParams.get('x')).toBe('1');
  });
});
