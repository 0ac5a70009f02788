import type { ServedAdClaims, TrackingTokenKind } from '@adfunnel/contracts';
import { SignedEventToken } from './signed-event-token.js';

export interface TrackingUrlsInput {
  /** Public origin of the logging service, e.g. `https://t.example.com` (a trailing slash is ignored). */
  baseUrl: string;
  claims: ServedAdClaims;
  secret: string;
}

export interface TrackingUrls {
  impressionUrl: string;
  clickUrl: string;
  hideUrl: string;
}

/** The signed URLs a served ad carries, each with a token of its own kind that only its endpoint accepts. */
export function trackingUrls({ baseUrl, claims, secret }: TrackingUrlsInput): TrackingUrls {
  let origin: URL;
  try {
    origin = new URL(baseUrl);
  } catch {
    throw new TypeError(`tracking baseUrl is not an absolute URL: ${JSON.stringify(baseUrl)}`);
  }
  if (origin.protocol !== 'http:' && origin.protocol !== 'https:') {
    throw new TypeError(`tracking baseUrl must be http(s), got ${origin.protocol}`);
  }
  if (origin.search !== '' || origin.hash !== '') {
    throw new TypeError('tracking baseUrl must not carry a query or fragment');
  }
  const base = baseUrl.replace(/\/+$/, '');
  const token = (k: TrackingTokenKind) => encodeURIComponent(SignedEventToken.sign({ ...claims, k }, secret));
  return {
    impressionUrl: `${base}/v1/events/impression?t=${token('impression')}`,
    clickUrl: `${base}/v1/events/click?t=${token('click')}`,
    hideUrl: `${base}/v1/events/hide?t=${token('hide')}`,
  };
}
