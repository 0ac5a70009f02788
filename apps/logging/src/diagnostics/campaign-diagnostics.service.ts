import { AdEntity, AdvertiserEntity, CampaignEntity } from '@adfunnel/catalog';
import {
  type AdDiagnostics,
  AdfunnelError,
  type CampaignDiagnostics,
  type EventType,
} from '@adfunnel/contracts';
import {
  AD_COUNTS,
  type AdCounts,
  type CampaignFacts,
  type CampaignWindowCounts,
  type CountedSince,
  comparedSince,
  DeliveryReader,
  type DeliveryWindow,
  diagnose,
  windowBounds,
  windowSince,
  zeroCounts,
} from '@adfunnel/delivery-diagnostics';
import { CampaignDaySpendEntity, LedgerEntryEntity, TrackingEventEntity } from '@adfunnel/event-store';
import { Clock, InjectConfig } from '@adfunnel/platform';
import { billingDay, isTimeZone, usdToMicros } from '@adfunnel/utility';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LoggingConfig } from '../config.js';
import { ReportAccess } from '../reports/report-access.service.js';

export const DEFAULT_WINDOW_MINUTES = 60;
/** The answer lists this many of the campaign's ads, the most served (then retrieved) first. */
export const TOP_ADS = 10;

const ID = /^[1-9]\d{0,15}$/;
const MINUTES = /^\d{1,5}$/;
const EVENT_COUNT: Record<EventType, 'impressions' | 'clicks' | 'conversions' | 'hides'> = {
  impression: 'impressions',
  click: 'clicks',
  conversion: 'conversions',
  hide: 'hides',
};

/**
 * "Why isn't campaign X serving": the serving stages' delivery counts over a window (summed from the
 * minutes their flushers wrote to Redis), the impressions, clicks and conversions logging stored in
 * that window (from the event store, not counted again), and what the catalog and the ledger say
 * about the campaign now, put into words by the diagnosis. An advertiser (its API key) may ask about
 * its own campaigns only; an operator (ADMIN_TOKEN) about any.
 */
