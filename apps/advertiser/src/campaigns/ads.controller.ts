import { AdvertiserCatalogService, type StateChange } from '@adfunnel/catalog';
import { RateLimited, ZodValidationPipe } from '@adfunnel/platform';
import { Body, Controller, Get, Header, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { AdvertiserAccess } from '../access/advertiser-access.service.js';
import {
  AdIdSchema,
  CampaignIdSchema,
  type CreateAd,
  CreateAdSchema,
  type ListAdsQuery,
  ListAdsQuerySchema,
  type UpdateAd,
  UpdateAdSchema,
} from './campaign.dto.js';
import { type AdView, adView } from './catalog-views.js';

const campaignId = new ZodValidationPipe(CampaignIdSchema);
const adId = new ZodValidationPipe(AdIdSchema);

/** A campaign's ads; an ad is always addressed through its campaign. */
@Controller('v1/campaigns/:campaignId/ads')
export class AdsController {
  constructor(
    private readonly access: AdvertiserAccess,
    private readonly catalog: AdvertiserCatalogService,
  ) {}

  /** A page of the campaign's ads, by id; `next` is the `after` of the following page, null after the last. */
  @Get()
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async list(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Query(new ZodValidationPipe(ListAdsQuerySchema)) query: ListAdsQuery,
  ): Promise<{ ads: AdView[]; next: number | null }> {
    const scope = await this.access.scopeOf(authorization);
    const { limit, after, status } = query;
    const page = await this.catalog.listAds(scope, campaign, status, { limit, after });
    return { ads: page.items.map(adView), next: page.next };
  }

  @Post()
  @RateLimited()
  async create(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Body(new ZodValidationPipe(CreateAdSchema)) body: CreateAd,
  ): Promise<AdView> {
    const scope = await this.access.scopeOf(authorization);
    const { status, ...creative } = body;
    return adView(await this.catalog.createAd(scope, campaign, creative, status));
  }

  @Get(':adId')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async get(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Param('adId', adId) id: number,
  ): Promise<AdView> {
    const scope = await this.access.scopeOf(authorization);
    return adView(await this.catalog.ad(scope, campaign, id));
  }

  @Patch(':adId')
  @RateLimited()
  async update(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Param('adId', adId) id: number,
    @Body(new ZodValidationPipe(UpdateAdSchema)) patch: UpdateAd,
  ): Promise<AdView> {
    const scope = await this.access.scopeOf(authorization);
    return adView(await this.catalog.updateAd(scope, campaign, id, patch));
  }

  @Post(':adId/pause')
  @HttpCode(200)
  @RateLimited()
  pause(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Param('adId', adId) id: number,
  ) {
    return this.change(authorization, campaign, id, 'pause');
  }

  @Post(':adId/resume')
  @HttpCode(200)
  @RateLimited()
  resume(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Param('adId', adId) id: number,
  ) {
    return this.change(authorization, campaign, id, 'resume');
  }

  @Post(':adId/archive')
  @HttpCode(200)
  @RateLimited()
  archive(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) campaign: number,
    @Param('adId', adId) id: number,
  ) {
    return this.change(authorization, campaign, id, 'archive');
  }

  private async change(
    authorization: unknown,
    campaign: number,
    id: number,
    change: StateChange,
  ): Promise<AdView> {
    const scope = await this.access.scopeOf(authorization);
    return adView(await this.catalog.changeAd(scope, campaign, id, change));
  }
}
