import { BudgetRedis, FrequencyCapStore } from '@adfunnel/budget';
import { InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { AuctionConfig } from '../config.js';

/** While Redis fails, one warning per this long rather than one per request. */
const WARN_EVERY_MS = 10_000;

/**
 * The user's recent ad exposure for the utility's fatigue term: a count of the ads the funnel served
 * the user, decayed with AUCTION_EXPOSURE_HALF_LIFE_MS, kept beside the frequency caps (one HMGET
 * per auction; the winners are added by the frequency-cap call the admission makes anyway). Without
 * Redis the exposure is unknown and the auction runs without the fatigue term.
 */
@Injectable()
export class UserExposureService {
  private readonly logger = new Logger(UserExposureService.name);
  readonly halfLifeMs: number;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly frequencyCaps: FrequencyCapStore,
    private readonly redis: BudgetRedis,
    @InjectConfig() config: AuctionConfig,
  ) {
    this.halfLifeMs = config.AUCTION_EXPOSURE_HALF_LIFE_MS;
  }

  /** Undefined without a user id, or when Redis does not answer. */
  async read(requestId: string, userId: string | undefined, now: number): Promise<number | undefined> {
    if (userId === undefined) return undefined;
    try {
      return await this.frequencyCaps.exposure(userId, now, this.halfLifeMs);
    } catch (error) {
      if (now - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = now;
        this.logger.warn({
          msg: 'user exposure unavailable; ranking without the fatigue term',
          requestId,
          userId,
          error: this.redis.explain(error),
        });
      }
      return undefined;
    }
  }
}
