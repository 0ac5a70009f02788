import {
  type ActivityReport,
  type ActivityReportAnswer,
  type AdRequestInput,
  type AdResponse,
  CLICK_ID_PARAM,
  isErrorBody,
} from '@adfunnel/contracts';

/** The funnel as a product surface and an advertiser see it: the public HTTP endpoints only. */
export interface FunnelClient {
  /** POST /v1/ads; throws FunnelCallError unless the gateway answers 200. */
  requestAds(body: AdRequestInput, requestId: string): Promise<AdResponse>;
  /** POST /v1/activity: what the user did on the product itself; throws FunnelCallError unless 200. */
  reportActivity(report: ActivityReport): Promise<ActivityReportAnswer>;
  /** GET the impression URL; expects 204. */
  impression(impressionUrl: string): Promise<void>;
  /** GET the click URL without following the redirect; expects 302. Returns the adf_click_id of the landing URL. */
  click(clickUrl: string): Promise<string>;
  /** GET the hide URL (the user's "not interested"); expects 204. */
  hide(hideUrl: string): Promise<void>;
  /** The advertiser's conversion API: POST {logging}/v1/conversions with its API key; expects 202. */
  conversion(conversion: ConversionPost): Promise<void>;
}

/** A conversion as the advertiser of the clicked ad reports it. */
export interface ConversionPost {
  /** The click URL that led to it: its origin is the logging service, unless loggingUrl is given. */
  clickUrl: string;
  clickId: string;
  advertiserId: number;
  /** The advertiser's own id of the conversion (its order id). */
  conversionId: string;
}

/** A call to the funnel that did not get the answer it expects; `status` is 0 for a network failure. */
export class FunnelCallError extends Error {
  override readonly name = 'FunnelCallError';

  constructor(
    readonly call: 'ads' | 'activity' | 'impression' | 'click' | 'conversion' | 'hide',
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface HttpFunnelClientOptions {
  gatewayUrl: string;
  /** Where conversions are posted; default: the origin of each click URL (the logging service). */
  loggingUrl?: string;
  /** Each advertiser's API key, by advertiser id: conversions are posted with the key of the ad's advertiser. */
  apiKeys: ReadonlyMap<number, string>;
  timeoutMs?: number;
}

export class HttpFunnelClient implements FunnelClient {
  private readonly gatewayUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpFunnelClientOptions) {
    this.gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async requestAds(body: AdRequestInput, requestId: string): Promise<AdResponse> {
    const res = await this.send('ads', `${this.gatewayUrl}/v1/ads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new FunnelCallError('ads', res.status, describe(res.status, text));
    return JSON.parse(text) as AdResponse;
  }

  async reportActivity(report: ActivityReport): Promise<ActivityReportAnswer> {
    const res = await this.send('activity', `${this.gatewayUrl}/v1/activity`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(report),
    });
    const text = await res.text();
    if (res.status !== 200) throw new FunnelCallError('activity', res.status, describe(res.status, text));
    return JSON.parse(text) as ActivityReportAnswer;
  }

  async impression(impressionUrl: string): Promise<void> {
    await this.expect('impression', impressionUrl, { method: 'GET' }, 204);
  }

  async hide(hideUrl: string): Promise<void> {
    await this.expect('hide', hideUrl, { method: 'GET' }, 204);
  }

  async click(clickUrl: string): Promise<string> {
    const res = await this.expect('click', clickUrl, { method: 'GET', redirect: 'manual' }, 302);
    const location = res.headers.get('location') ?? '';
    let clickId: string | null = null;
    try {
      clickId = new URL(location).searchParams.get(CLICK_ID_PARAM);
    } catch {
      // not an absolute URL: reported below
    }
    if (clickId === null || clickId === '') {
      throw new FunnelCallError(
        'click',
        302,
        `the click redirect carries no ${CLICK_ID_PARAM}: ${stripQuery(location)}`,
      );
    }
    return clickId;
  }

  async conversion(conversion: ConversionPost): Promise<void> {
    const key = this.options.apiKeys.get(conversion.advertiserId);
    if (key === undefined) {
      throw new FunnelCallError(
        'conversion',
        0,
        `no API key for advertiser ${conversion.advertiserId} (see --api-keys)`,
      );
    }
    const base = (this.options.loggingUrl ?? new URL(conversion.clickUrl).origin).replace(/\/+$/, '');
    await this.expect(
      'conversion',
      `${base}/v1/conversions`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ clickId: conversion.clickId, conversionId: conversion.conversionId }),
      },
      202,
    );
  }

  private async expect(
    call: FunnelCallError['call'],
    url: string,
    init: RequestInit,
    status: number,
  ): Promise<Response> {
    const res = await this.send(call, url, init);
    const text = await res.text();
    if (res.status !== status) {
      throw new FunnelCallError(call, res.status, `expected ${status}; ${describe(res.status, text)}`);
    }
    return res;
  }

  private async send(call: FunnelCallError['call'], url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause =
        (err as Error).cause instanceof Error ? `: ${((err as Error).cause as Error).message}` : '';
      throw new FunnelCallError(
        call,
        0,
        `${init.method ?? 'GET'} ${stripQuery(url)} failed: ${(err as Error).message}${cause}`,
      );
    }
  }
}

function describe(status: number, text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorBody(body)) return `${status} ${body.code}: ${body.message}`;
  } catch {
    // not JSON: fall through to the raw text
  }
  return `${status} ${text.slice(0, 200)}`;
}

/** Tracking tokens are long and signed; error messages name the endpoint, not the token. */
function stripQuery(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
