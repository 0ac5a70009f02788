import { CatalogSnapshotService } from '@adfunnel/catalog';
import { AdfunnelError, type ScoreRequest, type ScoreResponse } from '@adfunnel/contracts';
import {
  type AdFeatureInput,
  FEATURE_SPEC,
  assertInterestProfile,
  buildFeatureMatrix,
  categoryMixturesOf,
  featureRequestOf,
  featureSpecFingerprint,
} from '@adfunnel/features';
import { assertBeforeDeadline } from '@adfunnel/platform';
import { Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import { ServingCalibration } from './calibration/serving-calibration.service.js';
import { RankingModelService } from './ranking-model.service.js';
import { ShadowModelService } from './shadow/shadow-model.service.js';

const LISTED_UNKNOWN_IDS = 10;

@Injectable()
export class RankingService implements OnModuleDestroy {
  private readonly logger = new Logger(RankingService.name);
  private readonly featureSpec = featureSpecFingerprint();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly model: RankingModelService,
    private readonly shadow: ShadowModelService,
    @Optional() private readonly calibration?: ServingCalibration,
  ) {
    // The ads' category mixtures are decoded once per snapshot (~40 ms for 10,000 ads), as it is
    // swapped in, before any request sees it; a snapshot loaded earlier is decoded by its first request.
    this.unsubscribe = catalog.onChange((snapshot) => {
      const started = performance.now();
      categoryMixturesOf(snapshot.ads);
      this.logger.log(
        `category mixtures of catalog ${snapshot.version} decoded in ${(performance.now() - started).toFixed(0)} ms`,
      );
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  async score(request: ScoreRequest, now = Date.now()): Promise<ScoreResponse> {
    const { requestId, user, adIds } = request;
    assertBeforeDeadline('ranking', request, now);
    assertInterestProfile(user.interests);
    const snapshot = this.catalog.snapshot();
    const ads: AdFeatureInput[] = [];
    const unknown: number[] = [];
    for (const id of adIds) {
      const ad = snapshot.byId.get(id);
      if (ad) ads.push(ad);
      else unknown.push(id);
    }
    if (unknown.length > 0) {
      const listed = unknown.slice(0, LISTED_UNKNOWN_IDS).join(', ');
      const more =
        unknown.length > LISTED_UNKNOWN_IDS ? ` and ${unknown.length - LISTED_UNKNOWN_IDS} more` : '';
      throw new AdfunnelError(
        'invalid_request',
        `adIds: unknown ad id${unknown.length > 1 ? 's' : ''} ${listed}${more} (not in catalog ${snapshot.version})`,
      );
    }

    const started = performance.now();
    const dim = FEATURE_SPEC.dim;
    const features = buildFeatureMatrix(
      featureRequestOf(
        { interests: user.interests, device: user.device, known: user.known, activity: user.activity },
        request.surface,
        { query: request.query, contextAdId: request.contextAdId },
        snapshot,
      ),
      ads,
    );
    const featuresMs = performance.now() - started;
    const { pCtr, pCvr, pHide, modelVersion } = await this.shadow.alongside(
      { requestId, surface: request.surface, adIds },
      features,
      ads.length,
      dim,
      () => this.model.score(features, ads.length, dim),
    );
    this.logger.debug({
      msg: 'scored',
      requestId,
      userId: user.userId,
      ads: ads.length,
      modelVersion,
      featuresMs: round3(featuresMs),
      ms: round3(performance.now() - started),
    });
    return {
      modelVersion,
      ...this.calibrated(modelVersion, request, pCtr),
      pCvr: Array.from(pCvr),
      ...(pHide === undefined ? {} : { pHide: Array.from(pHide) }),
      featureSpec: this.featureSpec,
      catalogVersion: snapshot.version,
    };
  }

  /** pCtr through the model version's calibrator, the model's own beside it; the model's alone without one. */
  private calibrated(
    modelVersion: string,
    { surface, adIds }: ScoreRequest,
    pCtr: Float32Array,
  ): Pick<ScoreResponse, 'pCtr' | 'pCtrRaw' | 'calibration'> {
    const calibrated = this.calibration?.apply(modelVersion, surface, adIds, pCtr);
    if (!calibrated) return { pCtr: Array.from(pCtr) };
    return { pCtr: calibrated.pCtr, pCtrRaw: Array.from(pCtr), calibration: calibrated.id };
  }
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
