import { CatalogReader } from '@adfunnel/catalog';
import type { AdRequest, UserContext } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import { Injectable } from '@nestjs/common';
import { InjectConfig } from '@adfunnel/platform';
import type { GatewayConfig } from '../config.js';

interface CachedProfile {
  interests: number[] | null;
  expiresAt: number;
}

/**
 * The user side of a request, computed once and passed to every stage. Profiles are read through a
 * small LRU with a TTL, so a hot user costs one database read per TTL, and updates still show up.
 */
@Injectable()
export class UserProfileService {
  private readonly cache = new Map<string, CachedProfile>();
  private readonly unknownInterests: number[] = new Array<number>(TOPIC_COUNT).fill(0);

  constructor(
    private readonly catalog: CatalogReader,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  async userContext(request: AdRequest, now = Date.now()): Promise<UserContext> {
    const interests = await this.interestsOf(request.userId, now);
    return {
      userId: request.userId,
      country: request.country,
      device: request.device,
      interests: interests ?? this.unknownInterests,
      known: interests !== null,
    };
  }

  private async interestsOf(userId: string, now: number): Promise<number[] | null> {
    const hit = this.cache.get(userId);
    if (hit && hit.expiresAt > now) {
      this.cache.delete(userId);
      this.cache.set(userId, hit);
      return hit.interests;
    }
    const profile = await this.catalog.findUserProfile(userId);
    const interests = profile && profile.interests.length === TOPIC_COUNT ? profile.interests : null;
    if (this.config.PROFILE_CACHE_SIZE > 0) {
      this.cache.delete(userId);
      this.cache.set(userId, { interests, expiresAt: now + this.config.PROFILE_CACHE_TTL_MS });
      if (this.cache.size > this.config.PROFILE_CACHE_SIZE) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    return interests;
  }
}
