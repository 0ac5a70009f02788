import { CLICK_ID_PARAM } from '@adfunnel/contracts';

/**
 * The landing URL with the click id added. The existing query is kept byte for byte (re-serialising
 * it through URLSearchParams would re-encode what the advertiser wrote), and so are path and fragment.
 */
export function landingUrlWithClickId(landingUrl: string, clickId: string): string {
  const url = new URL(landingUrl);
  if (url.searchParams.has(CLICK_ID_PARAM)) {
    url.searchParams.set(CLICK_ID_PARAM, clickId);
    return url.toString();
  }
  const pair = `${CLICK_ID_PARAM}=${encodeURIComponent(clickId)}`;
  url.search = url.search.length > 1 ? `${url.search}&${pair}` : `?${pair}`;
  return url.toString();
}
