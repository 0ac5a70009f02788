import { AdvertiserApiKeyService, AdvertiserCatalogService } from '@adfunnel/catalog';
import { AdfunnelError } from '@adfunnel/contracts';
import { RateLimited, ZodValidationPipe } from '@adfunnel/platform';
import {
  type ArgumentMetadata,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Headers,
  Param,
  type PipeTransform,
  Post,
  Query,
} from '@nestjs/common';
import { AdvertiserAccess } from '../access/advertiser-access.service.js';
import { AdvertiserIdSchema } from '../campaigns/campaign.dto.js';
import {
  type CreateAdvertiser,
  CreateAdvertiserSchema,
  type IssueApiKey,
  IssueApiKeySchema,
  KeyHashSchema,
  type ListAdvertisersQuery,
  ListAdvertisersQuerySchema,
} from './advertiser.dto.js';
import {
  type AdvertiserView,
  type ApiKeyView,
  advertiserView,
  apiKeyView,
  type IssuedApiKeyView,
  issuedApiKeyView,
} from './advertiser-views.js';

const advertiserId = new ZodValidationPipe(AdvertiserIdSchema);

/** A body every field of which is optional: a POST without one is the empty object, not a 400. */
const optionalBody = <T>(pipe: PipeTransform<unknown, T>): PipeTransform<unknown, T> => ({
  transform: (value: unknown, metadata: ArgumentMetadata) => pipe.transform(value ?? {}, metadata),
});

/**
 * Advertisers and their API keys, for operators (ADMIN_TOKEN): onboarding over HTTP instead of the
 * seed and the catalog CLI. An API key reads only its own advertiser, at /v1/advertisers/me.
 */
@Controller('v1/advertisers')
export class AdvertisersController {
  constructor(
    private readonly access: AdvertiserAccess,
    private readonly catalog: AdvertiserCatalogService,
    private readonly apiKeys: AdvertiserApiKeyService,
  ) {}

  /** A page of the advertisers, by id; `next` is the `after` of the following page, null after the last. */
  @Get()
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async list(
    @Headers('authorization') authorization: unknown,
    @Query(new ZodValidationPipe(ListAdvertisersQuerySchema)) query: ListAdvertisersQuery,
  ): Promise<{ advertisers: AdvertiserView[]; next: number | null }> {
    await this.access.requireOperator(authorization);
    const page = await this.catalog.listAdvertisers(query);
    return { advertisers: page.items.map(advertiserView), next: page.next };
  }

  @Post()
  @RateLimited()
  async create(
    @Headers('authorization') authorization: unknown,
    @Body(new ZodValidationPipe(CreateAdvertiserSchema)) body: CreateAdvertiser,
  ): Promise<AdvertiserView> {
    await this.access.requireOperator(authorization);
    return advertiserView(await this.catalog.createAdvertiser(body));
  }

  /** The advertiser of the request's API key: a client checks its key with it. */
  @Get('me')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async me(@Headers('authorization') authorization: unknown): Promise<AdvertiserView> {
    const scope = await this.access.scopeOf(authorization);
    if (scope === 'all') {
      throw new AdfunnelError(
        'invalid_request',
        'me: the ADMIN_TOKEN belongs to no advertiser; an operator reads one at GET /v1/advertisers/{id}',
      );
    }
    return advertiserView(await this.catalog.advertiser(scope));
  }

  @Get(':advertiserId')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async get(
    @Headers('authorization') authorization: unknown,
    @Param('advertiserId', advertiserId) id: number,
  ): Promise<AdvertiserView> {
    await this.access.requireOperator(authorization);
    return advertiserView(await this.catalog.advertiser(id));
  }

  /** A new key: the answer is the only time the key is shown; only its SHA-256 is stored. */
  @Post(':advertiserId/api-keys')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async issueKey(
    @Headers('authorization') authorization: unknown,
    @Param('advertiserId', advertiserId) id: number,
    @Body(optionalBody(new ZodValidationPipe(IssueApiKeySchema))) body: IssueApiKey,
  ): Promise<IssuedApiKeyView> {
    await this.access.requireOperator(authorization);
    await this.catalog.advertiser(id);
    const [issued] = await this.apiKeys.issue([id], body.label);
    return issuedApiKeyView(issued);
  }

  @Get(':advertiserId/api-keys')
  @RateLimited()
  @Header('Cache-Control', 'no-store')
  async listKeys(
    @Headers('authorization') authorization: unknown,
    @Param('advertiserId', advertiserId) id: number,
  ): Promise<{ apiKeys: ApiKeyView[] }> {
    await this.access.requireOperator(authorization);
    await this.catalog.advertiser(id);
    return { apiKeys: (await this.apiKeys.keysOf(id)).map(apiKeyView) };
  }

  /**
   * Revokes the key, for good; again is no change. The authenticator looks every key up per request
   * (no cache), so the key's next request, here or at logging, is 401.
   */
  @Delete(':advertiserId/api-keys/:keyHash')
  @RateLimited()
  async revokeKey(
    @Headers('authorization') authorization: unknown,
    @Param('advertiserId', advertiserId) id: number,
    @Param('keyHash', new ZodValidationPipe(KeyHashSchema)) hash: string,
  ): Promise<ApiKeyView> {
    await this.access.requireOperator(authorization);
    await this.catalog.advertiser(id);
    const outcome = await this.apiKeys.revoke(hash, Date.now(), id);
    const key = outcome === 'unknown' ? null : await this.apiKeys.keyOf(id, hash);
    if (key === null) throw new AdfunnelError('not_found', `advertiser ${id} has no API key ${hash}`);
    return apiKeyView(key);
  }
}
