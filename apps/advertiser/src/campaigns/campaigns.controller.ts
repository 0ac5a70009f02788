import { AdvertiserCatalogService, type StateChange } from '@adfunnel/catalog';
import { RateLimited, ZodValidationPipe } from '@adfunnel/platform';
import { Body, Controller, Get, Header, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { AdvertiserAccess } from '../access/advertiser-access.service.js';
import {
  type CreateCampaign,
  CampaignIdSchema,
  CreateCampaignSchema,
  type ListCampaignsQuery,
  ListCampaignsQuerySchema,
  type UpdateCampaign,
  UpdateCampaignSchema,
} from './campaign.dto.js';
import { type CampaignView, campaignView } from './catalog-views.js';

const campaignId = new ZodValidationPipe(CampaignIdSchema);

@Controller('v1/campaigns')
export class CampaignsController {
  constructor(
    private readonly access: AdvertiserAccess,
    private readonly catalog: AdvertiserCatalogService,
  ) {}

  /** A page of the campaigns, by id; `next` is the `after` of the following page, null after the last. */
  @Get()
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async list(
    @Headers('authorization') authorization: unknown,
    @Query(new ZodValidationPipe(ListCampaignsQuerySchema)) query: ListCampaignsQuery,
  ): Promise<{ campaigns: CampaignView[]; next: number | null }> {
    const scope = await this.access.scopeOf(authorization);
    this.access.refuseOther(scope, query.advertiserId);
    const { limit, after, ...filter } = query;
    const page = await this.catalog.listCampaigns(scope, filter, { limit, after });
    return { campaigns: page.items.map(campaignView), next: page.next };
  }

  @Post()
  @RateLimited()
  async create(
    @Headers('authorization') authorization: unknown,
    @Body(new ZodValidationPipe(CreateCampaignSchema)) body: CreateCampaign,
  ): Promise<CampaignView> {
    const scope = await this.access.scopeOf(authorization);
    const { advertiserId: named, status, ...settings } = body;
    const advertiserId = this.access.advertiserFor(scope, named);
    return campaignView(await this.catalog.createCampaign(advertiserId, settings, status));
  }

  @Get(':campaignId')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async get(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) id: number,
  ): Promise<CampaignView> {
    const scope = await this.access.scopeOf(authorization);
    return campaignView(await this.catalog.campaign(scope, id));
  }

  @Patch(':campaignId')
  @RateLimited()
  async update(
    @Headers('authorization') authorization: unknown,
    @Param('campaignId', campaignId) id: number,
    @Body(new ZodValidationPipe(UpdateCampaignSchema)) patch: UpdateCampaign,
  ): Promise<CampaignView> {
    const scope = await this.access.scopeOf(authorization);
    return campaignView(await this.catalog.updateCampaign(scope, id, patch));
  }

  @Post(':campaignId/pause')
  @HttpCode(200)
  @RateLimited()
  pause(@Headers('authorization') authorization: unknown, @Param('campaignId', campaignId) id: number) {
    return this.change(authorization, id, 'pause');
  }

  @Post(':campaignId/resume')
  @HttpCode(200)
  @RateLimited()
  resume(@Headers('authorization') authorization: unknown, @Param('campaignId', campaignId) id: number) {
    return this.change(authorization, id, 'resume');
  }

  @Post(':campaignId/archive')
  @HttpCode(200)
  @RateLimited()
  archive(@Headers('authorization') authorization: unknown, @Param('campaignId', campaignId) id: number) {
    return this.change(authorization, id, 'archive');
  }

  private async change(authorization: unknown, id: number, change: StateChange): Promise<CampaignView> {
    const scope = await this.access.scopeOf(authorization);
    return campaignView(await this.catalog.changeCampaign(scope, id, change));
  }
}
