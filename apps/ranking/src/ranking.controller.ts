import { Rpc, type ScoreRequest, type ScoreResponse } from '@adfunnel/contracts';
import { RejectExpired, ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RankingMetrics } from './ranking-metrics.js';
import { RankingService } from './ranking.service.js';

@Controller()
export class RankingController {
  constructor(
    private readonly ranking: RankingService,
    private readonly metrics: RankingMetrics,
  ) {}

  /** Served in the queue group main.ts gives runService (QueueGroups.ranking), so replicas share requests. */
  @MessagePattern(Rpc.rankingScore.pattern)
  @RejectExpired('ranking')
  async score(
    @Payload(new ZodValidationPipe(Rpc.rankingScore.request)) request: ScoreRequest,
  ): Promise<ScoreResponse> {
    const response = await this.ranking.score(request);
    this.metrics.scored(request.surface, response);
    return response;
  }
}
