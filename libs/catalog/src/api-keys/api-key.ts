import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'adf_live_';
const API_KEY_SECRET_BYTES = 32;
/** 32 random bytes in unpadded base64url are 43 characters. */
const API_KEY_FORMAT = /^adf_live_[A-Za-z0-9_-]{43}$/;
const KEY_HASH_FORMAT = /^[0-9a-f]{64}$/;

/** A new advertiser API key: the prefix says what it is (and lets secret scanners find it), the rest is random. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(API_KEY_SECRET_BYTES).toString('base64url')}`;
}

/** What the database keeps of a key. A plain SHA-256 suffices: the key is 256 random bits, not a password. */
export function apiKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isApiKeyFormat(key: string): boolean {
  return typeof key === 'string' && API_KEY_FORMAT.test(key);
}

export function isApiKeyHash(hash: string): boolean {
  return typeof hash === 'string' && KEY_HASH_FORMAT.test(hash);
}
