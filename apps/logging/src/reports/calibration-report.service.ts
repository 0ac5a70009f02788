import { bearerToken } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { loggedClickOutcomes } from '@adfunnel/event-store';
import { type CalibrationReport, type LoggedOutcome, calibrationReport } from '@adfunnel/models';
import { AdminTokens, Clock, InjectConfig, formatZodError } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import type { LoggingConfig } from '../config.js';

const HOUR_MS = 3_600_000;
const CalibrationQuerySchema = z.strictObject({
  /** How far back from now (the funnel's clock), in ms. */
  windowMs: z.coerce
    .number()
    .int()
    .positive()
    .max(90 * 24 * HOUR_MS)
    .default(HOUR_MS),
  /** The most recent impressions to look at, at most. */
  limit: z.coerce.number().int().positive().max(500_000).default(50_000),
  /** Leave out impressions younger than this, whose clicks may still come. */
  settleMs: z.coerce.number().int().nonnegative().max(HOUR_MS).default(0),
  /** Only requests whose id starts so: one traffic run's (the simulator's are `sim-<run id>-<n>`). */
  requestIdPrefix: z.string().min(1).max(128).optional(),
  modelVersion: z.string().min(1).max(128).optional(),
  /** Only impressions ranking calibrated (true), or only those it did not (false). */
  calibrated: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .transform((v) => v === 'true')
    .optional(),
});

export interface CalibrationMonitor {
  window: { since: number; until: number; limit: number; impressions: number; calibratedShare: number };
  /** pCTR as served (calibrated where a calibrator applied): what the auction priced with. */
  served: CalibrationReport;
  /** The model's own pCTR on the same impressions: the ratio before calibration. */
  model: CalibrationReport;
}

/**
 * Predicted / observed clicks of the recent scored impressions, for operators (ADMIN_TOKEN or
 * REPORTS_ADMIN_TOKEN): the calibration monitor. Position is accounted for: predictions are
 * P(click | examined), so each is weighed by P(examine | slot) estimated from the same window.
 */
@Injectable()
export class CalibrationReportService {
  private readonly operatorTokens: AdminTokens;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @InjectConfig() config: LoggingConfig,
  ) {
    this.operatorTokens = new AdminTokens([config.ADMIN_TOKEN, config.REPORTS_ADMIN_TOKEN]);
  }

  async calibration(authorization: unknown, rawQuery: unknown): Promise<CalibrationMonitor> {
    if (!this.operatorTokens.configured) {
      throw new AdfunnelError('forbidden', 'the calibration report needs ADMIN_TOKEN set on logging');
    }
    if (!this.operatorTokens.accepts(bearerToken(authorization))) {
      throw new AdfunnelError(
        'unauthenticated',
        'the calibration report needs "Authorization: Bearer <ADMIN_TOKEN>"',
      );
    }
    const parsed = CalibrationQuerySchema.safeParse(rawQuery ?? {});
    if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
    const { windowMs, limit, settleMs, ...only } = parsed.data;
    const until = this.clock.now() - settleMs;
    const since = until - windowMs;
    const rows = await loggedClickOutcomes(this.dataSource, { since, until, limit, ...dropUndefined(only) });
    const model: LoggedOutcome[] = rows.map((r) => ({ ...r, predicted: r.pCtrModel }));
    const served: LoggedOutcome[] = rows.map((r) => ({ ...r, predicted: r.pCtr }));
    return {
      window: {
        since,
        until,
        limit,
        impressions: rows.length,
        calibratedShare: rows.length === 0 ? 0 : rows.filter((r) => r.calibrated).length / rows.length,
      },
      served: calibrationReport(served, model),
      model: calibrationReport(model),
    };
  }
}

function dropUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
