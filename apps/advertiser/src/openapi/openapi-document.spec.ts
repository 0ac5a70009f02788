import { describe, expect, it } from '@jest/globals';
import { openApiDocument } from './openapi-document.js';

describe(openApiDocument.name, () => {
  const sut = openApiDocument();

  it('documents every endpoint the controllers serve', () => {
    expect(Object.keys(sut.paths).sort()).toEqual([
      '/health',
      '/metrics',
      '/v1/advertisers',
      '/v1/advertisers/me',
      '/v1/advertisers/{advertiserId}',
      '/v1/advertisers/{advertiserId}/api-keys',
      '/v1/advertisers/{advertiserId}/api-keys/{keyHash}',
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

  it('documents the paging of the lists: limit and after in, next out', () => {
    for (const [path, rows] of [
      ['/v1/advertisers', 'advertisers'],
      ['/v1/campaigns', 'campaigns'],
      ['/v1/campaigns/{campaignId}/ads', 'ads'],
    ] as const) {
      const get = sut.paths[path].get!;
      const query = (get.parameters as { name: string; in: string; required: boolean; schema: object }[])
        .filter((p) => p.in === 'query')
        .map((p) => [p.name, p.required, p.schema]);
      expect(query).toEqual(
        expect.arrayContaining([
          ['limit', false, expect.objectContaining({ minimum: 1, maximum: 1000, default: 100 })],
          ['after', false, expect.objectContaining({ type: 'integer', minimum: 0, exclusiveMinimum: true })],
        ]),
      );
      const ok = get.responses['200'] as unknown as {
        content: { 'application/json': { schema: { properties: object; required: string[] } } };
      };
      const answer = ok.content['application/json'].schema;
      expect(Object.keys(answer.properties).sort()).toEqual([rows, 'next']);
      expect(answer.required.sort()).toEqual([rows, 'next']);
    }
  });

  it('documents the operator-only endpoints: 403 for an API key, the key shown once, never listed', () => {
    const operatorOnly = [
      sut.paths['/v1/advertisers'].get!,
      sut.paths['/v1/advertisers'].post!,
      sut.paths['/v1/advertisers/{advertiserId}'].get!,
      sut.paths['/v1/advertisers/{advertiserId}/api-keys'].get!,
      sut.paths['/v1/advertisers/{advertiserId}/api-keys'].post!,
      sut.paths['/v1/advertisers/{advertiserId}/api-keys/{keyHash}'].delete!,
    ];
    for (const operation of operatorOnly) expect(Object.keys(operation.responses)).toContain('403');
    const properties = (response: unknown) =>
      Object.keys(
        (response as { content: { 'application/json': { schema: { properties: object } } } }).content[
          'application/json'
        ].schema.properties,
      ).sort();
    const keys = sut.paths['/v1/advertisers/{advertiserId}/api-keys'];
    expect(properties(keys.post!.responses['201'])).toContain('key');
    const listed = properties(keys.get!.responses['200']);
    expect(listed).toEqual(['apiKeys']);
    expect(JSON.stringify(keys.get!.responses['200'])).not.toContain('"key"');
    expect(keys.post!.requestBody).toMatchObject({ required: false });
    const create = sut.paths['/v1/advertisers'].post!.requestBody as {
      content: { 'application/json': { schema: { required: string[]; properties: object } } };
    };
    expect(create.content['application/json'].schema.required).toEqual(['name']);
    expect(Object.keys(create.content['application/json'].schema.properties).sort()).toEqual([
      'name',
      'timezone',
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