@Injectable()
export class CampaignDiagnosticsService {
  private readonly maxMinutes: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly access: ReportAccess,
    private readonly reader: DeliveryReader,
    private readonly clock: Clock,
    @InjectConfig() config: LoggingConfig,
  ) {
    this.maxMinutes = config.DELIVERY_RETENTION_MINUTES;
  }

  async campaign(authorization: unknown, rawId: string, rawQuery: unknown): Promise<CampaignDiagnostics> {
    const scope = await this.access.scopeOf(authorization);
    const campaignId = parseCampaignId(rawId);
    const minutes = parseWindowMinutes(rawQuery, this.maxMinutes);
    const campaign = await this.dataSource.getRepository(CampaignEntity).findOneBy({ id: campaignId });
    // Another advertiser's campaign is answered like one that does not exist: ids are not disclosed.
    if (campaign === null || (scope !== 'all' && campaign.advertiserId !== scope)) {
      throw new AdfunnelError(
        'not_found',
        scope === 'all'
          ? `there is no campaign ${campaignId}`
          : `advertiser ${scope} has no campaign ${campaignId}`,
      );
    }
    const now = this.clock.now();
    // A campaign created (or given its first ad) within the window is compared only with the
    // requests since then: those before matched nothing of it, and read as its targeting's misses otherwise.
    const [facts, firstAdCreatedAt] = await Promise.all([
      this.facts(campaign, now),
      this.firstAdCreatedAt(campaignId),
    ]);
    const start = comparedSince(campaign.createdAt, firstAdCreatedAt);
    const window = windowSince(now, minutes, start.at);
    const bounds = windowBounds(window);
    const [counts, events] = await Promise.all([
      this.reader.campaign(campaignId, window),
      this.events(campaignId, bounds.from, bounds.to),
    ]);
    return campaignAnswer(campaign, facts, withEvents(counts, events), window, minutes, start.by);
  }

  /** When the campaign's first ad was created, whatever its status now; null: it has none. */
  private async firstAdCreatedAt(campaignId: number): Promise<number | null> {
    const row = await this.dataSource
      .getRepository(AdEntity)
      .createQueryBuilder('a')
      .select('MIN(a.createdAt)', 'at')
      .where('a.campaignId = :campaignId', { campaignId })
      .getRawOne<{ at: string | number | null }>();
    return row?.at === null || row?.at === undefined ? null : Number(row.at);
  }

  private async facts(campaign: CampaignEntity, now: number): Promise<CampaignFacts> {
    const advertiser = await this.dataSource
      .getRepository(AdvertiserEntity)
      .findOneBy({ id: campaign.advertiserId });
    const timezone =
      advertiser?.timezone !== undefined && isTimeZone(advertiser.timezone) ? advertiser.timezone : 'UTC';
    const day = billingDay(now, timezone);
    const [ads, spend, lastCharge] = await Promise.all([
      this.dataSource
        .getRepository(AdEntity)
        .createQueryBuilder('a')
        .select('a.status', 'status')
        .addSelect('COUNT(*)', 'n')
        .where('a.campaignId = :id', { id: campaign.id })
        .groupBy('a.status')
        .getRawMany<{ status: string; n: string | number }>(),
      this.dataSource
        .getRepository(CampaignDaySpendEntity)
        .findOneBy({ campaignId: campaign.id, billingDay: day }),
      this.dataSource
        .getRepository(LedgerEntryEntity)
        .createQueryBuilder('l')
        .select('MAX(l.occurredAt)', 'at')
        .where('l.campaignId = :id AND l.billingDay = :day', { id: campaign.id, day })
        .getRawOne<{ at: string | number | null }>(),
    ]);
    const total = ads.reduce((sum, row) => sum + Number(row.n), 0);
    const active = ads.filter((row) => row.status === 'active').reduce((sum, row) => sum + Number(row.n), 0);
    const cap =
      campaign.frequencyCap !== null && campaign.frequencyCap > 0
        ? { max: campaign.frequencyCap, windowHours: campaign.frequencyWindowHours ?? 24 }
        : null;
    return {
      campaignId: campaign.id,
      // Serving holds an archived campaign as ended; the advertiser archived it, and reads it so.
      status: campaign.archivedAt === null ? campaign.status : 'archived',
      archivedAt: campaign.archivedAt,
      statusChangedAt: campaign.statusChangedAt,
      pacing: campaign.pacing,
      frequencyCap: cap,
      targetCountries: campaign.targetCountries,
      targetDevices: campaign.targetDevices,
      ads: { total, active },
      today: {
        billingDay: day,
        timezone,
        // The ledger's budget of the day once it has charged; until then the campaign's own.
        budgetMicros: spend?.budgetMicros ?? usdToMicros(campaign.dailyBudget),
        spendMicros: spend?.chargedMicros ?? 0,
        lastChargeAt: lastCharge?.at === null || lastCharge?.at === undefined ? null : Number(lastCharge.at),
      },
    };
  }

  /** The events stored for the campaign that happened in [from, to), per ad and type. */
  private events(
    campaignId: number,
    from: number,
    to: number,
  ): Promise<{ adId: number; type: EventType; n: string | number }[]> {
    return this.dataSource
      .getRepository(TrackingEventEntity)
      .createQueryBuilder('e')
      .select('e.adId', 'adId')
      .addSelect('e.type', 'type')
      .addSelect('COUNT(*)', 'n')
      .where('e.campaignId = :campaignId AND e.occurredAt >= :from AND e.occurredAt < :to', {
        campaignId,
        from,
        to,
      })
      .groupBy('e.adId')
      .addGroupBy('e.type')
      .getRawMany();
  }
}

