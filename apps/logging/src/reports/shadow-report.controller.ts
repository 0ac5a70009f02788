import { AdfunnelError } from '@adfunnel/contracts';
import { type ShadowReportRow, shadowComparisonReport } from '@adfunnel/event-store';
import { AdminTokenGuard, formatZodError } from '@adfunnel/platform';
import { Controller, Get, Header, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';

const instant = z
  .union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true })])
  .transform((value) => (typeof value === 'number' ? value : Date.parse(value)));
const ShadowReportQuerySchema = z.strictObject({
  shadowVersion: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a version directory name' })
    .optional(),
  /** Epoch ms or ISO 8601, on the funnel's clock as ranking stamps it. */
  since: instant.optional(),
  until: instant.optional(),
  limit: z.coerce.number().int().min(1).max(200_000).default(50_000),
});

export interface ShadowReport {
  /** One entry per (live version, shadow version) pair seen in the window. */
  comparisons: ShadowReportRow[];
}

/**
 * Live against shadow model on the same shown ads (ranking's shadow log joined to impressions and
 * clicks): logloss, AUC, predicted/observed and rank correlation. Operators only (ADMIN_TOKEN).
 */
@Controller('v1/reports')
@UseGuards(AdminTokenGuard)
export class ShadowReportController {
  constructor(private readonly dataSource: DataSource) {}

  /** ?shadowVersion=&since=&until=&limit= */
  @Get('shadow')
  @Header('Cache-Control', 'no-store')
  async shadow(@Query() rawQuery: unknown): Promise<ShadowReport> {
    const parsed = ShadowReportQuerySchema.safeParse(rawQuery);
    if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
    const { shadowVersion, since, until, limit } = parsed.data;
    const comparisons = await shadowComparisonReport(this.dataSource, {
      limit,
      ...(shadowVersion === undefined ? {} : { shadowVersion }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    });
    return { comparisons };
  }
}
