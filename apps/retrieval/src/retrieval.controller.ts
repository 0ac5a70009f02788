import { Rpc, type CandidatesRequest, type CandidatesResponse } from '@adfunnel/contracts';
import { RejectExpired, ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ServingExclusionsService } from './budget/serving-exclusions.service.js';
import { RetrievalMetrics } from './retrieval-metrics.js';
import { RetrievalService } from './retrieval.service.js';

@Controller()
export class RetrievalController {
  constructor(
    private readonly retrieval: RetrievalService,
    private readonly exclusions: ServingExclusionsService,
    private readonly metrics: RetrievalMetrics,
  ) {}

  /** Served in the queue group main.ts gives runService (QueueGroups.retrieval), so replicas share requests. */
  @MessagePattern(Rpc.retrievalCandidates.pattern)
  // Before the exclusions' Redis read, not only in the service after it.
  @RejectExpired('retrieval')
  async candidates(
    @Payload(new ZodValidationPipe(Rpc.retrievalCandidates.request)) request: CandidatesRequest,
  ): Promise<CandidatesResponse> {
    const exclude = await this.exclusions.forRequest(request.requestId, request.user.userId);
    const towers = await this.retrieval.towerCandidates(request, exclude);
    const response = this.retrieval.candidates(request, Date.now(), exclude, towers);
    this.metrics.answered(request.surface, response);
    return response;
  }
}
