import { Rpc, type AuctionRequest, type AuctionResponse } from '@adfunnel/contracts';
import { ZodValidationPipe } from '@adfunnel/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuctionService } from './auction.service.js';

@Controller()
export class AuctionController {
  constructor(private readonly auction: AuctionService) {}

  @MessagePattern(Rpc.auctionRun.pattern)
  run(@Payload(new ZodValidationPipe(Rpc.auctionRun.request)) request: AuctionRequest): AuctionResponse {
    return this.auction.run(request);
  }
}
