import type { AdvertiserAccount, ApiKeyInfo, IssuedApiKey } from '@adfunnel/catalog';

export type AdvertiserView = Omit<AdvertiserAccount, 'createdAt'> & { createdAt: string };

/** A key as listed: what is stored of it, never the key. */
export interface ApiKeyView {
  keyHash: string;
  advertiserId: number;
  label: string;
  status: 'active' | 'revoked';
  createdAt: string;
  revokedAt: string | null;
}

/** A key as issued: the only answer that holds the key itself. */
export type IssuedApiKeyView = ApiKeyView & { key: string };

export function advertiserView(advertiser: AdvertiserAccount): AdvertiserView {
  return { ...advertiser, createdAt: new Date(advertiser.createdAt).toISOString() };
}

export function apiKeyView(key: ApiKeyInfo): ApiKeyView {
  return {
    keyHash: key.keyHash,
    advertiserId: key.advertiserId,
    label: key.label,
    status: key.revokedAt === null ? 'active' : 'revoked',
    createdAt: new Date(key.createdAt).toISOString(),
    revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
  };
}

export function issuedApiKeyView(issued: IssuedApiKey): IssuedApiKeyView {
  return { key: issued.key, ...apiKeyView({ ...issued, revokedAt: null }) };
}
