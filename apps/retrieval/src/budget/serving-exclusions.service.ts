import {
  BudgetRedis,
  type FrequencyCap,
  FrequencyCapStore,
  defaultFrequencyCap,
  frequencyCapOf,
} from '@adfunnel/budget';
import { type CatalogSnapshot, CatalogSnapshotService } from '@adfunnel/catalog';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { ExhaustedCampaignsService } from './exhausted-campaigns.service.js';

/** While Redis fails, one warning per this long rather than one per request. */
const WARN_EVERY_MS = 10_000;

/**
 * The campaigns one request may not see: those that have spent today's budget (from memory) and
 * those that have reached their frequency cap for this user (one Redis read). A failed read serves
 * the request without caps: the auction still reserves budget for every winner.
 */
@Injectable()
export class ServingExclusionsService {
  private readonly logger = new Logger(ServingExclusionsService.name);
  private readonly fallback: FrequencyCap;
  private caps: { version: string; caps: ReadonlyMap<number, FrequencyCap> } | undefined;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly exhausted: ExhaustedCampaignsService,
    private readonly frequencyCaps: FrequencyCapStore,
    private readonly redis: BudgetRedis,
    private readonly clock: Clock,
    @InjectConfig() config: RetrievalConfig,
  ) {
    this.fallback = defaultFrequencyCap(config);
  }

  async forRequest(requestId: string, userId: string, now = this.clock.now()): Promise<ReadonlySet<number>> {
    const exhausted = this.exhausted.current();
    const caps = this.capsOf(this.catalog.snapshot());
    if (caps.size === 0) return exhausted;
    let capped: Set<number>;
    try {
      capped = await this.frequencyCaps.cappedCampaigns(userId, caps, now);
    } catch (error) {
      if (now - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = now;
        this.logger.warn({
          msg: 'frequency caps unreadable; serving without them',
          requestId,
          userId,
          error: this.redis.explain(error),
        });
      }
      return exhausted;
    }
    if (capped.size === 0) return exhausted;
    for (const id of exhausted) capped.add(id);
    return capped;
  }

  /** The cap of every active campaign that has one, computed once per catalog version. */
  private capsOf(snapshot: CatalogSnapshot): ReadonlyMap<number, FrequencyCap> {
    if (this.caps?.version === snapshot.version) return this.caps.caps;
    const caps = new Map<number, FrequencyCap>();
    for (const { campaign } of snapshot.ads) {
      if (campaign.status !== 'active' || caps.has(campaign.id)) continue;
      const cap = frequencyCapOf(campaign, this.fallback);
      if (cap !== undefined) caps.set(campaign.id, cap);
    }
    this.caps = { version: snapshot.version, caps };
    return caps;
  }
}
