import { AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import {
  AdfunnelError,
  type DashboardCampaignRow,
  type DashboardFunnel,
  type DashboardFunnelStage,
  type DashboardLatency,
  type DashboardLatencyRow,
  type DashboardPacingCurve,
  type DashboardPacingPoint,
  type DashboardServiceStatus,
  type DashboardSurfaceCalibration,
  type DashboardViewer,
} from '@adfunnel/contracts';
import {
  CampaignDaySpendEntity,
  LedgerEntryEntity,
  ServedAdEntity,
  TrackingEventEntity,
  campaignDayReport,
} from '@adfunnel/event-store';
import { DAY_MS, type LocalDay, TrafficCurve, localDayOf, targetSpend } from '@adfunnel/pacing';
import { Clock, formatZodError } from '@adfunnel/platform';
import { billingDay, usdToMicros } from '@adfunnel/utility';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { DashboardRedis } from './dashboard-redis.service.js';
import { MetricsScraper, type ServiceScrape } from './metrics-scraper.service.js';
import { type HistogramSummary, histogramSummaries, sumOf } from './prometheus-text.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** The pacing curve's resolution. */
const CURVE_STEP_MS = 15 * MINUTE_MS;
/** Days of request counts the traffic curve is learnt from, as the auction's PACING_HISTORY_DAYS default. */
const TRAFFIC_HISTORY_DAYS = 7;
const MAX_CAMPAIGNS = 500;

const WindowSchema = z
  .string()
  .regex(/^\d{1,4}[mhd]$/, {
    error: 'window must be a number of minutes, hours or days, such as 90m, 24h or 7d',
  })
  .transform(
    (text) => Number(text.slice(0, -1)) * { m: MINUTE_MS, h: HOUR_MS, d: DAY_MS }[text.at(-1) as 'm'],
  )
  .refine((ms) => ms >= MINUTE_MS && ms <= 31 * DAY_MS, { error: 'window must be from 1m to 31d' });
const FunnelQuerySchema = z.strictObject({ window: WindowSchema.default(24 * HOUR_MS) });
const DayQuerySchema = z.strictObject({
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'day must be a billing day as YYYY-MM-DD' })
    .optional(),
});
const NoQuerySchema = z.strictObject({});
const CampaignIdSchema = z.coerce
  .number({ error: 'the campaign id must be a positive integer' })
  .int({ error: 'the campaign id must be a positive integer' })
  .positive({ error: 'the campaign id must be a positive integer' })
  .max(Number.MAX_SAFE_INTEGER);

/**
 * The dashboard's figures, each from where the platform keeps it: the services' /metrics, the event
 * store and ledger, the catalog, and pacing in Redis. An advertiser's questions are
 * limited to its own campaigns.
 */
@Injectable()
export class DashboardService {
  private readonly logger = new Logger(DashboardService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly scraper: MetricsScraper,
    private readonly redis: DashboardRedis,
  ) {}

  async funnel(viewer: DashboardViewer, rawQuery: unknown): Promise<DashboardFunnel> {
    const { window } = parse(FunnelQuerySchema, rawQuery);
    const until = this.clock.now();
    const since = until - window;
    const advertiserId = viewer.role === 'advertiser' ? viewer.advertiserId : undefined;
    const [scrapes, served, events] = await Promise.all([
      viewer.role === 'operator' ? this.scraper.scrapeAll() : Promise.resolve([]),
      this.servedSince(since, advertiserId),
      this.eventsSince(since, advertiserId),
    ]);
    const fromMetrics = (stage: string, service: string, metric: string): DashboardFunnelStage => {
      const scrape = scrapes.find((s) => s.service === service);
      return { stage, count: scrape?.available ? sumOf(scrape.samples, metric) : null, source: 'metrics' };
    };
    const stages: DashboardFunnelStage[] = [];
    if (viewer.role === 'operator') {
      stages.push(
        fromMetrics('requests', 'gateway', 'adfunnel_gateway_ad_answers_total'),
        fromMetrics('retrieved', 'retrieval', 'adfunnel_retrieval_candidates_total'),
        fromMetrics('ranked', 'ranking', 'adfunnel_ranking_scored_candidates_total'),
        fromMetrics('auctioned', 'auction', 'adfunnel_auction_candidates_total'),
      );
    }
    stages.push(
      { stage: 'served', count: served, source: 'events' },
      { stage: 'impressions', count: events.impression, source: 'events' },
      { stage: 'clicks', count: events.click, source: 'events' },
      { stage: 'conversions', count: events.conversion, source: 'events' },
    );
    return { since, until, stages, services: scrapes.map(serviceStatus) };
  }

