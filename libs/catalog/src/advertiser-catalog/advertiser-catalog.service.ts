import { AdfunnelError } from '@adfunnel/contracts';
import { TOPICS } from '@adfunnel/features';
import { Injectable, Logger } from '@nestjs/common';
import {
  DataSource,
  type EntityManager,
  type EntityTarget,
  type ObjectLiteral,
  type SelectQueryBuilder,
} from 'typeorm';
import { markCatalogChanged } from '../catalog-change-mark.js';
import { derivedAdEmbedding } from '../derived-ad-embedding.js';
import { AdEntity } from '../entities/ad.entity.js';
import { AdvertiserEntity } from '../entities/advertiser.entity.js';
import { CampaignEntity } from '../entities/campaign.entity.js';
import { isIanaTimeZone } from '../transformers/time-zone.transformer.js';
import {
  type AdCreative,
  type AdState,
  type AdvertiserAccount,
  type AdvertiserAd,
  type AdvertiserCampaign,
  type AdvertiserScope,
  type CampaignSettings,
  type CampaignState,
  DEFAULT_PAGE_LIMIT,
  type NewAdvertiser,
  type Page,
  type PageRequest,
  type StateChange,
} from './advertiser-catalog.types.js';

/**
 * Attempts at a new id when another writer took the same one. On PostgreSQL id allocation is serialized
 * by a transaction lock, so only a writer that inserts ids of its own (a seed) can collide; SQLite
 * serializes write transactions itself.
 */
const ID_ATTEMPTS = 5;

export interface CampaignFilter {
  status?: CampaignState | undefined;
  /** For an operator: one advertiser's campaigns only. */
  advertiserId?: number | undefined;
}

/**
 * The write side of the catalog for advertisers: advertisers onboarded (by an operator), campaigns
 * and ads created, changed, paused, resumed and archived, each write in one transaction with the
 * catalog's change mark, so serving reloads within its change poll. A lookup is always within the
 * caller's advertiser: another advertiser's campaign or ad is "not found", exactly like one that
 * does not exist.
 */
@Injectable()
export class AdvertiserCatalogService {
  private readonly logger = new Logger(AdvertiserCatalogService.name);

  constructor(private readonly dataSource: DataSource) {}

  /** A page of the advertisers, by id: the operators' view (an API key reads its own with `advertiser`). */
  async listAdvertisers(page: PageRequest = { limit: DEFAULT_PAGE_LIMIT }): Promise<Page<AdvertiserAccount>> {
    const query = this.dataSource.getRepository(AdvertiserEntity).createQueryBuilder('v');
    return pageOf(query, 'v', page, advertiserOf);
  }

  async advertiser(advertiserId: number): Promise<AdvertiserAccount> {
    const row = await this.dataSource.getRepository(AdvertiserEntity).findOneBy({ id: advertiserId });
    if (row === null) throw new AdfunnelError('not_found', `advertiser ${advertiserId} not found`);
    return advertiserOf(row);
  }

  /**
   * A new advertiser, its id the next after the largest (as a campaign's). Its time zone is checked
   * here too, not only by the column's transformer: a caller gets a 400 naming the field, not a
   * TypeError from the driver.
   */
  async createAdvertiser(advertiser: NewAdvertiser, now = Date.now()): Promise<AdvertiserAccount> {
    if (!isIanaTimeZone(advertiser.timezone)) {
      throw new AdfunnelError(
        'invalid_request',
        `timezone: ${JSON.stringify(advertiser.timezone)} is not an IANA time zone name such as UTC or Europe/Paris`,
      );
    }
    const created = await this.insertWithNewId(
      AdvertiserEntity,
      async (em, id) => {
        const row: AdvertiserEntity = Object.assign(new AdvertiserEntity(), {
          id,
          name: advertiser.name,
          timezone: advertiser.timezone,
          createdAt: now,
        });
        await em.getRepository(AdvertiserEntity).insert(row);
        return row;
      },
      // Serving reads an advertiser through its campaigns only, and the first one's create marks the change.
      { servesChange: false },
    );
    this.logger.log(`advertiser ${created.id} created (${created.timezone})`);
    return advertiserOf(created);
  }

