import { Rpc, type CandidatesRequest, type CandidatesResponse } from '@adfunnel/contracts';
import { ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RetrievalService } from './retrieval.service.js';

@Controller()
export class RetrievalController {
  constructor(private readonly retrieval: RetrievalService) {}

  /** Served in the queue group main.ts gives runService (QueueGroups.retrieval), so replicas share requests. */
  @MessagePattern(Rpc.retrievalCandidates.pattern)
  candidates(
    @Payload(new ZodValidationPipe(Rpc.retrievalCandidates.request)) request: CandidatesRequest,
  ): CandidatesResponse {
    return this.retrieval.candidates(request);
  }
}
