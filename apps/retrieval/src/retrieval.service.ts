import type { CandidatesRequest, CandidatesResponse, Surface } from '@adfunnel/contracts';
import { assertInterestProfile } from '@adfunnel/features';
import { assertBeforeDeadline, InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, Optional } from '@nestjs/common';
import type { RetrievalConfig } from './config.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { CandidateSources } from './sources/candidate-sources.js';
import { NO_CANDIDATES, mergeCandidates } from './sources/merge-candidates.js';
import { quotaCounts, quotaVariable, sourceFetchCounts, type SurfaceQuotas } from './sources/quotas.js';
import { type TowerAnswer, TwoTowerRetrievalService } from './two-tower/two-tower-retrieval.service.js';

const NO_CAMPAIGNS: ReadonlySet<number> = new Set();

/**
 * Candidates for one request from the surface's sources (RETRIEVAL_QUOTAS_<SURFACE>), each over the
 * same eligible ads, merged by quota with duplicates dropped and unused quota backfilled (from the
 * popular list last, when the surface's own sources cannot fill the limit).
 */
@Injectable()
export class RetrievalService {
  private readonly logger = new Logger(RetrievalService.name);
  private readonly quotas: Record<Surface, SurfaceQuotas>;
  private readonly headroom: number;

  constructor(
    private readonly lifecycle: IndexLifecycleService,
    private readonly sources: CandidateSources,
    @InjectConfig() config: RetrievalConfig,
    @Optional() private readonly towers?: TwoTowerRetrievalService,
  ) {
    this.headroom = config.RETRIEVAL_SOURCE_HEADROOM;
    this.quotas = {
      home_feed: config[quotaVariable('home_feed')],
      search: config[quotaVariable('search')],
      related_items: config[quotaVariable('related_items')],
    };
  }

  /**
   * The two-tower model's personalized candidates for `request` (user tower, then the ad tower's index
   * of the same version and of the catalog in service), undefined when no model serves or the surface
   * takes no `ann` share: the caller passes the answer to candidates(), which serves it as `ann`.
   */
  async towerCandidates(
    request: CandidatesRequest,
    excludeCampaigns: ReadonlySet<number> = NO_CAMPAIGNS,
  ): Promise<TowerAnswer | undefined> {
    if (this.towers === undefined || !this.quotas[request.surface].some((q) => q.source === 'ann')) {
      return undefined;
    }
    const catalogVersion = this.lifecycle.candidates().index.catalogVersion;
    return this.towers.personalized(request, catalogVersion, excludeCampaigns, request.limit);
  }

  /**
   * `excludeCampaigns`: campaigns this request may not see (spent budget, frequency cap); `towers`:
   * towerCandidates()'s answer, which replaces the heuristic `ann` source when it was computed on the
   * catalog still in service.
   */
  candidates(
    request: CandidatesRequest,
    now = Date.now(),
    excludeCampaigns: ReadonlySet<number> = NO_CAMPAIGNS,
    towers?: TowerAnswer,
  ): CandidatesResponse {
    const { requestId, user } = request;
    assertBeforeDeadline('retrieval', request, now);
    assertInterestProfile(user.interests);
    const catalog = this.lifecycle.candidates();
    const started = performance.now();
    const eligible = catalog.eligible(user.country, user.device, excludeCampaigns);
    const quotas = this.quotas[request.surface];
    const run = this.sources.forRequest({ request, catalog, eligible, excludeCampaigns, k: request.limit });
    const tower = towers?.catalogVersion === catalog.index.catalogVersion ? towers : undefined;
    // Each source asks for its quota and some headroom, not the whole limit, plus what the sources
    // before it answered short of their quotas (the merge backfills that); one the merge still runs
    // through (duplicates) is asked again for the limit.
    const fetch = sourceFetchCounts(quotas, request.limit, this.headroom);
    const counts = quotaCounts(quotas, request.limit);
    const fromTowers = (i: number) => quotas[i].source === 'ann' && tower !== undefined;
    let short = 0;
    const answers = quotas.map((q, i) => {
      if (fetch[i] < request.limit) {
        fetch[i] = Math.min(request.limit, fetch[i] + Math.ceil(short * this.headroom));
      }
      const answer = fromTowers(i)
        ? { candidates: tower!, note: `two-tower ${tower!.modelVersion}` }
        : fetch[i] === 0
          ? { candidates: NO_CANDIDATES }
          : run(q.source, fetch[i]);
      short = Math.max(0, short + counts[i] - answer.candidates.adIds.length);
      return answer;
    });
    const deeper = (i: number) => {
      const answered = answers[i].candidates.adIds.length;
      return fromTowers(i) || answered >= request.limit || answered < fetch[i]
        ? undefined
        : run(quotas[i].source).candidates;
    };
    // The item the ads sit next to is not a candidate for its own rail.
    const exclude = new Set(request.contextAdId === undefined ? [] : [request.contextAdId]);
    // A surface whose sources ran dry (a search whose words no eligible ad has) is topped up from
    // the popular list rather than answering short.
    const lastResort = quotas.some((q) => q.source === 'popular')
      ? undefined
      : { source: 'popular' as const, candidates: () => run('popular').candidates };
    const merged = mergeCandidates(
      quotas,
      answers.map((a) => a.candidates),
      request.limit,
      exclude,
      lastResort,
      deeper,
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
      towerIndexVersion: tower?.indexVersion,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return {
      adIds: merged.adIds,
      scores: merged.scores,
      sources: merged.sources,
      eligible: eligible.count,
      // The tower index's version names the model version that embedded it (and its user vector).
      indexVersion: tower === undefined ? catalog.version : `${catalog.version} ann:${tower.indexVersion}`,
    };
  }
}