  async listCampaigns(
    scope: AdvertiserScope,
    filter: CampaignFilter = {},
    page: PageRequest = { limit: DEFAULT_PAGE_LIMIT },
  ): Promise<Page<AdvertiserCampaign>> {
    const query = this.dataSource.getRepository(CampaignEntity).createQueryBuilder('c');
    const advertiserId = scope === 'all' ? filter.advertiserId : scope;
    if (advertiserId !== undefined) query.andWhere('c.advertiserId = :advertiserId', { advertiserId });
    if (filter.status === 'archived') query.andWhere('c.archivedAt IS NOT NULL');
    else {
      query.andWhere('c.archivedAt IS NULL');
      if (filter.status !== undefined) query.andWhere('c.status = :status', { status: filter.status });
    }
    return pageOf(query, 'c', page, campaignOf);
  }

  async campaign(scope: AdvertiserScope, campaignId: number): Promise<AdvertiserCampaign> {
    return campaignOf(await this.findCampaign(this.dataSource.manager, scope, campaignId));
  }

  async createCampaign(
    advertiserId: number,
    settings: CampaignSettings,
    status: 'active' | 'paused' = 'active',
    now = Date.now(),
  ): Promise<AdvertiserCampaign> {
    checkFrequencyCap(settings);
    const created = await this.insertWithNewId(CampaignEntity, async (em, id) => {
      if (!(await em.getRepository(AdvertiserEntity).existsBy({ id: advertiserId }))) {
        throw new AdfunnelError('not_found', `advertiser ${advertiserId} not found`);
      }
      const row: CampaignEntity = Object.assign(new CampaignEntity(), {
        id,
        advertiserId,
        ...settings,
        status,
        createdAt: now,
        archivedAt: null,
        statusChangedAt: now,
      });
      await em.getRepository(CampaignEntity).insert(row);
      return row;
    });
    this.logger.log(`campaign ${created.id} created for advertiser ${advertiserId} (${status})`);
    return campaignOf(created);
  }

  async updateCampaign(
    scope: AdvertiserScope,
    campaignId: number,
    patch: Partial<CampaignSettings>,
  ): Promise<AdvertiserCampaign> {
    return this.write(async (em) => {
      const campaign = await this.findCampaign(em, scope, campaignId);
      refuseArchived('campaign', campaign);
      const next = Object.assign(campaign, patch);
      checkFrequencyCap(next);
      await em.getRepository(CampaignEntity).save(next);
      this.logger.log(`campaign ${campaignId} updated: ${Object.keys(patch).join(', ')}`);
      return campaignOf(next);
    });
  }

  async changeCampaign(
    scope: AdvertiserScope,
    campaignId: number,
    change: StateChange,
  ): Promise<AdvertiserCampaign> {
    return this.write(async (em) => {
      const campaign = await this.findCampaign(em, scope, campaignId);
      const before = campaignOf(campaign).status;
      const after = nextState('campaign', campaignId, before, change);
      if (after === before) return campaignOf(campaign);
      const now = Date.now();
      if (after === 'archived') {
        campaign.status = 'ended';
        campaign.archivedAt = now;
      } else campaign.status = after;
      campaign.statusChangedAt = now;
      await em.getRepository(CampaignEntity).save(campaign);
      this.logger.log(`campaign ${campaignId}: ${before} -> ${after}`);
      return campaignOf(campaign);
    });
  }

  async listAds(
    scope: AdvertiserScope,
    campaignId: number,
    status?: AdState,
    page: PageRequest = { limit: DEFAULT_PAGE_LIMIT },
  ): Promise<Page<AdvertiserAd>> {
    await this.findCampaign(this.dataSource.manager, scope, campaignId);
    const query = this.dataSource
      .getRepository(AdEntity)
      .createQueryBuilder('a')
      .where('a.campaignId = :campaignId', { campaignId });
    if (status === 'archived') query.andWhere('a.archivedAt IS NOT NULL');
    else {
      query.andWhere('a.archivedAt IS NULL');
      if (status !== undefined) query.andWhere('a.status = :status', { status });
    }
    return pageOf(query, 'a', page, adOf);
  }

  async ad(scope: AdvertiserScope, campaignId: number, adId: number): Promise<AdvertiserAd> {
    return adOf(await this.findAd(this.dataSource.manager, scope, campaignId, adId));
  }

