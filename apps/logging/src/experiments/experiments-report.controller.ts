import { readFile } from 'node:fs/promises';
import { AdfunnelError } from '@adfunnel/contracts';
import {
  type ArmShares,
  ArmSharesSchema,
  type ExperimentAnalysis,
  analyzeExperiments,
  parseExperimentConfigJson,
  resolvePrePeriod,
  sharesOfConfig,
} from '@adfunnel/experiments';
import { AdminTokenGuard, Clock, formatZodError } from '@adfunnel/platform';
import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { experimentRequestRows } from './experiment-request-rows.js';

const HOUR_MS = 3_600_000;
const ExperimentsReportQuerySchema = z.strictObject({
  /** How far back from now (the funnel's clock), in ms. */
  windowMs: z.coerce
    .number()
    .int()
    .positive()
    .max(90 * 24 * HOUR_MS)
    .default(HOUR_MS),
  /** Leave out requests younger than this, whose clicks may still come. */
  settleMs: z.coerce.number().int().nonnegative().max(HOUR_MS).default(0),
  /** The most recent labelled requests to look at, at most. */
  limit: z.coerce.number().int().positive().max(2_000_000).default(500_000),
  /** Only requests whose id starts so: one traffic run's (the simulator's are `sim-<run id>-<n>`). */
  requestIdPrefix: z.string().min(1).max(128).optional(),
  /** The configured shares as JSON (ArmShares; the CLI's --config sends them), else EXPERIMENTS_CONFIG's. */
  shares: z.string().max(100_000).optional(),
  /** The CUPED pre-period: from and to (ISO 8601 with a zone, or epoch ms), ending at or before the window's start... */
  preFrom: z.string().min(1).max(40).optional(),
  preTo: z.string().min(1).max(40).optional(),
  /** Only pre-period requests whose id starts so; the window's requestIdPrefix does not apply to the pre-period. */
  preRequestIdPrefix: z.string().min(1).max(128).optional(),
  /** ...or the N days before the window's start. */
  preDays: z.coerce.number().positive().max(90).optional(),
  /** The series' buckets: UTC days (default) or hours. */
  bucket: z.enum(['day', 'hour']).default('day'),
});

export interface ExperimentsReport extends ExperimentAnalysis {
  window: { since: number; until: number; limit: number; requests: number; truncated: boolean };
  /** The CUPED pre-period read (at most `limit` requests, the most recent first), or null without one. */
  prePeriod: { since: number; until: number; limit: number; requests: number; truncated: boolean } | null;
  /** Where the shares of the sample-ratio checks came from; null with `problem` when none. */
  shares: { source: 'query' | 'EXPERIMENTS_CONFIG'; path?: string } | null;
  sharesProblem?: string;
}

/**
 * The experiments' per-arm analysis (libs/experiments' analyzeExperiments) over the window's labelled
 * served requests, their events and the ledger's charges. Operators only (ADMIN_TOKEN).
 */
@Controller('v1/reports')
@UseGuards(AdminTokenGuard)
export class ExperimentsReportController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** ?windowMs=3600000&settleMs=0&limit=500000&requestIdPrefix=sim-1-&shares={...}&preDays=1&bucket=hour */
  @Get('experiments')
  @Header('Cache-Control', 'no-store')
  async experiments(@Query() rawQuery: unknown): Promise<ExperimentsReport> {
    const parsed = ExperimentsReportQuerySchema.safeParse(rawQuery ?? {});
    if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
    const {
      windowMs,
      settleMs,
      limit,
      requestIdPrefix,
      preRequestIdPrefix,
      shares: sharesJson,
      bucket,
    } = parsed.data;
    const until = this.clock.now() - settleMs;
    const since = until - windowMs;
    let pre: { since: number; until: number } | undefined;
    try {
      pre = resolvePrePeriod(parsed.data, { since, until });
    } catch (err) {
      throw new AdfunnelError('invalid_request', (err as Error).message);
    }
    const shares = await this.sharesOf(sharesJson);
    const { rows, truncated } = await experimentRequestRows(this.dataSource, {
      since,
      until,
      limit,
      ...(requestIdPrefix === undefined ? {} : { requestIdPrefix }),
    });
    // The pre-period: every request served then, labelled or not (the users' arms then do not matter),
    // of any traffic run unless preRequestIdPrefix says which; the analysis keeps the window's users'.
    const preRead =
      pre === undefined
        ? undefined
        : await experimentRequestRows(this.dataSource, {
            ...pre,
            limit,
            labelledOnly: false,
            ...(preRequestIdPrefix === undefined ? {} : { requestIdPrefix: preRequestIdPrefix }),
          });
    const analysis = analyzeExperiments(rows, {
      ...(shares.shares === undefined ? {} : { shares: shares.shares }),
      ...(preRead === undefined ? {} : { preRows: preRead.rows }),
      bucket,
    });
    return {
      window: { since, until, limit, requests: rows.length, truncated },
      prePeriod:
        pre === undefined || preRead === undefined
          ? null
          : { ...pre, limit, requests: preRead.rows.length, truncated: preRead.truncated },
      shares: shares.source,
      ...(shares.problem === undefined ? {} : { sharesProblem: shares.problem }),
      ...analysis,
    };
  }

  /**
   * The query's shares, else those of the file EXPERIMENTS_CONFIG names in logging's environment (the
   * gateway's file, read on each report since the gateway reloads it), else none: the sample-ratio
   * checks are then left out, saying why.
   */
  private async sharesOf(json: string | undefined): Promise<{
    shares?: ArmShares;
    source: ExperimentsReport['shares'];
    problem?: string;
  }> {
    if (json !== undefined) {
      let value: unknown;
      try {
        value = JSON.parse(json);
      } catch (err) {
        throw new AdfunnelError('invalid_request', `shares: not JSON (${(err as Error).message})`);
      }
      const parsed = ArmSharesSchema.safeParse(value);
      if (!parsed.success) {
        throw new AdfunnelError('invalid_request', `shares: ${formatZodError(parsed.error)}`);
      }
      return { shares: parsed.data, source: { source: 'query' } };
    }
    // Not in LoggingConfig: logging serves without it, and only this report reads it.
    const path = process.env['EXPERIMENTS_CONFIG'];
    if (path === undefined || path === '') {
      return { source: null, problem: 'no shares: pass shares=, or set EXPERIMENTS_CONFIG on logging' };
    }
    try {
      const config = parseExperimentConfigJson(await readFile(path, 'utf8'));
      return { shares: sharesOfConfig(config), source: { source: 'EXPERIMENTS_CONFIG', path } };
    } catch (err) {
      return { source: null, problem: `EXPERIMENTS_CONFIG: ${path}: ${(err as Error).message}` };
    }
  }
}
