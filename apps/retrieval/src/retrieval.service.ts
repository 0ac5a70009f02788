import { AdfunnelError, type CandidatesRequest, type CandidatesResponse } from '@adfunnel/contracts';
import { TOPIC_COUNT, userEmbedding } from '@adfunnel/features';
import { Injectable, Logger } from '@nestjs/common';
import { IndexLifecycleService } from './index/index-lifecycle.service.js';

/** Candidate generation: the user's interests embedded in the ad space, searched in the live index. */
@Injectable()
export class RetrievalService {
  private readonly logger = new Logger(RetrievalService.name);

  constructor(private readonly lifecycle: IndexLifecycleService) {}

  candidates(request: CandidatesRequest, now = Date.now()): CandidatesResponse {
    const { requestId, user } = request;
    if (now >= request.deadlineAt) {
      throw new AdfunnelError(
        'timeout',
        `request ${requestId} reached retrieval ${now - request.deadlineAt} ms after its deadline`,
      );
    }
    if (user.interests.length !== TOPIC_COUNT) {
      throw new AdfunnelError(
        'invalid_request',
        `user.interests has ${user.interests.length} values, expected one per topic (${TOPIC_COUNT})`,
      );
    }
    const index = this.lifecycle.current();
    const started = performance.now();
    // All-zero interests embed to the zero vector, which the index answers from its popularity list.
    const result = index.search({
      embedding: userEmbedding(user.interests),
      country: user.country,
      device: user.device,
      k: request.limit,
    });
    this.logger.debug({
      msg: 'candidates',
      requestId,
      userId: user.userId,
      known: user.known,
      eligible: result.eligible,
      returned: result.adIds.length,
      source: result.sources[0] ?? 'none',
      indexVersion: index.version,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return { ...result, indexVersion: index.version };
  }
}
