import type { CandidatesRequest, CandidatesResponse } from '@adfunnel/contracts';
import { assertInterestProfile, userEmbedding } from '@adfunnel/features';
import { assertBeforeDeadline } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';

const NO_CAMPAIGNS: ReadonlySet<number> = new Set();

@Injectable()
export class RetrievalService {
  private readonly logger = new Logger(RetrievalService.name);

  constructor(private readonly lifecycle: IndexLifecycleService) {}

  /** `excludeCampaigns`: campaigns this request may not see (spent budget, frequency cap). */
  candidates(
    request: CandidatesRequest,
    now = Date.now(),
    excludeCampaigns: ReadonlySet<number> = NO_CAMPAIGNS,
  ): CandidatesResponse {
    const { requestId, user } = request;
    assertBeforeDeadline('retrieval', request, now);
    assertInterestProfile(user.interests);
    const index = this.lifecycle.current();
    const started = performance.now();
    // All-zero interests embed to the zero vector, which the index answers from its popularity list.
    const result = index.search({
      embedding: userEmbedding(user.interests),
      country: user.country,
      device: user.device,
      k: request.limit,
      excludeCampaigns,
    });
    this.logger.debug({
      msg: 'candidates',
      requestId,
      userId: user.userId,
      known: user.known,
      eligible: result.eligible,
      excludedCampaigns: excludeCampaigns.size,
      returned: result.adIds.length,
      source: result.sources[0] ?? 'none',
      indexVersion: index.version,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return { ...result, indexVersion: index.version };
  }
}