  async createAd(
    scope: AdvertiserScope,
    campaignId: number,
    creative: AdCreative,
    status: 'active' | 'paused' = 'active',
    now = Date.now(),
  ): Promise<AdvertiserAd> {
    checkCategory(creative.category);
    const created = await this.insertWithNewId(AdEntity, async (em, id) => {
      const campaign = await this.findCampaign(em, scope, campaignId);
      refuseArchived('campaign', campaign);
      const derived = await derivedAdEmbedding(em, creative.category);
      const row: AdEntity = Object.assign(new AdEntity(), {
        id,
        campaignId,
        advertiserId: campaign.advertiserId,
        ...creative,
        embedding: derived.embedding,
        status,
        createdAt: now,
        archivedAt: null,
      });
      await em.getRepository(AdEntity).insert(row);
      this.logger.log(
        `ad ${id} created in campaign ${campaignId} (${status}); embedding: ${derived.basis} over ${derived.ads} ads`,
      );
      return row;
    });
    return adOf(created);
  }

  async updateAd(
    scope: AdvertiserScope,
    campaignId: number,
    adId: number,
    patch: Partial<AdCreative>,
  ): Promise<AdvertiserAd> {
    if (patch.category !== undefined) checkCategory(patch.category);
    return this.write(async (em) => {
      const ad = await this.findAd(em, scope, campaignId, adId);
      refuseArchived('ad', ad);
      const recategorised = patch.category !== undefined && patch.category !== ad.category;
      Object.assign(ad, patch);
      // The embedding follows the declared category, as it was derived from it.
      if (recategorised) ad.embedding = (await derivedAdEmbedding(em, ad.category)).embedding;
      await em.getRepository(AdEntity).save(ad);
      this.logger.log(`ad ${adId} updated: ${Object.keys(patch).join(', ')}`);
      return adOf(ad);
    });
  }

  async changeAd(
    scope: AdvertiserScope,
    campaignId: number,
    adId: number,
    change: StateChange,
  ): Promise<AdvertiserAd> {
    return this.write(async (em) => {
      const ad = await this.findAd(em, scope, campaignId, adId);
      const before = adOf(ad).status;
      const after = nextState('ad', adId, before, change);
      if (after === before) return adOf(ad);
      if (after === 'archived') {
        ad.status = 'paused';
        ad.archivedAt = Date.now();
      } else ad.status = after === 'paused' ? 'paused' : 'active';
      await em.getRepository(AdEntity).save(ad);
      this.logger.log(`ad ${adId}: ${before} -> ${after}`);
      return adOf(ad);
    });
  }

  private async findCampaign(em: EntityManager, scope: AdvertiserScope, id: number): Promise<CampaignEntity> {
    const campaign = await em
      .getRepository(CampaignEntity)
      .findOneBy(scope === 'all' ? { id } : { id, advertiserId: scope });
    if (campaign === null) throw new AdfunnelError('not_found', `campaign ${id} not found`);
    return campaign;
  }

  private async findAd(
    em: EntityManager,
    scope: AdvertiserScope,
    campaignId: number,
    id: number,
  ): Promise<AdEntity> {
    await this.findCampaign(em, scope, campaignId);
    const ad = await em.getRepository(AdEntity).findOneBy({ id, campaignId });
    if (ad === null) throw new AdfunnelError('not_found', `ad ${id} not found in campaign ${campaignId}`);
    return ad;
  }

  /** One transaction for the change and the catalog's change mark. */
  private write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (em) => {
      const result = await work(em);
      await markCatalogChanged(em);
      return result;
    });
  }

  /**
   * The next id after the largest. Concurrent creates on PostgreSQL wait for each other on a
   * transaction lock per table: with MAX + 1 alone, six campaigns created at once collided often
   * enough to exhaust the retries (a 500 on CI). `servesChange: false` leaves the catalog's change
   * mark alone, for a row serving does not read until something that marks it refers to it.
   */
  private async insertWithNewId<E extends ObjectLiteral>(
    target: EntityTarget<E>,
    insert: (em: EntityManager, id: number) => Promise<E>,
    { servesChange = true } = {},
  ): Promise<E> {
    const transaction = <T>(work: (em: EntityManager) => Promise<T>) =>
      servesChange ? this.write(work) : this.dataSource.transaction(work);
    for (let attempt = 1; ; attempt++) {
      try {
        return await transaction(async (em) => {
          await lockIdAllocation(em, em.getRepository(target).metadata.tableName);
          const row = await em
            .getRepository(target)
            .createQueryBuilder('t')
            .select('MAX(t.id)', 'max')
            .getRawOne<{ max: number | string | null }>();
          return insert(em, Number(row?.max ?? 0) + 1);
        });
      } catch (error) {
        if (attempt >= ID_ATTEMPTS || !isDuplicateKey(error)) throw error;
      }
    }
  }
}

/**
 * One page of `query` in id order, keyed by id (not an offset), so rows created or archived between
 * two requests neither repeat nor skip the rows after the cursor. One row past the page is read to
 * tell whether another page follows: the last page says next null, with no empty page after it.
 */
