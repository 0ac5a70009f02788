import { Rpc, type AuctionRequest, type AuctionResponse } from '@adfunnel/contracts';
import { Clock, RejectExpired, ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuctionMetrics } from './auction-metrics.js';
import { AuctionService } from './auction.service.js';
import { UserExposureService } from './budget/user-exposure.service.js';
import { WinnerAdmissionService } from './budget/winner-admission.service.js';
import { AuctionDelivery } from './diagnostics/auction-delivery.js';

@Controller()
export class AuctionController {
  constructor(
    private readonly auction: AuctionService,
    private readonly admission: WinnerAdmissionService,
    private readonly exposure: UserExposureService,
    private readonly clock: Clock,
    private readonly metrics: AuctionMetrics,
    private readonly delivery: AuctionDelivery,
  ) {}

  @MessagePattern(Rpc.auctionRun.pattern)
  // Deadlines are wall time; a request the gateway has given up on reserves no budget.
  @RejectExpired('auction')
  async run(
    @Payload(new ZodValidationPipe(Rpc.auctionRun.request)) request: AuctionRequest,
  ): Promise<AuctionResponse> {
    // One instant per request: its pacing decisions, billing day and reservations agree.
    const now = this.clock.now();
    // The one Redis read before the auction, and only when the fatigue term counts.
    const userExposure =
      this.auction.weightsFor(request).fatigue > 0
        ? await this.exposure.read(request.requestId, request.userId, now)
        : undefined;
    const response = await this.admission.admit(
      request,
      (excludeCampaigns) => this.auction.run(request, now, userExposure, excludeCampaigns),
      now,
      this.delivery,
    );
    this.metrics.answered(request.surface, response);
    return response;
  }
}
