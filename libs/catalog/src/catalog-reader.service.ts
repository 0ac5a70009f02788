import type { BidType, CampaignStatus, Pacing } from '@adfunnel/contracts';
import { EMBEDDING_DIM, topicIndex } from '@adfunnel/features';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type SelectQueryBuilder } from 'typeorm';
import type { AdStatus, CatalogAd, CatalogUserProfile } from './catalog-ad.js';
import { catalogChangeMark } from './catalog-change-mark.js';
import { AdEntity } from './entities/ad.entity.js';
import { AdvertiserEntity } from './entities/advertiser.entity.js';
import { CampaignEntity } from './entities/campaign.entity.js';
import { UserProfileEntity } from './entities/user-profile.entity.js';
import { Float32JsonTransformer } from './transformers/float32-json.transformer.js';
import { jsonStrings } from './transformers/json-array.transformer.js';

interface AdRow {
  id: number;
  campaignId: number;
  advertiserId: number;
  title: string;
  text: string;
  imageUrl: string;
  landingUrl: string;
  category: string;
  status: string;
  embedding: string;
  cStatus: string;
  cAdvertiserId: number;
  bidType: string;
  bid: number;
  dailyBudget: number;
  targetCountries: string;
  targetDevices: string;
  timezone: string;
  clickWindowDays: number;
  pacing: string;
  frequencyCap: number | null;
  frequencyWindowHours: number | null;
  reserveCpm: number | null;
}

/** Ads a query of adPages reads: a few milliseconds of blocking each. */
export const AD_PAGE_SIZE = 100;

/** Reads ads (with their campaign) and user profiles. Raw rows, not entities: 10k ads load in tens of ms. */
@Injectable()
export class CatalogReader {
  private readonly logger = new Logger(CatalogReader.name);

  constructor(private readonly dataSource: DataSource) {}

  /** Every ad joined with its campaign, all statuses, in id order; consumers filter. */
  async loadAds(): Promise<CatalogAd[]> {
    const started = performance.now();
    const rows = await this.adQuery().orderBy('a.id', 'ASC').getRawMany<AdRow>();
    const ads = rows.map((row) => toCatalogAd(row));
    this.logger.debug(`loaded ${ads.length} ads in ${(performance.now() - started).toFixed(1)} ms`);
    return ads;
  }

  /**
   * Every ad as loadAds reads them, in id order, `pageSize` a query (keyset by id), yielding to the
   * event loop between pages: a query and its rows block the process (better-sqlite3 is synchronous),
   * 3-10 ms per 250 ads on a busy machine. Pages are read at different instants, so a write during the read can
   * show in some and not others; the snapshot feed reloads after any write it did not see whole.
   */
  async *adPages(pageSize = AD_PAGE_SIZE): AsyncGenerator<CatalogAd[]> {
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new RangeError(`pageSize must be a positive integer, got ${String(pageSize)}`);
    }
    let after: number | undefined;
    for (;;) {
      const query = this.adQuery();
      if (after !== undefined) query.where('a.id > :after', { after });
      const rows = await query.orderBy('a.id', 'ASC').limit(pageSize).getRawMany<AdRow>();
      if (rows.length === 0) return;
      const page = rows.map((row) => toCatalogAd(row));
      yield page;
      if (rows.length < pageSize) return;
      after = page[page.length - 1].id;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async findAd(id: number): Promise<CatalogAd | null> {
    if (!Number.isSafeInteger(id)) throw new TypeError(`ad id must be an integer, got ${String(id)}`);
    const row = await this.adQuery().where('a.id = :id', { id }).getRawOne<AdRow>();
    return row === undefined ? null : toCatalogAd(row);
  }

  /** The writers' change mark (markCatalogChanged); null when none was written. */
  changeMark(): Promise<string | null> {
    return catalogChangeMark(this.dataSource);
  }

  async findUserProfile(userId: string): Promise<CatalogUserProfile | null> {
    const profile = await this.dataSource.getRepository(UserProfileEntity).findOneBy({ userId });
    if (profile === null) return null;
    return {
      userId: profile.userId,
      country: profile.country,
      device: profile.device,
      ageBand: profile.ageBand,
      gender: profile.gender,
    };
  }

  private adQuery(): SelectQueryBuilder<AdEntity> {
    return this.dataSource
      .createQueryBuilder(AdEntity, 'a')
      .innerJoin(CampaignEntity, 'c', 'c.id = a.campaignId')
      .innerJoin(AdvertiserEntity, 'adv', 'adv.id = c.advertiserId')
      .select('a.id', 'id')
      .addSelect('a.campaignId', 'campaignId')
      .addSelect('a.advertiserId', 'advertiserId')
      .addSelect('a.title', 'title')
      .addSelect('a.text', 'text')
      .addSelect('a.imageUrl', 'imageUrl')
      .addSelect('a.landingUrl', 'landingUrl')
      .addSelect('a.category', 'category')
      .addSelect('a.status', 'status')
      .addSelect('a.embedding', 'embedding')
      .addSelect('c.status', 'cStatus')
      .addSelect('c.advertiserId', 'cAdvertiserId')
      .addSelect('c.bidType', 'bidType')
      .addSelect('c.bid', 'bid')
      .addSelect('c.dailyBudget', 'dailyBudget')
      .addSelect('c.targetCountries', 'targetCountries')
      .addSelect('c.targetDevices', 'targetDevices')
      .addSelect('adv.timezone', 'timezone')
      .addSelect('c.clickWindowDays', 'clickWindowDays')
      .addSelect('c.pacing', 'pacing')
      .addSelect('c.frequencyCap', 'frequencyCap')
      .addSelect('c.frequencyWindowHours', 'frequencyWindowHours')
      .addSelect('c.reserveCpm', 'reserveCpm');
  }
}

function toCatalogAd(row: AdRow): CatalogAd {
  return {
    id: Number(row.id),
    campaignId: Number(row.campaignId),
    advertiserId: Number(row.advertiserId),
    title: row.title,
    text: row.text,
    imageUrl: row.imageUrl,
    landingUrl: row.landingUrl,
    category: row.category,
    categoryIndex: topicIndex(row.category),
    status: row.status as AdStatus,
    embedding: Float32JsonTransformer.parse(row.embedding, EMBEDDING_DIM),
    campaign: {
      id: Number(row.campaignId),
      advertiserId: Number(row.cAdvertiserId),
      status: row.cStatus as CampaignStatus,
      bidType: row.bidType as BidType,
      bid: Number(row.bid),
      dailyBudget: Number(row.dailyBudget),
      targetCountries: jsonStrings.from(row.targetCountries) ?? [],
      targetDevices: jsonStrings.from(row.targetDevices) ?? [],
      timezone: row.timezone,
      clickWindowDays: Number(row.clickWindowDays),
      pacing: row.pacing as Pacing,
      frequencyCap: nullableNumber(row.frequencyCap),
      frequencyWindowHours: nullableNumber(row.frequencyWindowHours),
      reserveCpm: nullableNumber(row.reserveCpm),
    },
  };
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}