async function pageOf<E extends { id: number }, T>(
  query: SelectQueryBuilder<E>,
  alias: string,
  page: PageRequest,
  view: (row: E) => T,
): Promise<Page<T>> {
  if (page.after !== undefined) query.andWhere(`${alias}.id > :after`, { after: page.after });
  const rows = await query
    .orderBy(`${alias}.id`, 'ASC')
    .limit(page.limit + 1)
    .getMany();
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  return { items: items.map(view), next: more ? items[items.length - 1].id : null };
}

export function advertiserOf(a: AdvertiserEntity): AdvertiserAccount {
  return { id: a.id, name: a.name, timezone: a.timezone, createdAt: a.createdAt };
}

/** What a caller sees of a campaign: `archived` over the status serving reads. */
export function campaignOf(c: CampaignEntity): AdvertiserCampaign {
  return {
    id: c.id,
    advertiserId: c.advertiserId,
    name: c.name,
    status: c.archivedAt === null || c.archivedAt === undefined ? c.status : 'archived',
    bidType: c.bidType,
    bid: c.bid,
    dailyBudget: c.dailyBudget,
    targetCountries: c.targetCountries,
    targetDevices: c.targetDevices,
    pacing: c.pacing,
    frequencyCap: c.frequencyCap,
    frequencyWindowHours: c.frequencyWindowHours,
    clickWindowDays: c.clickWindowDays,
    reserveCpm: c.reserveCpm,
    createdAt: c.createdAt,
    archivedAt: c.archivedAt ?? null,
    statusChangedAt: c.statusChangedAt ?? null,
  };
}

export function adOf(a: AdEntity): AdvertiserAd {
  return {
    id: a.id,
    campaignId: a.campaignId,
    advertiserId: a.advertiserId,
    status: a.archivedAt === null || a.archivedAt === undefined ? a.status : 'archived',
    title: a.title,
    text: a.text,
    category: a.category,
    landingUrl: a.landingUrl,
    imageUrl: a.imageUrl,
    createdAt: a.createdAt,
    archivedAt: a.archivedAt ?? null,
  };
}

/**
 * Pause and resume go between active and paused (again is a no-op); archive is from any state and
 * final. An ended campaign can be archived, not resumed; nothing archived comes back.
 */
export function nextState<S extends CampaignState>(
  what: 'campaign' | 'ad',
  id: number,
  current: S,
  change: StateChange,
): CampaignState {
  if (current === 'archived') {
    if (change === 'archive') return current;
    throw new AdfunnelError(
      'conflict',
      `${what} ${id} is archived; an archived ${what} cannot be changed`,
      'archived',
    );
  }
  if (change === 'archive') return 'archived';
  if (current === 'ended') {
    throw new AdfunnelError(
      'conflict',
      `${what} ${id} has ended; it can be archived, not ${change}d`,
      'ended',
    );
  }
  return change === 'pause' ? 'paused' : 'active';
}

function refuseArchived(what: 'campaign' | 'ad', row: { id: number; archivedAt: number | null }): void {
  if (row.archivedAt !== null && row.archivedAt !== undefined) {
    throw new AdfunnelError(
      'conflict',
      `${what} ${row.id} is archived; an archived ${what} cannot be changed`,
      'archived',
    );
  }
}

function checkFrequencyCap(s: Pick<CampaignSettings, 'frequencyCap' | 'frequencyWindowHours'>): void {
  if (s.frequencyCap === null && s.frequencyWindowHours !== null) {
    throw new AdfunnelError(
      'invalid_request',
      'frequencyWindowHours: needs a frequencyCap (without one the serving default cap and window apply)',
    );
  }
}

function checkCategory(category: string): void {
  if (!(TOPICS as readonly string[]).includes(category)) {
    throw new AdfunnelError('invalid_request', `category: expected one of ${TOPICS.join(', ')}`);
  }
}

/** PostgreSQL: one writer at a time allocates ids in `table`, until its transaction ends. */
async function lockIdAllocation(em: EntityManager, table: string): Promise<void> {
  if (em.connection.options.type !== 'postgres') return;
  await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`adfunnel.ids.${table}`]);
}

/** A primary-key clash: PostgreSQL's unique_violation, SQLite's constraint error. */
function isDuplicateKey(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e.driverError?.code ?? e.code;
  return typeof code === 'string' && (code === '23505' || code.startsWith('SQLITE_CONSTRAINT'));
}
