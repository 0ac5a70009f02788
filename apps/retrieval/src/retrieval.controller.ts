import { Rpc, type CandidatesRequest, type CandidatesResponse } from '@adfunnel/contracts';
import { RejectExpired, ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ExhaustedCampaignsService } from './budget/exhausted-campaigns.service.js';
import { ServingExclusionsService } from './budget/serving-exclusions.service.js';
import { RetrievalDelivery } from './diagnostics/retrieval-delivery.js';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';
import { RetrievalMetrics } from './retrieval-metrics.js';
import { RetrievalService } from './retrieval.service.js';

@Controller()
export class RetrievalController {
  constructor(
    private readonly retrieval: RetrievalService,
    private readonly exclusions: ServingExclusionsService,
    private readonly budget: ExhaustedCampaignsService,
    private readonly metrics: RetrievalMetrics,
    private readonly delivery: RetrievalDelivery,
    private readonly lifecycle: IndexLifecycleService,
  ) {}

  /** Served in the queue group main.ts gives runService (QueueGroups.retrieval), so replicas share requests. */
  @MessagePattern(Rpc.retrievalCandidates.pattern)
  // Before the exclusions' Redis read, not only in the service after it.
  @RejectExpired('retrieval')
  async candidates(
    @Payload(new ZodValidationPipe(Rpc.retrievalCandidates.request)) request: CandidatesRequest,
  ): Promise<CandidatesResponse> {
    // The budget sets forRequest starts from (it reads them before its first await).
    const budget = this.budget.exclusions();
    const exclude = await this.exclusions.forRequest(request.requestId, request.user.userId);
    const towers = await this.retrieval.towerCandidates(request, exclude);
    const response = this.retrieval.candidates(request, Date.now(), exclude, towers);
    this.metrics.answered(request.surface, response);
    const { country, device } = request.user;
    this.delivery.counted(this.lifecycle.candidates(), country, device, budget, exclude, response.adIds);
    return response;
  }
}