  async campaigns(viewer: DashboardViewer, rawQuery: unknown): Promise<DashboardCampaignRow[]> {
    parse(NoQuerySchema, rawQuery);
    const now = this.clock.now();
    const campaigns = await this.campaignsOf(viewer);
    if (campaigns.length === 0) return [];
    const days = campaigns.map((c) => billingDay(now, c.timezone));
    const sorted = [...new Set(days)].sort();
    const report = await campaignDayReport(this.dataSource, {
      from: sorted[0],
      to: sorted[sorted.length - 1],
      ...(viewer.role === 'advertiser' ? { advertiserId: viewer.advertiserId } : {}),
    });
    const byKey = new Map(report.map((r) => [`${r.campaignId}:${r.billingDay}`, r]));
    const rates = await this.rates(now);
    return campaigns
      .map((c, i) => {
        const r = byKey.get(`${c.id}:${days[i]}`);
        return {
          campaignId: c.id,
          advertiserId: c.advertiserId,
          name: c.name,
          status: c.status,
          bidType: c.bidType,
          pacing: c.pacing,
          billingDay: days[i],
          timezone: c.timezone,
          budgetMicros: r?.budgetMicros ?? usdToMicros(c.dailyBudget),
          spendMicros: r?.spendMicros ?? 0,
          overdeliveredMicros: r?.overdeliveredMicros ?? 0,
          impressions: r?.impressions ?? 0,
          clicks: r?.clicks ?? 0,
          conversions: r?.conversions ?? 0,
          passThroughRate: c.pacing === 'even' ? (rates?.get(c.id) ?? null) : null,
        };
      })
      .sort((a, b) => b.spendMicros - a.spendMicros || a.campaignId - b.campaignId)
      .slice(0, MAX_CAMPAIGNS);
  }

  async pacingCurve(
    viewer: DashboardViewer,
    rawId: unknown,
    rawQuery: unknown,
  ): Promise<DashboardPacingCurve> {
    const campaign = await this.campaignFor(viewer, rawId);
    const query = parse(DayQuerySchema, rawQuery);
    const now = this.clock.now();
    const day =
      query.day === undefined ? localDayOf(now, campaign.timezone) : namedDay(query.day, campaign.timezone);
    const utcDayStart = Math.floor(day.startMs / DAY_MS) * DAY_MS;
    const [history, spendRow, buckets, rates] = await Promise.all([
      this.redis.pacing
        .requestCounts(utcDayStart - TRAFFIC_HISTORY_DAYS * DAY_MS, utcDayStart)
        .catch((error) => {
          this.logger.warn(
            `pacing traffic history unreadable, the target curve is flat: ${(error as Error).message}`,
          );
          return [];
        }),
      this.dataSource
        .getRepository(CampaignDaySpendEntity)
        .findOneBy({ campaignId: campaign.id, billingDay: day.day }),
      this.spendBuckets(campaign.id, day.day),
      this.rates(now),
    ]);
    const traffic = TrafficCurve.learn(history);
    const learntTraffic = traffic.shares.some((s) => Math.abs(s - 1 / 24) > 1e-9);
    const budgetMicros = spendRow?.budgetMicros ?? usdToMicros(campaign.dailyBudget);
    const points: DashboardPacingPoint[] = [];
    let spent = 0;
    let next = 0;
    for (let t = day.startMs; ; t = Math.min(t + CURVE_STEP_MS, day.endMs)) {
      while (next < buckets.length && buckets[next].bucket * CURVE_STEP_MS < t)
        spent += buckets[next++].micros;
      points.push({
        t,
        targetMicros: Math.round(targetSpend(budgetMicros, traffic, day, t)),
        spendMicros: t <= now + CURVE_STEP_MS ? spent : null,
      });
      if (t >= day.endMs) break;
    }
    return {
      campaignId: campaign.id,
      day: day.day,
      timezone: campaign.timezone,
      startMs: day.startMs,
      endMs: day.endMs,
      budgetMicros,
      points,
      passThroughRate: campaign.pacing === 'even' ? (rates?.get(campaign.id) ?? null) : null,
      learntTraffic,
    };
  }

