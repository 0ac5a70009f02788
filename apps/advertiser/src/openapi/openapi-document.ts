import { CampaignReportQuerySchema } from '@adfunnel/event-store';
import { AD_STATES, CAMPAIGN_STATES } from '@adfunnel/catalog';
import { ERROR_CODES } from '@adfunnel/contracts';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import {
  CreateAdvertiserSchema,
  IssueApiKeySchema,
  KeyHashSchema,
  ListAdvertisersQuerySchema,
} from '../advertisers/advertiser.dto.js';
import {
  CreateAdSchema,
  CreateCampaignSchema,
  ListAdsQuerySchema,
  ListCampaignsQuerySchema,
  UpdateAdSchema,
  UpdateCampaignSchema,
} from '../campaigns/campaign.dto.js';

const ErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string().describe('What was wrong, naming the field'),
  reason: z.string().optional().describe('A finer, stable reason, e.g. archived'),
  requestId: z.string().optional(),
});

const dated = {
  createdAt: z.iso.datetime(),
  archivedAt: z.iso.datetime().nullable().describe('When it was archived; null: not archived'),
};
const CampaignSchema = CreateCampaignSchema.omit({ advertiserId: true, status: true }).extend({
  id: z.int(),
  advertiserId: z.int(),
  status: z.enum(CAMPAIGN_STATES),
  ...dated,
  statusChangedAt: z.iso
    .datetime()
    .nullable()
    .describe('When it took its status now: its creation, or its last pause, resume or archive'),
});
const AdSchema = CreateAdSchema.omit({ status: true }).extend({
  id: z.int(),
  campaignId: z.int(),
  advertiserId: z.int(),
  status: z.enum(AD_STATES),
  ...dated,
});
const AdvertiserSchema = CreateAdvertiserSchema.extend({
  id: z.int(),
  timezone: z.string().describe("IANA time zone of the advertiser's billing day"),
  createdAt: z.iso.datetime(),
});
const ApiKeySchema = z.object({
  keyHash: z.string().describe('SHA-256 of the key, lower-case hex: its id (to revoke it); not the key'),
  advertiserId: z.int(),
  label: z.string(),
  status: z.enum(['active', 'revoked']),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable().describe('When it was revoked; null: it is active'),
});
const IssuedApiKeySchema = ApiKeySchema.extend({
  key: z
    .string()
    .describe('The key (adf_live_ and 43 characters), for `Authorization: Bearer`: shown this once only'),
});
const ReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  advertiserId: z.int().nullable(),
  campaigns: z.array(
    z.object({
      billingDay: z.string(),
      campaignId: z.int(),
      advertiserId: z.int(),
      budgetMicros: z.int(),
      spendMicros: z.int().describe('Charged, integer micro-USD'),
      overdeliveredMicros: z.int().describe('Delivered past the budget, not billed'),
      impressions: z.int(),
      clicks: z.int(),
      conversions: z.int(),
      hides: z.int(),
      deliveryPct: z.number(),
    }),
  ),
});

const next = z
  .int()
  .nullable()
  .describe('The `after` of the next page (the last id of this one); null: this page is the last');

const schema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { io, target: 'openapi-3.0', unrepresentable: 'any' });
const json = (s: z.ZodType, io: 'input' | 'output') => ({ 'application/json': { schema: schema(s, io) } });
const error = (description: string) => ({ description, content: json(ErrorSchema, 'output') });

const errors = {
  '400': error('Invalid request: the message names the field and what was expected'),
  '401': error('No API key or ADMIN_TOKEN, or one we do not know'),
  '404': error("Not found, or another advertiser's (the same answer for both)"),
  '429': error('Over RATE_LIMIT_PER_MINUTE for this client or key; retry after Retry-After'),
};
const writeErrors = {
  ...errors,
  '403': error("An API key naming another advertiser's id"),
  '409': error('Archived (reason `archived`) or ended (reason `ended`): the change is refused'),
  '415': error('The body is not application/json'),
};

const operatorErrors = {
  ...errors,
  '403': error(
    'An API key (reason `operator_only`): only ADMIN_TOKEN manages advertisers and their API keys',
  ),
  '404': error('No such advertiser (or key)'),
};

function queryParameters(s: z.ZodObject) {
  return Object.entries(s.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: schema(field as z.ZodType, 'input'),
  }));
}
const pathId = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'integer', minimum: 1 },
});
const advertiserPath = [pathId('advertiserId')];
const keyPath = [
  ...advertiserPath,
  { name: 'keyHash', in: 'path', required: true, schema: schema(KeyHashSchema, 'input') },
];
const campaignPath = [pathId('campaignId')];
const adPath = [pathId('campaignId'), pathId('adId')];

