import { Rpc, type ScoreRequest, type ScoreResponse } from '@adfunnel/contracts';
import { RejectExpired, ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RankingService } from './ranking.service.js';

@Controller()
export class RankingController {
  constructor(private readonly ranking: RankingService) {}

  /** Served in the queue group main.ts gives runService (QueueGroups.ranking), so replicas share requests. */
  @MessagePattern(Rpc.rankingScore.pattern)
  @RejectExpired('ranking')
  score(
    @Payload(new ZodValidationPipe(Rpc.rankingScore.request)) request: ScoreRequest,
  ): Promise<ScoreResponse> {
    return this.ranking.score(request);
  }
}