  async latency(): Promise<DashboardLatency> {
    const scrapes = await this.scraper.scrapeAll();
    const rows: DashboardLatencyRow[] = [];
    const add = (service: string, kind: DashboardLatencyRow['kind'], summaries: HistogramSummary[]) => {
      for (const h of summaries) {
        if (h.count === 0) continue;
        rows.push({
          service,
          kind,
          stage: h.key,
          count: h.count,
          p50Ms: ms(h.p50),
          p90Ms: ms(h.p90),
          p99Ms: ms(h.p99),
        });
      }
    };
    for (const scrape of scrapes) {
      if (!scrape.available) continue;
      const s = scrape.samples;
      add(scrape.service, 'phase', histogramSummaries(s, 'adfunnel_gateway_phase_duration_seconds', 'phase'));
      add(scrape.service, 'bus', histogramSummaries(s, 'adfunnel_bus_handle_duration_seconds', 'pattern'));
      add(
        scrape.service,
        'http',
        histogramSummaries(s, 'adfunnel_http_request_duration_seconds', 'route').filter(
          (h) =>
            h.key !== '/metrics' &&
            h.key !== '/health' &&
            !h.key.startsWith('/dashboard') &&
            !h.key.startsWith('/v1/dashboard') &&
            h.key !== 'unmatched',
        ),
      );
    }
    return { services: scrapes.map((s) => ({ ...serviceStatus(s), url: s.url })), rows };
  }

  /** Per surface, from the calibration monitor's report (ranking's pCTR as served and as the model gave it). */
  surfaceCalibration(
    served: { bySurface: CalibrationRow[] },
    model: { bySurface: CalibrationRow[] },
  ): DashboardSurfaceCalibration[] {
    const modelBy = new Map(model.bySurface.map((g) => [g.key, g]));
    return served.bySurface.map((g) => ({
      surface: g.key,
      impressions: g.impressions,
      clicks: g.clicks,
      expectedClicks: g.expectedClicks,
      servedRatio: g.ratio,
      modelRatio: modelBy.get(g.key)?.ratio ?? null,
    }));
  }

  private async campaignsOf(
    viewer: DashboardViewer,
    campaignId?: number,
  ): Promise<(CampaignEntity & { timezone: string })[]> {
    const query = this.dataSource
      .getRepository(CampaignEntity)
      .createQueryBuilder('c')
      .innerJoin(AdvertiserEntity, 'a', 'a.id = c.advertiserId')
      .addSelect('a.timezone', 'timezone')
      .orderBy('c.id');
    if (viewer.role === 'advertiser') query.andWhere('c.advertiserId = :advertiserId', viewer);
    if (campaignId !== undefined) query.andWhere('c.id = :campaignId', { campaignId });
    const { entities, raw } = await query.getRawAndEntities<{ timezone: string | null }>();
    return entities.map((c, i) => Object.assign(c, { timezone: raw[i]?.timezone ?? 'UTC' }));
  }

