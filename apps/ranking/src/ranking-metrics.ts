import { SURFACES, type ScoreResponse, type Surface } from '@adfunnel/contracts';
import { type Counter, Metrics, startAtZero } from '@adfunnel/platform';
import { Injectable, Optional } from '@nestjs/common';
import { ServingCalibration } from './calibration/serving-calibration.service.js';
import { RankingModelService } from './ranking-model.service.js';
import { ShadowModelService } from './shadow/shadow-model.service.js';

interface SurfaceCounters {
  calibrated: Counter.Internal;
  uncalibrated: Counter.Internal;
}

/**
 * Ranking on /metrics: the model versions serving (`adfunnel_model_info`, 1 per live and shadow
 * version, read at each scrape), the candidates scored by surface and whether a calibrator applied,
 * and the calibration stage's state as of its last refresh: calibrators in service, when they were
 * fitted, and predicted / observed clicks per surface with and without them.
 */
@Injectable()
export class RankingMetrics {
  private readonly surfaces: Record<Surface, SurfaceCounters>;

  constructor(
    metrics: Metrics,
    live: RankingModelService,
    shadow: ShadowModelService,
    @Optional() calibration?: ServingCalibration,
  ) {
    metrics.gauge({
      name: 'adfunnel_model_info',
      help: 'The model versions a stage serves: 1 per stage, role (live, shadow) and version',
      labelNames: ['stage', 'role', 'version'],
      collect() {
        this.reset();
        this.labels('ranking', 'live', live.current().version).set(1);
        const shadowVersion = shadow.status().version;
        if (shadowVersion !== null) this.labels('ranking', 'shadow', shadowVersion).set(1);
      },
    });
    const scored = metrics.counter({
      name: 'adfunnel_ranking_scored_candidates_total',
      help: 'Candidates scored, by surface and whether a calibrator applied to their pCTR',
      labelNames: ['surface', 'calibrated'],
    });
    this.surfaces = Object.fromEntries(
      SURFACES.map((surface) => [
        surface,
        {
          calibrated: startAtZero(scored.labels(surface, 'true')),
          uncalibrated: startAtZero(scored.labels(surface, 'false')),
        },
      ]),
    ) as Record<Surface, SurfaceCounters>;
    if (calibration?.enabled === true) this.calibrationGauges(metrics, calibration);
  }

  scored(surface: Surface, response: ScoreResponse): void {
    const counters = this.surfaces[surface];
    (response.calibration === undefined ? counters.uncalibrated : counters.calibrated).inc(
      response.pCtr.length,
    );
  }

  private calibrationGauges(metrics: Metrics, calibration: ServingCalibration): void {
    metrics.gauge({
      name: 'adfunnel_ranking_calibration_ratio',
      help: 'Predicted / observed clicks per surface over the calibration window (1 is calibrated), with the pCTR served or the model’s own',
      labelNames: ['surface', 'predictions'],
      collect() {
        this.reset();
        for (const { surface, served, model } of calibration.ratiosBySurface()) {
          if (served !== null) this.labels(surface, 'served').set(served);
          if (model !== null) this.labels(surface, 'model').set(model);
        }
      },
    });
    metrics.gauge({
      name: 'adfunnel_ranking_calibrators',
      help: 'Calibrators in service (per model version, surface and bid type)',
      collect() {
        this.set(calibration.status().calibrators.length);
      },
    });
    metrics.gauge({
      name: 'adfunnel_ranking_calibration_fitted_timestamp_seconds',
      help: 'End of the window the calibrators in service were fitted on (funnel clock); 0 before the first fit',
      collect() {
        this.set((calibration.status().fittedAt ?? 0) / 1000);
      },
    });
  }
}
