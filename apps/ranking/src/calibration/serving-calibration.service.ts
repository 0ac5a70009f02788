import { CatalogSnapshotService } from '@adfunnel/catalog';
import type { BidType, Surface } from '@adfunnel/contracts';
import { loggedClickOutcomes } from '@adfunnel/event-store';
import { type Calibrator, type LoggedOutcome, surfaceClickRatios, fitCalibrators } from '@adfunnel/models';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RankingConfig } from '../config.js';
import { type CalibratedScores, CalibratorSet } from './calibrator-set.js';

export interface CalibrationStatus {
  enabled: boolean;
  method: RankingConfig['RANKING_CALIBRATION_METHOD'];
  refreshMs: number;
  windowMs: number;
  minClicks: number;
  fittedAt: number | null;
  /** Impressions the last fit looked at. */
  impressions: number;
  lastError: string | null;
  calibrators: CalibratorSet['calibrators'];
}

/**
 * Predicted / observed clicks per surface over the last refresh's window (position accounted for):
 * `served` with the pCTR the auctions used (calibrated where a calibrator applied), `model` with the
 * model's own. Null without clicks.
 */
export interface SurfaceCalibrationRatio {
  surface: Surface;
  served: number | null;
  model: number | null;
}

/**
 * Calibration as a serving stage: every RANKING_CALIBRATION_REFRESH_MS, off the request path, the
 * scored impressions of the last RANKING_CALIBRATION_WINDOW_MS are read from the event store with
 * their clicks and calibrators are fitted per model version, surface and bid type on the model's own
 * pCTR (position accounted for); a request then only looks its calibrator up (`apply`).
 */
@Injectable()
export class ServingCalibration implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ServingCalibration.name);
  private set = CalibratorSet.EMPTY;
  private impressions = 0;
  private ratios: readonly SurfaceCalibrationRatio[] = [];
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    @InjectConfig() private readonly config: RankingConfig,
    private readonly dataSource: DataSource,
    private readonly catalog: CatalogSnapshotService,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.config.RANKING_CALIBRATION === 'on';
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.RANKING_CALIBRATION_REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Calibrated pCtr for these ads (parallel to adIds), or null when none applies to this version and surface. */
  apply(
    modelVersion: string,
    surface: Surface,
    adIds: readonly number[],
    pCtr: ArrayLike<number>,
  ): CalibratedScores | null {
    if (!this.enabled || this.set.calibrators.length === 0) return null;
    const { byId } = this.catalog.snapshot();
    const bidTypes: BidType[] = adIds.map((id) => byId.get(id)?.campaign.bidType ?? 'CPM');
    return this.set.apply(modelVersion, surface, bidTypes, pCtr);
  }

  /** Reads the window and refits; a refresh already under way is awaited rather than doubled. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /**
   * Fits calibrators on these outcomes (the model's own pCTR as `predicted`) and serves them from now
   * on; `served` are the same impressions with the pCTR the auctions used, for the ratios. With
   * RANKING_CALIBRATION_HALF_LIFE_MS, an outcome's age (servedAt) is taken back from `fittedAt`.
   */
  install(
    outcomes: readonly LoggedOutcome[],
    fittedAt = this.clock.now(),
    served: readonly LoggedOutcome[] = outcomes,
  ): CalibratorSet {
    const calibrators = fitCalibrators(outcomes, {
      method: this.config.RANKING_CALIBRATION_METHOD,
      minClicks: this.config.RANKING_CALIBRATION_MIN_CLICKS,
      priorClicks: this.config.RANKING_CALIBRATION_PRIOR_CLICKS,
      halfLifeMs: this.config.RANKING_CALIBRATION_HALF_LIFE_MS,
      now: fittedAt,
    });
    const previous = this.set;
    this.set = new CalibratorSet(calibrators, fittedAt);
    this.impressions = outcomes.length;
    this.ratios = surfaceRatios(served, outcomes);
    this.logChanges(previous, this.set);
    return this.set;
  }

  /**
   * A refit that changes which model versions, surfaces and bid types are calibrated is logged; one
   * that refits the same ones (every RANKING_CALIBRATION_REFRESH_MS) is only a debug line in load().
   */
  private logChanges(previous: CalibratorSet, next: CalibratorSet): void {
    const before = new Set(previous.calibrators.map(calibratorName));
    const after = new Set(next.calibrators.map(calibratorName));
    const applied = [...after].filter((name) => !before.has(name));
    const dropped = [...before].filter((name) => !after.has(name));
    if (applied.length > 0) this.logger.log({ msg: 'calibrators applied', calibrators: applied });
    if (dropped.length > 0) {
      this.logger.log({
        msg:
          'calibrators dropped (fewer than RANKING_CALIBRATION_MIN_CLICKS clicks in the window, or the version ' +
          "no longer served): a bid type falls back to its surface's, a surface is served uncalibrated",
        calibrators: dropped,
      });
    }
  }

  /** The window's predicted / observed clicks by surface, as of the last successful refresh. */
  ratiosBySurface(): readonly SurfaceCalibrationRatio[] {
    return this.ratios;
  }

  status(): CalibrationStatus {
    return {
      enabled: this.enabled,
      method: this.config.RANKING_CALIBRATION_METHOD,
      refreshMs: this.config.RANKING_CALIBRATION_REFRESH_MS,
      windowMs: this.config.RANKING_CALIBRATION_WINDOW_MS,
      minClicks: this.config.RANKING_CALIBRATION_MIN_CLICKS,
      fittedAt: this.set.fittedAt === 0 ? null : this.set.fittedAt,
      impressions: this.impressions,
      lastError: this.lastError,
      calibrators: this.set.calibrators,
    };
  }

  private async load(): Promise<void> {
    const started = performance.now();
    const until = this.clock.now() - this.config.RANKING_CALIBRATION_SETTLE_MS;
    try {
      const rows = await loggedClickOutcomes(this.dataSource, {
        since: until - this.config.RANKING_CALIBRATION_WINDOW_MS,
        until,
        limit: this.config.RANKING_CALIBRATION_MAX_IMPRESSIONS,
      });
      const set = this.install(
        rows.map((r) => ({ ...r, predicted: r.pCtrModel })),
        until,
        rows.map((r) => ({ ...r, predicted: r.pCtr })),
      );
      if (this.lastError !== null) this.logger.log({ msg: 'calibration refresh works again' });
      this.lastError = null;
      this.logger.debug({
        msg: 'calibrators refitted',
        impressions: rows.length,
        calibrators: set.calibrators.map(calibratorName),
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      // The calibrators of the last good refresh keep serving.
      this.lastError = (error as Error).message;
      this.logger.warn({ msg: 'calibration refresh failed', error: this.lastError });
    }
  }
}

function calibratorName(c: Calibrator): string {
  return `${c.modelVersion}/${c.surface}/${c.bidType ?? '*'}`;
}

function surfaceRatios(
  served: readonly LoggedOutcome[],
  model: readonly LoggedOutcome[],
): SurfaceCalibrationRatio[] {
  // As logging's calibration report: the examination is estimated from the model's own predictions.
  return surfaceClickRatios([served, model], model).map(({ surface, ratios: [servedRatio, modelRatio] }) => ({
    surface,
    served: servedRatio ?? null,
    model: modelRatio ?? null,
  }));
}
