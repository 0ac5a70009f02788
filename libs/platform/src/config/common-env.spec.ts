import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { CommonEnv } from './common-env.js';
import { ConfigError } from './config-error.js';
import { parseConfig } from './load-config.js';

const Schema = z.object(CommonEnv);

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(Schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.variable}: ${i.problem}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('CommonEnv', () => {
  it('takes NATS credentials in NATS_URL', () => {
    expect(parseConfig(Schema, { NATS_URL: 'nats://ranking:s3cret@nats:4222' }).NATS_URL).toBe(
      'nats://ranking:s3cret@nats:4222',
    );
  });

  it('refuses a NATS_URL it cannot connect with, withholding its password or token', () => {
    expect(problemsOf({ NATS_URL: 'nats://ranking:s3cret@nats:4222/x' })).toEqual([
      'NATS_URL: expected nothing after the host and port, got "nats://ranking:***@nats:4222/x"',
    ]);
    expect(problemsOf({ NATS_URL: 'http://t0ken@nats:4222' })).toEqual([
      'NATS_URL: must start with nats://, got "http://***@nats:4222"',
    ]);
  });

  it('leaves ADMIN_TOKEN unset by default, and refuses a short one without showing it', () => {
    expect(parseConfig(Schema, {}).ADMIN_TOKEN).toBeUndefined();
    expect(problemsOf({ ADMIN_TOKEN: 'short-secret' })).toEqual([
      'ADMIN_TOKEN: must be at least 24 characters (value withheld)',
    ]);
  });
});