  /** The campaign the path names, if the viewer may see it: another advertiser's is 404, as a missing one. */
  private async campaignFor(
    viewer: DashboardViewer,
    rawId: unknown,
  ): Promise<CampaignEntity & { timezone: string }> {
    const parsed = CampaignIdSchema.safeParse(rawId);
    if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
    const [campaign] = await this.campaignsOf(viewer, parsed.data);
    if (campaign === undefined) {
      throw new AdfunnelError(
        'not_found',
        viewer.role === 'advertiser'
          ? `advertiser ${viewer.advertiserId} has no campaign ${parsed.data}`
          : `no campaign ${parsed.data}`,
      );
    }
    return campaign;
  }

  /** Charged micros per 15 minutes of the campaign's billing day, in time order. */
  private async spendBuckets(campaignId: number, day: string): Promise<{ bucket: number; micros: number }[]> {
    const rows = await this.dataSource
      .getRepository(LedgerEntryEntity)
      .createQueryBuilder('l')
      // Integer division on both databases: occurred_at is an integer column.
      .select(`l.occurredAt / ${CURVE_STEP_MS}`, 'bucket')
      .addSelect('SUM(l.chargedMicros)', 'micros')
      .where('l.campaignId = :campaignId AND l.billingDay = :day', { campaignId, day })
      .groupBy('bucket')
      .orderBy('bucket')
      .getRawMany<{ bucket: string | number; micros: string | number }>();
    return rows.map((r) => ({ bucket: Math.floor(Number(r.bucket)), micros: Number(r.micros) }));
  }

  private async servedSince(since: number, advertiserId?: number): Promise<number> {
    const query = this.dataSource
      .getRepository(ServedAdEntity)
      .createQueryBuilder('s')
      .where('s.servedAt >= :since', { since });
    if (advertiserId !== undefined) query.andWhere('s.advertiserId = :advertiserId', { advertiserId });
    return query.getCount();
  }

  private async eventsSince(since: number, advertiserId?: number): Promise<Record<string, number>> {
    const query = this.dataSource
      .getRepository(TrackingEventEntity)
      .createQueryBuilder('e')
      .select('e.type', 'type')
      .addSelect('COUNT(*)', 'n')
      .where('e.occurredAt >= :since', { since })
      .groupBy('e.type');
    if (advertiserId !== undefined) query.andWhere('e.advertiserId = :advertiserId', { advertiserId });
    const rows = await query.getRawMany<{ type: string; n: string | number }>();
    const counts: Record<string, number> = { impression: 0, click: 0, conversion: 0, hide: 0 };
    for (const r of rows) counts[r.type] = Number(r.n);
    return counts;
  }

  /** The pacing rates in force now; undefined when Redis cannot be read (the column shows none). */
  private async rates(now: number): Promise<Map<number, number> | undefined> {
    try {
      const rates = await this.redis.pacing.rates();
      return new Map([...rates].filter(([, r]) => r.validUntilMs > now).map(([id, r]) => [id, r.rate]));
    } catch (error) {
      this.logger.warn(`pacing rates unreadable: ${(error as Error).message}`);
      return undefined;
    }
  }
}

interface CalibrationRow {
  key: string;
  impressions: number;
  clicks: number;
  expectedClicks: number;
  ratio: number | null;
}

function parse<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) throw new AdfunnelError('invalid_request', formatZodError(parsed.error));
  return parsed.data;
}

/** The local day named `day` in `timeZone` (noon UTC of that date falls in it, bar the farthest zones). */
function namedDay(day: string, timeZone: string): LocalDay {
  const noon = Date.parse(`${day}T12:00:00Z`);
  if (Number.isNaN(noon))
    throw new AdfunnelError('invalid_request', `day must be a calendar date; got "${day}"`);
  for (const shift of [0, -12 * HOUR_MS, 12 * HOUR_MS]) {
    const local = localDayOf(noon + shift, timeZone);
    if (local.day === day) return local;
  }
  throw new AdfunnelError('invalid_request', `day must be a calendar date; got "${day}"`);
}

function serviceStatus(s: ServiceScrape): DashboardServiceStatus {
  return s.available
    ? { service: s.service, available: true }
    : { service: s.service, available: false, error: s.error };
}

function ms(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 1e6) / 1e3;
}
