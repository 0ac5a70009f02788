import {
  ActivityReportAnswerSchema,
  ActivityReportSchema,
  AdRequestSchema,
  AdResponseSchema,
  ERROR_CODES,
  MAX_ACTIVITY_EVENTS,
  MAX_SLOTS,
} from '@adfunnel/contracts';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';

const ErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string().describe('What was wrong, in words a developer can act on'),
  reason: z.string().optional().describe('A finer, stable reason, e.g. duplicate_request_id'),
  requestId: z.string().optional(),
});

const json = (schema: z.ZodType, io: 'input' | 'output') => ({
  'application/json': {
    schema: z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }),
  },
});

const example = {
  userId: 'u00042',
  surface: 'home_feed',
  country: 'US',
  device: 'mobile',
  slots: 3,
};

/**
 * The public API as OpenAPI, generated from the same zod schemas that validate requests, so the
 * documentation cannot drift from the behaviour.
 */
export function openApiDocument(): OpenAPIObject {
  return {
    openapi: '3.0.3',
    info: {
      title: 'adfunnel gateway',
      version: '1',
      description:
        'Ads for product surfaces: retrieval -> ranking -> auction under one deadline. Every answer carries ' +
        'signed tracking URLs: fire `impressionUrl` when the ad is shown, send the user to `clickUrl` on click, and ' +
        'fire `hideUrl` when the user hides the ad ("not interested"; never billed).',
    },
    paths: {
      '/v1/ads': {
        post: {
          summary: 'Request ads for a surface',
          description:
            `Fills up to \`slots\` (1..${MAX_SLOTS}) ad slots. Unknown fields are rejected. When ranking fails or ` +
            'runs out of time the answer still comes, in retrieval order, with `ranking: "retrieval_order"` and ' +
            '`degraded: ["ranking_unavailable"]`; `stages` says what became of each stage (ok, failed, timeout, ' +
            'skipped). No stage is called once the request deadline has passed. When the served record cannot be ' +
            'written to Redis in time the answer carries no ads and `degraded` includes `"served_record_unavailable"`.',
          operationId: 'requestAds',
          parameters: [
            {
              name: 'x-request-id',
              in: 'header',
              required: false,
              description: 'Your id for this request (echoed back); one is generated otherwise',
              schema: { type: 'string' },
            },
          ],
          requestBody: { required: true, content: { ...json(AdRequestSchema, 'input') } },
          responses: {
            '200': {
              description: 'The ads (possibly none), in slot order',
              content: json(AdResponseSchema, 'output'),
            },
            '400': {
              description: 'Malformed, unknown-field or oversize request',
              content: json(ErrorSchema, 'output'),
            },
            '409': {
              description:
                'The x-request-id was already used by another request (reason `duplicate_request_id`); send a new one',
              content: json(ErrorSchema, 'output'),
            },
            '500': {
              description: 'Internal fault (logged with the request id)',
              content: json(ErrorSchema, 'output'),
            },
            '503': {
              description:
                'Overloaded: shed before any work (code `unavailable`, reason `overloaded_in_flight` or ' +
                '`overloaded_event_loop_delay`); retry after the `Retry-After` header (1 or 2 s)',
              headers: { 'retry-after': { description: 'Seconds to wait', schema: { type: 'integer' } } },
              content: json(ErrorSchema, 'output'),
            },
          },
        },
      },
      '/v1/activity': {
        post: {
          summary: 'Report what a user did on the product itself (organic activity)',
          description:
            `Up to ${MAX_ACTIVITY_EVENTS} events for one user: \`engagement\` (the user saved, liked or clicked an ` +
            'organic item of a `category` of the taxonomy) and `search` (an organic search `query`). They fold into ' +
            "the user's activity state, which the user's next ad request reads: the category affinity counts an " +
            'engagement as half an ad click. Each event carries your own `id`; an id already folded for the user ' +
            '(among their latest 1,000) counts nothing, so a retried report is safe. The answer comes once the ' +
            'report is folded; a 503 means nothing of it was, and it may be sent again.',
          operationId: 'reportActivity',
          requestBody: { required: true, content: { ...json(ActivityReportSchema, 'input') } },
          responses: {
            '200': {
              description: 'Folded: how many events counted now, how many were there already',
              content: json(ActivityReportAnswerSchema, 'output'),
            },
            '400': {
              description:
                'Malformed report: unknown field or category (reason `unknown_category`), an empty query ' +
                '(`empty_query`), an event over 5 minutes ahead of the funnel clock (`event_in_future`); nothing folded',
              content: json(ErrorSchema, 'output'),
            },
            '503': {
              description: 'The activity store did not take the report; nothing of it counted, send it again',
              content: json(ErrorSchema, 'output'),
            },
          },
        },
      },
      '/health': {
        get: {
          summary: 'Health of this service and its dependencies (bus, database, catalog)',
          responses: { '200': { description: 'healthy' }, '503': { description: 'a dependency is down' } },
        },
      },
      '/metrics': {
        get: {
          summary:
            'Prometheus metrics of this service (text exposition format); wants `Authorization: Bearer ' +
            '<METRICS_TOKEN>` when METRICS_TOKEN is set',
          responses: {
            '200': { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
            '401': { description: 'METRICS_TOKEN is set and the request did not bear it' },
          },
        },
      },
    },
    components: { examples: { adRequest: { value: example } } },
  } as OpenAPIObject;
}
