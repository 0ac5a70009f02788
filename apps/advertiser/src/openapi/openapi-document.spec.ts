import { describe, expect, it } from '@jest/globals';
import { openApiDocument } from './openapi-document.js';

describe(openApiDocument.name, () => {
  const sut = openApiDocument();

  it('documents every endpoint the controllers serve', () => {
    expect(Object.keys(sut.paths).sort()).toEqual([
      '/health',
      '/metrics',
      '/v1/campaigns',
      '/v1/campaigns/{campaignId}',
      '/v1/campaigns/{campaignId}/ads',
      '/v1/campaigns/{campaignId}/ads/{adId}',
      '/v1/campaigns/{campaignId}/ads/{adId}/archive',
      '/v1/campaigns/{campaignId}/ads/{adId}/pause',
      '/v1/campaigns/{campaignId}/ads/{adId}/resume',
      '/v1/campaigns/{campaignId}/archive',
      '/v1/campaigns/{campaignId}/pause',
      '/v1/campaigns/{campaignId}/resume',
      '/v1/reports/campaigns',
    ]);
  });

  it('takes its request bodies from the validating schemas', () => {
    const body = sut.paths['/v1/campaigns'].post!.requestBody as {
      content: { 'application/json': { schema: { required: string[]; additionalProperties: boolean } } };
    };
    const schema = body.content['application/json'].schema;
    expect(schema.required.sort()).toEqual(['bid', 'bidType', 'dailyBudget', 'name']);
    expect(schema.additionalProperties).toBe(false);
  });
});
