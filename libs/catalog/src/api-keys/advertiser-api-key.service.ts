import { Injectable, Logger } from '@nestjs/common';
import { DataSource, In, IsNull } from 'typeorm';
import { AdvertiserApiKeyEntity } from '../entities/advertiser-api-key.entity.js';
import { AdvertiserEntity } from '../entities/advertiser.entity.js';
import { apiKeyHash, generateApiKey, isApiKeyFormat, isApiKeyHash } from './api-key.js';

const MAX_LABEL_LENGTH = 100;
/** Far below the bound-parameter limits of SQLite and PostgreSQL. */
const ROWS_PER_STATEMENT = 500;

/** A key as issued: the only moment the key itself exists outside the advertiser's hands. */
export interface IssuedApiKey {
  advertiserId: number;
  key: string;
  keyHash: string;
  label: string;
  createdAt: number;
}

/** What is kept of a key, and all anyone is shown of it after its issue: never the key. */
export interface ApiKeyInfo {
  advertiserId: number;
  keyHash: string;
  label: string;
  createdAt: number;
  revokedAt: number | null;
}

export type ApiKeyVerdict =
  | { valid: true; advertiserId: number; keyHash: string }
  | { valid: false; reason: 'malformed' | 'unknown' | 'revoked' };

export type RevokeOutcome = 'revoked' | 'already_revoked' | 'unknown';

/** A mistake in what was asked of the key store: an advertiser that does not exist, a bad label or hash. */
export class ApiKeyError extends Error {
  override readonly name = 'ApiKeyError';
}

/**
 * Advertisers' API keys: issued at random, stored as SHA-256 only, checked by looking the hash up
 * (the key is never compared character by character with a stored secret), revoked by hash. A plain
 * class over the DataSource, for the advertiser API, the logging service and the catalog CLI alike.
 */
@Injectable()
export class AdvertiserApiKeyService {
  private readonly logger = new Logger(AdvertiserApiKeyService.name);

  constructor(private readonly dataSource: DataSource) {}

  /** One new key per advertiser, in the order given; nothing is issued if one advertiser is missing. */
  async issue(advertiserIds: readonly number[], label: string, now = Date.now()): Promise<IssuedApiKey[]> {
    checkLabel(label);
    const wanted = [...new Set(advertiserIds)];
    const invalid = wanted.find((id) => !Number.isSafeInteger(id) || id < 1);
    if (invalid !== undefined) {
      throw new ApiKeyError(`advertiser id must be a positive integer, got ${invalid}`);
    }
    const issued: IssuedApiKey[] = wanted.map((advertiserId) => {
      const key = generateApiKey();
      return { advertiserId, key, keyHash: apiKeyHash(key), label, createdAt: now };
    });
    await this.dataSource.transaction(async (em) => {
      for (let at = 0; at < issued.length; at += ROWS_PER_STATEMENT) {
        const chunk = issued.slice(at, at + ROWS_PER_STATEMENT);
        const ids = chunk.map((k) => k.advertiserId);
        const found = await em
          .getRepository(AdvertiserEntity)
          .find({ select: { id: true }, where: { id: In(ids) } });
        const known = new Set(found.map((a) => a.id));
        const missing = ids.filter((id) => !known.has(id));
        if (missing.length > 0) {
          throw new ApiKeyError(
            `no advertiser ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} in the catalog`,
          );
        }
        await em.getRepository(AdvertiserApiKeyEntity).insert(
          chunk.map(({ advertiserId, keyHash, createdAt }) => ({
            advertiserId,
            keyHash,
            label,
            createdAt,
            revokedAt: null,
          })),
        );
      }
    });
    this.logger.log(`issued ${issued.length} API key${issued.length === 1 ? '' : 's'} labelled "${label}"`);
    return issued;
  }

  async advertiserIds(): Promise<number[]> {
    const rows = await this.dataSource
      .getRepository(AdvertiserEntity)
      .find({ select: { id: true }, order: { id: 'ASC' } });
    return rows.map((a) => a.id);
  }

  /** An advertiser's keys, revoked ones too, oldest first. */
  async keysOf(advertiserId: number): Promise<ApiKeyInfo[]> {
    const rows = await this.dataSource
      .getRepository(AdvertiserApiKeyEntity)
      .find({ where: { advertiserId }, order: { createdAt: 'ASC', keyHash: 'ASC' } });
    return rows.map(apiKeyInfoOf);
  }

  /** One key of the advertiser's by its hash; null when it has none with that hash. */
  async keyOf(advertiserId: number, keyHash: string): Promise<ApiKeyInfo | null> {
    const row = await this.dataSource
      .getRepository(AdvertiserApiKeyEntity)
      .findOneBy({ advertiserId, keyHash });
    return row === null ? null : apiKeyInfoOf(row);
  }

  /**
   * Looked up on every call, with no cache in front: a key revoked is refused from the next request
   * on, in every service that authenticates with it.
   */
  async verify(key: string): Promise<ApiKeyVerdict> {
    if (!isApiKeyFormat(key)) return { valid: false, reason: 'malformed' };
    const keyHash = apiKeyHash(key);
    // Looked up by its hash: how long the lookup takes says nothing about how close a guess was.
    const row = await this.dataSource.getRepository(AdvertiserApiKeyEntity).findOneBy({ keyHash });
    if (row === null) return { valid: false, reason: 'unknown' };
    if (row.revokedAt !== null) return { valid: false, reason: 'revoked' };
    return { valid: true, advertiserId: row.advertiserId, keyHash };
  }

  /** With `advertiserId`, only that advertiser's key: another advertiser's is 'unknown'. */
  async revoke(keyHash: string, now = Date.now(), advertiserId?: number): Promise<RevokeOutcome> {
    if (!isApiKeyHash(keyHash)) {
      throw new ApiKeyError(
        `key hash must be 64 lower-case hex characters (the SHA-256 of the key), got ${JSON.stringify(keyHash)}`,
      );
    }
    const repo = this.dataSource.getRepository(AdvertiserApiKeyEntity);
    const key = advertiserId === undefined ? { keyHash } : { keyHash, advertiserId };
    const result = await repo.update({ ...key, revokedAt: IsNull() }, { revokedAt: now });
    if ((result.affected ?? 0) > 0) {
      this.logger.log(`API key ${keyHash.slice(0, 12)}… revoked`);
      return 'revoked';
    }
    return (await repo.existsBy(key)) ? 'already_revoked' : 'unknown';
  }
}

function apiKeyInfoOf(row: AdvertiserApiKeyEntity): ApiKeyInfo {
  const { advertiserId, keyHash, label, createdAt, revokedAt } = row;
  return { advertiserId, keyHash, label, createdAt, revokedAt };
}

function checkLabel(label: string): void {
  if (typeof label !== 'string' || label.trim() === '' || label.length > MAX_LABEL_LENGTH) {
    throw new ApiKeyError(`label must be 1-${MAX_LABEL_LENGTH} characters, got ${JSON.stringify(label)}`);
  }
}