function stateChanges(what: 'campaign' | 'ad', parameters: object[], out: z.ZodType) {
  const says = {
    pause: `Stops the ${what} serving (again: no change)`,
    resume: `Serves a paused ${what} again (an ended campaign cannot be resumed: 409)`,
    archive: `Stops the ${what} for good; it is listed only with status=archived and refuses every change`,
  };
  return Object.fromEntries(
    (['pause', 'resume', 'archive'] as const).map((change) => [
      change,
      {
        post: {
          summary: says[change],
          operationId: `${change}${what === 'ad' ? 'Ad' : 'Campaign'}`,
          parameters,
          responses: {
            '200': { description: `The ${what} after the change`, content: json(out, 'output') },
            ...writeErrors,
          },
        },
      },
    ]),
  );
}

/**
 * The advertiser API as OpenAPI, from the same zod schemas that validate its requests, so the
 * documentation cannot drift from the behaviour.
 */
export function openApiDocument(): OpenAPIObject {
  const campaignChanges = stateChanges('campaign', campaignPath, CampaignSchema);
  const adChanges = stateChanges('ad', adPath, AdSchema);
  return {
    openapi: '3.0.3',
    info: {
      title: 'adfunnel advertiser API',
      version: '1',
      description:
        'Campaigns and ads of one advertiser (`Authorization: Bearer <API key>`), or of any with ' +
        '`Bearer <ADMIN_TOKEN>`. A change serves within about CATALOG_CHANGE_POLL_MS (1 s) plus the ' +
        "retrieval index's update. JSON bodies only. Another advertiser's campaign or ad is 404, as one " +
        'that does not exist; naming another advertiser is 403. Operators (ADMIN_TOKEN only) onboard ' +
        'advertisers and issue and revoke their API keys under /v1/advertisers; a revoked key is 401 ' +
        'from its next request (keys are looked up per request, not cached).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key or ADMIN_TOKEN' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/advertisers': {
        get: {
          summary:
            'A page of the advertisers by id (operators only); ask for the next page with after=next ' +
            'until next is null',
          operationId: 'listAdvertisers',
          parameters: queryParameters(ListAdvertisersQuerySchema),
          responses: {
            '200': {
              description: 'Advertisers by id, at most limit of them',
              content: json(z.object({ advertisers: z.array(AdvertiserSchema), next }), 'output'),
            },
            ...operatorErrors,
          },
        },
        post: {
          summary: 'Onboard an advertiser (operators only); then issue it an API key',
          operationId: 'createAdvertiser',
          requestBody: { required: true, content: json(CreateAdvertiserSchema, 'input') },
          responses: {
            '201': { description: 'The advertiser', content: json(AdvertiserSchema, 'output') },
            ...operatorErrors,
            '415': error('The body is not application/json'),
          },
        },
      },
      '/v1/advertisers/me': {
        get: {
          summary: "The API key's own advertiser: a client checks its key with it (ADMIN_TOKEN: 400)",
          operationId: 'getOwnAdvertiser',
          responses: {
            '200': { description: 'The advertiser', content: json(AdvertiserSchema, 'output') },
            ...errors,
          },
        },
      },
      '/v1/advertisers/{advertiserId}': {
        get: {
          summary: 'One advertiser (operators only)',
          operationId: 'getAdvertiser',
          parameters: advertiserPath,
          responses: {
            '200': { description: 'The advertiser', content: json(AdvertiserSchema, 'output') },
            ...operatorErrors,
          },
        },
      },
      '/v1/advertisers/{advertiserId}/api-keys': {
        get: {
          summary:
            "The advertiser's API keys, revoked ones too, oldest first: never the keys (operators only)",
          operationId: 'listApiKeys',
          parameters: advertiserPath,
          responses: {
            '200': {
              description: 'The keys',
              content: json(z.object({ apiKeys: z.array(ApiKeySchema) }), 'output'),
            },
            ...operatorErrors,
          },
        },
        post: {
          summary:
            'Issue an API key (operators only): the answer is the only time the key is shown; only its ' +
            'SHA-256 is stored',
          operationId: 'issueApiKey',
          parameters: advertiserPath,
          requestBody: { required: false, content: json(IssueApiKeySchema, 'input') },
          responses: {
            '201': {
              description: 'The key, with the key itself',
              content: json(IssuedApiKeySchema, 'output'),
            },
            ...operatorErrors,
            '415': error('The body is not application/json'),
          },
        },
      },
      '/v1/advertisers/{advertiserId}/api-keys/{keyHash}': {
        delete: {
          summary: 'Revoke an API key, for good (operators only; again: no change); its next request is 401',
          operationId: 'revokeApiKey',
          parameters: keyPath,
          responses: {
            '200': { description: 'The key, revoked', content: json(ApiKeySchema, 'output') },
            ...operatorErrors,
          },
        },
      },
      '/v1/campaigns': {
        get: {
          summary:
            "A page of the advertiser's campaigns by id (not the archived ones unless status=archived); " +
            'ask for the next page with after=next until next is null',
          operationId: 'listCampaigns',
          parameters: queryParameters(ListCampaignsQuerySchema),
          responses: {
            '200': {
              description: 'Campaigns by id, at most limit of them',
              content: json(z.object({ campaigns: z.array(CampaignSchema), next }), 'output'),
            },
            ...errors,
            '403': error("An API key naming another advertiser's id"),
          },
        },
        post: {
          summary: 'Create a campaign (active unless status is paused)',
          operationId: 'createCampaign',
          requestBody: { required: true, content: json(CreateCampaignSchema, 'input') },
          responses: {
            '201': { description: 'The campaign', content: json(CampaignSchema, 'output') },
            ...writeErrors,
          },
        },
      },
      '/v1/campaigns/{campaignId}': {
        get: {
          summary: 'One campaign',
          operationId: 'getCampaign',
          parameters: campaignPath,
          responses: {
            '200': { description: 'The campaign', content: json(CampaignSchema, 'output') },
            ...errors,
          },
        },
        patch: {
          summary: "Change a campaign's settings (budget, bid, targeting, pacing, caps, reserve...)",
          operationId: 'updateCampaign',
          parameters: campaignPath,
          requestBody: { required: true, content: json(UpdateCampaignSchema, 'input') },
          responses: {
            '200': { description: 'The campaign', content: json(CampaignSchema, 'output') },
            ...writeErrors,
          },
        },
      },
      '/v1/campaigns/{campaignId}/pause': campaignChanges['pause'],
      '/v1/campaigns/{campaignId}/resume': campaignChanges['resume'],
      '/v1/campaigns/{campaignId}/archive': campaignChanges['archive'],
      '/v1/campaigns/{campaignId}/ads': {
        get: {
          summary:
            "A page of the campaign's ads by id (not the archived ones unless status=archived); " +
            'ask for the next page with after=next until next is null',
          operationId: 'listAds',
          parameters: [...campaignPath, ...queryParameters(ListAdsQuerySchema)],
          responses: {
            '200': {
              description: 'Ads by id, at most limit of them',
              content: json(z.object({ ads: z.array(AdSchema), next }), 'output'),
            },
            ...errors,
          },
        },
        post: {
          summary:
            "Create an ad; its content embedding is derived from its category (the catalog's ads of it)",
          operationId: 'createAd',
          parameters: campaignPath,
          requestBody: { required: true, content: json(CreateAdSchema, 'input') },
          responses: { '201': { description: 'The ad', content: json(AdSchema, 'output') }, ...writeErrors },
        },
      },
      '/v1/campaigns/{campaignId}/ads/{adId}': {
        get: {
          summary: 'One ad',
          operationId: 'getAd',
          parameters: adPath,
          responses: { '200': { description: 'The ad', content: json(AdSchema, 'output') }, ...errors },
        },
        patch: {
          summary: "Change an ad's creative",
          operationId: 'updateAd',
          parameters: adPath,
          requestBody: { required: true, content: json(UpdateAdSchema, 'input') },
          responses: { '200': { description: 'The ad', content: json(AdSchema, 'output') }, ...writeErrors },
        },
      },
      '/v1/campaigns/{campaignId}/ads/{adId}/pause': adChanges['pause'],
      '/v1/campaigns/{campaignId}/ads/{adId}/resume': adChanges['resume'],
      '/v1/campaigns/{campaignId}/ads/{adId}/archive': adChanges['archive'],
      '/v1/reports/campaigns': {
        get: {
          summary:
            'Spend, budget, delivery and events per campaign and billing day, from the ledger (at most 92 days)',
          operationId: 'campaignReport',
          parameters: queryParameters(CampaignReportQuerySchema),
          responses: {
            '200': { description: 'The report', content: json(ReportSchema, 'output') },
            ...errors,
            '403': error("An API key naming another advertiser's id"),
          },
        },
      },
      '/health': {
        get: {
          summary: 'Health of this service and its database',
          security: [],
          responses: { '200': { description: 'healthy' }, '503': { description: 'a dependency is down' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (wants `Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set)',
          security: [],
          responses: {
            '200': { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
    },
  } as OpenAPIObject;
}