/** The window of `?minutes=`: a whole number of minutes from 1 to `maxMinutes`, 60 (or less) if absent. */
export function parseWindowMinutes(rawQuery: unknown, maxMinutes: number): number {
  const query = (rawQuery ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(query).filter((key) => key !== 'minutes');
  if (unknown.length > 0) {
    throw new AdfunnelError(
      'invalid_request',
      `unknown query parameter ${unknown.map((key) => `"${key}"`).join(', ')}: the only one is minutes`,
    );
  }
  const raw = query['minutes'];
  if (raw === undefined) return Math.min(DEFAULT_WINDOW_MINUTES, maxMinutes);
  const text = typeof raw === 'string' ? raw.trim() : '';
  const minutes = MINUTES.test(text) ? Number(text) : Number.NaN;
  if (!(minutes >= 1 && minutes <= maxMinutes)) {
    throw new AdfunnelError(
      'invalid_request',
      `minutes must be a whole number from 1 to ${maxMinutes} (the counts are kept ${maxMinutes} minutes, DELIVERY_RETENTION_MINUTES); got ${JSON.stringify(raw)}`,
    );
  }
  return minutes;
}

export function parseCampaignId(raw: string): number {
  if (!ID.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new AdfunnelError('invalid_request', `campaignId must be a positive integer; got "${raw}"`);
  }
  return Number(raw);
}

/** The stages' counts with the event store's impressions, clicks, conversions and hides in place. */
export function withEvents(
  counts: CampaignWindowCounts,
  events: readonly { adId: number; type: EventType; n: string | number }[],
): CampaignWindowCounts {
  const campaign = { ...counts.campaign, impressions: 0, clicks: 0, conversions: 0, hides: 0 };
  const ads = new Map(counts.ads);
  for (const row of events) {
    const name = EVENT_COUNT[row.type];
    const n = Number(row.n);
    campaign[name] += n;
    if (name === 'hides') continue;
    const adId = Number(row.adId);
    const ad = { ...(ads.get(adId) ?? zeroCounts(AD_COUNTS)) };
    ad[name] += n;
    ads.set(adId, ad);
  }
  return { campaign, ads, totals: counts.totals };
}

export function topAds(ads: ReadonlyMap<number, AdCounts>): AdDiagnostics[] {
  return [...ads]
    .map(([adId, counts]) => ({ adId, ...counts }))
    .sort((a, b) => b.served - a.served || b.retrieved - a.retrieved || a.adId - b.adId)
    .slice(0, TOP_ADS);
}

/**
 * The answer for one campaign: its window's counts (events merged in) diagnosed against what the
 * catalog and the ledger say now. `window`: as windowSince made it, cut to the campaign's creation
 * (or its first ad's, `startedBy`: comparedSince) when that falls within the `requestedMinutes` asked for.
 */
export function campaignAnswer(
  campaign: Pick<CampaignEntity, 'id' | 'advertiserId'>,
  facts: CampaignFacts,
  merged: CampaignWindowCounts,
  window: DeliveryWindow,
  requestedMinutes: number,
  startedBy: CountedSince['by'] = 'campaign_created',
): CampaignDiagnostics {
  const bounds = windowBounds(window);
  const since = window.since === undefined ? undefined : { at: window.since.at, by: startedBy };
  const diagnosis = diagnose(facts, merged, requestedMinutes, since);
  return {
    campaignId: campaign.id,
    advertiserId: campaign.advertiserId,
    window: {
      minutes: window.toMinute - window.fromMinute + 1,
      requestedMinutes,
      from: new Date(bounds.from).toISOString(),
      to: new Date(bounds.to).toISOString(),
      since: since === undefined ? null : since.by,
    },
    status: {
      campaign: facts.status,
      ads: facts.ads,
      budget: {
        billingDay: facts.today.billingDay,
        timezone: facts.today.timezone,
        dailyBudgetMicros: facts.today.budgetMicros,
        spendMicros: facts.today.spendMicros,
        remainingMicros: Math.max(0, facts.today.budgetMicros - facts.today.spendMicros),
      },
      frequencyCap: facts.frequencyCap,
      targeting: { countries: facts.targetCountries, devices: facts.targetDevices },
    },
    ...diagnosis,
    ads: topAds(merged.ads),
  };
}
