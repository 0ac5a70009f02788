import type { AdRequest, Degradation, ServedAd, ServedRecord } from '@adfunnel/contracts';
import { Rpc } from '@adfunnel/contracts';
import { BusClient, InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger } from '@nestjs/common';
import type { GatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';

/**
 * Hands the served-ad record (with the exact feature rows ranking scored) to logging over the bus,
 * after the answer has gone out. Logging acknowledges only once the record is queued in Redis.
 */
@Injectable()
export class ServedRecordPublisher {
  private readonly logger = new Logger(ServedRecordPublisher.name);
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly bus: BusClient,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  publish(request: AdRequest, trace: FunnelTrace, ads: readonly ServedAd[], degraded: Degradation[]): void {
    if (ads.length === 0) return;
    const record = this.toRecord(request, trace, ads, degraded);
    const sending = this.bus
      .call(Rpc.loggingServed, record, { timeoutMs: this.config.LOGGING_TIMEOUT_MS })
      .then(
        () => undefined,
        (err: unknown) =>
          this.logger.error({
            msg: 'served record not accepted by logging',
            requestId: record.requestId,
            error: (err as Error).message,
          }),
      )
      .finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Waits for records still on their way (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private toRecord(
    request: AdRequest,
    trace: FunnelTrace,
    ads: readonly ServedAd[],
    degraded: Degradation[],
  ): ServedRecord {
    const { scores, auction, candidates } = trace;
    const rowOf = new Map<number, number>();
    candidates?.adIds.forEach((adId, i) => rowOf.set(adId, i));
    const features = scores ? decodeRows(scores.features.rowsBase64) : null;
    const dim = scores?.features.dim ?? 0;
    const winners = new Map((auction?.winners ?? []).map((w) => [w.adId, w]));
    return {
      requestId: trace.requestId,
      servedAt: trace.servedAt,
      userId: request.userId,
      surface: request.surface,
      country: request.country,
      device: request.device,
      modelVersion: scores?.modelVersion ?? null,
      featureDim: scores ? dim : null,
      degraded,
      ads: ads.map((ad) => {
        const winner = winners.get(ad.adId)!;
        const row = rowOf.get(ad.adId);
        return {
          slot: ad.slot,
          adId: ad.adId,
          campaignId: ad.campaignId,
          advertiserId: ad.advertiserId,
          bidType: winner.bidType,
          bid: winner.bid,
          price: winner.price,
          pCtr: winner.pCtr,
          pCvr: winner.pCvr,
          features:
            features && row !== undefined ? Array.from(features.subarray(row * dim, (row + 1) * dim)) : null,
        };
      }),
    };
  }
}

function decodeRows(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  // Copy into an aligned buffer: a Buffer's offset into its pool need not be a multiple of 4.
  const aligned = new ArrayBuffer(bytes.byteLength - (bytes.byteLength % 4));
  new Uint8Array(aligned).set(bytes.subarray(0, aligned.byteLength));
  return new Float32Array(aligned);
}
