import type { AdRequest, Degradation, ServedAd, ServedRecord } from '@adfunnel/contracts';
import { Rpc } from '@adfunnel/contracts';
import { BusClient, InjectConfig } from '@adfunnel/platform';
import { type CatalogAd, CatalogSnapshotService } from '@adfunnel/catalog';
import { FEATURE_SPEC, buildFeatureMatrix, featureSpecFingerprint } from '@adfunnel/features';
import { Injectable, Logger } from '@nestjs/common';
import type { GatewayConfig } from '../config.js';
import type { FunnelTrace } from './funnel-trace.js';

const SEND_ATTEMPTS = 3;

/**
 * Hands the served-ad record (with the exact feature rows ranking scored) to logging over the bus,
 * after the answer has gone out, batched over SERVED_BATCH_MS so that a busy gateway sends one bus
 * message (and logging makes one Redis write) for many requests. Logging acknowledges a batch only
 * once it is queued in Redis; a batch it did not take is retried, and after SEND_ATTEMPTS dropped
 * with an error log.
 */
@Injectable()
export class ServedRecordPublisher {
  private readonly logger = new Logger(ServedRecordPublisher.name);
  private readonly inFlight = new Set<Promise<void>>();
  private buffer: ServedRecord[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  private readonly featureSpec = featureSpecFingerprint();

  constructor(
    private readonly bus: BusClient,
    private readonly catalog: CatalogSnapshotService,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  publish(request: AdRequest, trace: FunnelTrace, ads: readonly ServedAd[], degraded: Degradation[]): void {
    if (ads.length === 0) return;
    this.buffer.push(this.toRecord(request, trace, ads, degraded));
    if (this.buffer.length >= this.config.SERVED_BATCH_MAX) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.config.SERVED_BATCH_MS);
  }

  /** Sends what is buffered and waits for every batch still on its way (graceful shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.length === 0) return;
    const records = this.buffer;
    this.buffer = [];
    const sending = this.send(records).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  private async send(records: ServedRecord[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bus.call(Rpc.loggingServed, { records }, { timeoutMs: this.config.LOGGING_TIMEOUT_MS });
        return;
      } catch (err) {
        if (attempt < SEND_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
          continue;
        }
        this.logger.error({
          msg: `served records not accepted by logging after ${attempt} attempts; dropped`,
          records: records.length,
          requestIds: records.map((r) => r.requestId).slice(0, 20),
          error: (err as Error).message,
        });
        return;
      }
    }
  }

  private toRecord(
    request: AdRequest,
    trace: FunnelTrace,
    ads: readonly ServedAd[],
    degraded: Degradation[],
  ): ServedRecord {
    const { scores, auction } = trace;
    const rows = this.featureRows(request, trace, ads);
    const winners = new Map((auction?.winners ?? []).map((w) => [w.adId, w]));
    return {
      requestId: trace.requestId,
      servedAt: trace.servedAt,
      userId: request.userId,
      surface: request.surface,
      country: request.country,
      device: request.device,
      modelVersion: scores?.modelVersion ?? null,
      featureDim: rows ? FEATURE_SPEC.dim : null,
      degraded,
      ads: ads.map((ad, i) => {
        const winner = winners.get(ad.adId)!;
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
          features: rows ? Array.from(rows.subarray(i * FEATURE_SPEC.dim, (i + 1) * FEATURE_SPEC.dim)) : null,
        };
      }),
    };
  }

  /**
   * The model inputs ranking scored the served ads with, rebuilt by the same libs/features code from
   * the same inputs: the user context sent to ranking and the ads of the catalog version ranking
   * reported. Null when ranking was skipped, or when this build or this catalog snapshot differs
   * from ranking's (a deploy in progress, a catalog refresh in between): a row that might not be
   * exact is not logged as if it were.
   */
  private featureRows(request: AdRequest, trace: FunnelTrace, ads: readonly ServedAd[]): Float32Array | null {
    const { scores } = trace;
    if (!scores) return null;
    const snapshot = this.catalog.snapshot();
    if (scores.featureSpec !== this.featureSpec || scores.catalogVersion !== snapshot.version) {
      this.logger.warn({
        msg: 'served features not logged: ranking scored with another feature spec or catalog version',
        requestId: trace.requestId,
        ranking: { featureSpec: scores.featureSpec, catalogVersion: scores.catalogVersion },
        gateway: { featureSpec: this.featureSpec, catalogVersion: snapshot.version },
      });
      return null;
    }
    const adInputs = ads.map((ad) => snapshot.byId.get(ad.adId));
    if (adInputs.some((ad) => ad === undefined)) return null;
    const { interests, device, known } = trace.user;
    return buildFeatureMatrix({ interests, device, known }, request.surface, adInputs as CatalogAd[]);
  }
}
