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

  it('calibrates with Platt maps refitted every 30 s on the last hour by default, and refuses an unknown method', () => {
    expect(parseConfig(RankingConfigSchema, {})).toMatchObject({
      RANKING_CALIBRATION: 'on',
      RANKING_CALIBRATION_METHOD: 'platt',
      RANKING_CALIBRATION_REFRESH_MS: 30_000,
      RANKING_CALIBRATION_WINDOW_MS: 3_600_000,
      RANKING_CALIBRATION_MIN_CLICKS: 100,
    });
    expect(parseConfig(RankingConfigSchema, { RANKING_CALIBRATION: 'off' }).RANKING_CALIBRATION).toBe('off');
    expect(() => parseConfig(RankingConfigSchema, { RANKING_CALIBRATION_METHOD: 'beta' })).toThrow(
      /RANKING_CALIBRATION_METHOD: expected one of platt, isotonic/,
    );
  });
});
