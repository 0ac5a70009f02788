import { AdfunnelError, Rpc, type ServedAck, type ServedRecord } from '@adfunnel/contracts';
import { ZodValidationPipe } from '@adfunnel/platform';
import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LoggingQueuesService } from './logging-queues.service.js';

/** Bus handler: the gateway hands over what it served; the record is queued, then acknowledged. */
@Controller()
export class ServedController {
  private readonly logger = new Logger(ServedController.name);

  constructor(private readonly queues: LoggingQueuesService) {}

  @MessagePattern(Rpc.loggingServed.pattern)
  async served(
    @Payload(new ZodValidationPipe(Rpc.loggingServed.request)) record: ServedRecord,
  ): Promise<ServedAck> {
    assertConsistent(record);
    const jobId = await this.queues.enqueueServed(record);
    this.logger.debug(`served record of request ${record.requestId} queued with ${record.ads.length} ads`);
    return { accepted: true, jobId };
  }
}

/** What the schema cannot say: slots are the row key, and a feature row must match the declared width. */
function assertConsistent(record: ServedRecord): void {
  const slots = new Set<number>();
  for (const ad of record.ads) {
    if (slots.has(ad.slot)) {
      throw new AdfunnelError('invalid_request', `ads: slot ${ad.slot} appears more than once`);
    }
    slots.add(ad.slot);
    if (ad.features !== null) {
      if (record.featureDim === null) {
        throw new AdfunnelError(
          'invalid_request',
          `ads: slot ${ad.slot} has features but featureDim is null`,
        );
      }
      if (ad.features.length !== record.featureDim) {
        throw new AdfunnelError(
          'invalid_request',
          `ads: slot ${ad.slot} has ${ad.features.length} features, expected featureDim ${record.featureDim}`,
        );
      }
    }
  }
}
