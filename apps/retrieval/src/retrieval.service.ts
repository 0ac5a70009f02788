import type { CandidatesRequest, CandidatesResponse, Surface } from '@adfunnel/contracts';
import { assertInterestProfile } from '@adfunnel/features';
import { assertBeforeDeadline, InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { RetrievalConfig } from './config.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { CandidateSources } from './sources/candidate-sources.js';
import { mergeCandidates } from './sources/merge-candidates.js';
import { quotaVariable, type SurfaceQuotas } from './sources/quotas.js';

const NO_CAMPAIGNS: ReadonlySet<number> = new Set();

/**
 * Candidates for one request from the surface's sources (RETRIEVAL_QUOTAS_<SURFACE>), each over the
 * same eligible ads, merged by quota with duplicates dropped and unused quota backfilled.
 */
@Injectable()
export class RetrievalService {
  private readonly logger = new Logger(RetrievalService.name);
  private readonly quotas: Record<Surface, SurfaceQuotas>;

  constructor(
    private readonly lifecycle: IndexLifecycleService,
    private readonly sources: CandidateSources,
    @InjectConfig() config: RetrievalConfig,
  ) {
    this.quotas = {
      home_feed: config[quotaVariable('home_feed')],
      search: config[quotaVariable('search')],
      related_items: config[quotaVariable('related_items')],
    };
  }

  /** `excludeCampaigns`: campaigns this request may not see (spent budget, frequency cap). */
  candidates(
    request: CandidatesRequest,
    now = Date.now(),
    excludeCampaigns: ReadonlySet<number> = NO_CAMPAIGNS,
  ): CandidatesResponse {
    const { requestId, user } = request;
    assertBeforeDeadline('retrieval', request, now);
    assertInterestProfile(user.interests);
    const catalog = this.lifecycle.candidates();
    const started = performance.now();
    const eligible = catalog.eligible(user.country, user.device, excludeCampaigns);
    const quotas = this.quotas[request.surface];
    const run = this.sources.forRequest({ request, catalog, eligible, excludeCampaigns, k: request.limit });
    const answers = quotas.map((q) => run(q.source));
    // The item the ads sit next to is not a candidate for its own rail.
    const exclude = new Set(request.contextAdId === undefined ? [] : [request.contextAdId]);
    const merged = mergeCandidates(
      quotas,
      answers.map((a) => a.candidates),
      request.limit,
      exclude,
    );
    const notes = Object.fromEntries(
      quotas.flatMap((q, i) => (answers[i].note === undefined ? [] : [[q.source, answers[i].note]])),
    );
    this.logger.debug({
      msg: 'candidates',
      requestId,
      userId: user.userId,
      surface: request.surface,
      known: user.known,
      eligible: eligible.count,
      excludedCampaigns: excludeCampaigns.size,
      returned: merged.adIds.length,
      taken: merged.taken,
      notes,
      indexVersion: catalog.version,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return {
      adIds: merged.adIds,
      scores: merged.scores,
      sources: merged.sources,
      eligible: eligible.count,
      indexVersion: catalog.version,
    };
  }
}
