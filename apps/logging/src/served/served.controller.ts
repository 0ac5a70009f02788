import { AdfunnelError, Rpc, type ServedAck, type ServedBatch, type ServedRecord } from '@adfunnel/contracts';
import { ZodValidationPipe } from '@adfunnel/platform';
import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { LoggingQueuesService } from '../queues/logging-queues.service.js';

/** Bus handler: the gateway hands over what it served; the record is queued, then acknowledged. */
@Controller()
export class ServedController {
  private readonly logger = new Logger(ServedController.name);

  constructor(private readonly queues: LoggingQueuesService) {}

  @MessagePattern(Rpc.loggingServed.pattern)
  async served(
    @Payload(new ZodValidationPipe(Rpc.loggingServed.request)) batch: ServedBatch,
  ): Promise<ServedAck> {
    batch.records.forEach((record, i) => assertConsistent(record, `records[${i}]`));
    const jobId = await this.queues.enqueueServed(batch.records);
    this.logger.debug(`${batch.records.length} served records queued as ${jobId}`);
    return { accepted: batch.records.length };
  }
}

/** What the schema cannot say: slots are the row key, and a feature row must match the declared width. */
function assertConsistent(record: ServedRecord, at: string): void {
  const slots = new Set<number>();
  for (const ad of record.ads) {
    if (slots.has(ad.slot)) {
      throw new AdfunnelError('invalid_request', `${at}.ads: slot ${ad.slot} appears more than once`);
    }
    slots.add(ad.slot);
    if (ad.features !== null) {
      if (record.featureDim === null) {
        throw new AdfunnelError(
          'invalid_request',
          `${at}.ads: slot ${ad.slot} has features but featureDim is null`,
        );
      }
      if (ad.features.length !== record.featureDim) {
        throw new AdfunnelError(
          'invalid_request',
          `${at}.ads: slot ${ad.slot} has ${ad.features.length} features, expected featureDim ${record.featureDim}`,
        );
      }
    }
  }
}
