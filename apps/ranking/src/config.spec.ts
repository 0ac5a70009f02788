import { parseConfig } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';
import { RankingConfigSchema } from './config.js';

describe('RankingConfigSchema', () => {
  it('listens on 127.0.0.1:3102 with admin endpoints off by default', () => {
    const sut = parseConfig(RankingConfigSchema, {});

    expect(sut).toMatchObject({ RANKING_HOST: '127.0.0.1', RANKING_PORT: 3102 });
    expect(sut.ADMIN_TOKEN).toBeUndefined();
  });

  it('takes RANKING_HOST to open the port to other hosts, and an ADMIN_TOKEN for /admin', () => {
    const token = 'an-admin-token-of-24-chars';

    expect(parseConfig(RankingConfigSchema, { RANKING_HOST: '0.0.0.0', ADMIN_TOKEN: token })).toMatchObject({
      RANKING_HOST: '0.0.0.0',
      ADMIN_TOKEN: token,
    });
  });
});
