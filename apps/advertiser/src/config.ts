import { CommonEnv, envPort, loadConfig } from '@adfunnel/platform';
import { z } from 'zod';

export const AdvertiserConfigSchema = z.object({
  ...CommonEnv,
  ADVERTISER_HOST: z.string().min(1).default('127.0.0.1'),
  ADVERTISER_PORT: envPort(3105),
});

export type AdvertiserConfig = z.output<typeof AdvertiserConfigSchema>;

export function loadAdvertiserConfig(env: NodeJS.ProcessEnv = process.env): AdvertiserConfig {
  return loadConfig(AdvertiserConfigSchema, env);
}
