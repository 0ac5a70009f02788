import { isIanaTimeZone } from '@adfunnel/catalog';
import { z } from 'zod';
import { pageFields } from '../campaigns/campaign.dto.js';

/** The label of a key issued without one, as the catalog CLI's. */
export const DEFAULT_API_KEY_LABEL = 'default';
const MAX_API_KEY_LABEL_LENGTH = 100;
const KEY_HASH = /^[0-9a-f]{64}$/;

export const CreateAdvertiserSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(200, { error: 'expected at most 200 characters' })
    .describe("The advertiser's name, shown to operators and in its reports"),
  timezone: z
    .string()
    .refine(isIanaTimeZone, { error: 'expected an IANA time zone name such as UTC or Europe/Paris' })
    .default('UTC')
    .describe("IANA time zone of the advertiser's billing day (budgets, spend, reports); default UTC"),
});
export type CreateAdvertiser = z.output<typeof CreateAdvertiserSchema>;

export const ListAdvertisersQuerySchema = z.strictObject({ ...pageFields('advertisers', 'an advertiser') });
export type ListAdvertisersQuery = z.output<typeof ListAdvertisersQuerySchema>;

export const IssueApiKeySchema = z.strictObject({
  label: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(MAX_API_KEY_LABEL_LENGTH, { error: `expected at most ${MAX_API_KEY_LABEL_LENGTH} characters` })
    .default(DEFAULT_API_KEY_LABEL)
    .describe(`What the key is for, e.g. production (default "${DEFAULT_API_KEY_LABEL}")`),
});
export type IssueApiKey = z.output<typeof IssueApiKeySchema>;

export const KeyHashSchema = z
  .string()
  .regex(KEY_HASH, { error: 'expected a key hash: the 64 lower-case hex characters of keyHash' });
