import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '@adfunnel/catalog';
import { BidTypeSchema, CountrySchema, DeviceSchema, PacingSchema } from '@adfunnel/contracts';
import { TOPICS } from '@adfunnel/features';
import { z } from 'zod';

const MAX_BID_USD = 10_000;
const MAX_DAILY_BUDGET_USD = 10_000_000;
const MAX_CLICK_WINDOW_DAYS = 90;
const MAX_FREQUENCY_WINDOW_HOURS = 24 * 30;

const unique = <T>(items: readonly T[]) => new Set(items).size === items.length;
const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .max(512, { error: 'expected at most 512 characters' });

/** Each field once, so a create (with defaults) and an update (all optional) validate alike. */
const campaignFields = {
  name: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(200)
    .describe('Shown to the advertiser only'),
  bidType: BidTypeSchema.describe(
    'What the advertiser pays for: CPM (1000 impressions), CPC (a click), CPA (a conversion)',
  ),
  bid: z
    .number()
    .positive({ error: 'expected a number of USD above 0' })
    .max(MAX_BID_USD, { error: `expected at most ${MAX_BID_USD} USD` })
    .describe('USD per 1000 impressions (CPM), per click (CPC) or per conversion (CPA)'),
  dailyBudget: z
    .number()
    .positive({ error: 'expected a number of USD above 0' })
    .max(MAX_DAILY_BUDGET_USD, { error: `expected at most ${MAX_DAILY_BUDGET_USD} USD` })
    .describe("USD per billing day (the advertiser's calendar day)"),
  targetCountries: z
    .array(CountrySchema)
    .max(250)
    .refine(unique, { error: 'lists a country twice' })
    .describe('ISO 3166-1 alpha-2 countries the ads may show in; empty: every country'),
  targetDevices: z
    .array(DeviceSchema)
    .refine(unique, { error: 'lists a device twice' })
    .describe('Devices the ads may show on; empty: every device'),
  pacing: PacingSchema.describe("even: spread over the day's expected traffic; asap: as fast as it wins"),
  frequencyCap: z
    .int({ error: 'expected a whole number of impressions from 1' })
    .min(1, { error: 'expected a whole number of impressions from 1' })
    .max(1000)
    .nullable()
    .describe("Impressions per user within frequencyWindowHours; null: the service's default cap"),
  frequencyWindowHours: z
    .int({ error: 'expected whole hours from 1' })
    .min(1, { error: 'expected whole hours from 1' })
    .max(MAX_FREQUENCY_WINDOW_HOURS, { error: `expected at most ${MAX_FREQUENCY_WINDOW_HOURS} hours` })
    .nullable()
    .describe("The cap's window (only with a frequencyCap); null: the service's default window"),
  clickWindowDays: z
    .int({ error: 'expected whole days from 1' })
    .min(1, { error: 'expected whole days from 1' })
    .max(MAX_CLICK_WINDOW_DAYS, { error: `expected at most ${MAX_CLICK_WINDOW_DAYS} days` })
    .describe('A conversion is attributed to a click at most this many days after it'),
  reserveCpm: z
    .number()
    .min(0, { error: 'expected a number of USD from 0' })
    .max(MAX_BID_USD)
    .nullable()
    .describe(
      "The campaign's own reserve, USD of advertiser value per 1000 impressions; null: the surface's",
    ),
};

const startState = z
  .enum(['active', 'paused'])
  .describe('Serve at once (active, the default) or create it paused');
const advertiserIdField = z
  .int({ error: 'expected an advertiser id' })
  .positive({ error: 'expected an advertiser id' })
  .describe("An operator's create names the advertiser; an API key's may leave it out (its own)");

export const CreateCampaignSchema = z.strictObject({
  ...campaignFields,
  targetCountries: campaignFields.targetCountries.default([]),
  targetDevices: campaignFields.targetDevices.default([]),
  pacing: campaignFields.pacing.default('even'),
  frequencyCap: campaignFields.frequencyCap.default(null),
  frequencyWindowHours: campaignFields.frequencyWindowHours.default(null),
  clickWindowDays: campaignFields.clickWindowDays.default(7),
  reserveCpm: campaignFields.reserveCpm.default(null),
  advertiserId: advertiserIdField.optional(),
  status: startState.default('active'),
});
export type CreateCampaign = z.output<typeof CreateCampaignSchema>;

export const UpdateCampaignSchema = z
  .strictObject({
    name: campaignFields.name.optional(),
    bidType: campaignFields.bidType.optional(),
    bid: campaignFields.bid.optional(),
    dailyBudget: campaignFields.dailyBudget.optional(),
    targetCountries: campaignFields.targetCountries.optional(),
    targetDevices: campaignFields.targetDevices.optional(),
    pacing: campaignFields.pacing.optional(),
    frequencyCap: campaignFields.frequencyCap.optional(),
    frequencyWindowHours: campaignFields.frequencyWindowHours.optional(),
    clickWindowDays: campaignFields.clickWindowDays.optional(),
    reserveCpm: campaignFields.reserveCpm.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    error: 'name at least one field to change (status changes: POST .../pause, .../resume, .../archive)',
    // Only once every field passed: an unknown field alone says what is wrong.
    when: (payload) => payload.issues.length === 0,
  });
export type UpdateCampaign = z.output<typeof UpdateCampaignSchema>;

const adFields = {
  title: z.string().trim().min(1, { error: 'must not be empty' }).max(200).describe('The headline users see'),
  text: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(2000)
    .describe('The body text users see'),
  category: z
    .enum(TOPICS, { error: `expected one of ${TOPICS.join(', ')}` })
    .describe("The product's category; the ad's content embedding is derived from it"),
  landingUrl: httpUrl.describe('Where a click takes the user'),
  imageUrl: httpUrl.describe("The creative's image"),
};

export const CreateAdSchema = z.strictObject({ ...adFields, status: startState.default('active') });
export type CreateAd = z.output<typeof CreateAdSchema>;

export const UpdateAdSchema = z
  .strictObject({
    title: adFields.title.optional(),
    text: adFields.text.optional(),
    category: adFields.category.optional(),
    landingUrl: adFields.landingUrl.optional(),
    imageUrl: adFields.imageUrl.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    error: 'name at least one field to change (status changes: POST .../pause, .../resume, .../archive)',
    // Only once every field passed: an unknown field alone says what is wrong.
    when: (payload) => payload.issues.length === 0,
  });
export type UpdateAd = z.output<typeof UpdateAdSchema>;

const id = (what: string) =>
  z.coerce
    .number({ error: `expected ${what} id` })
    .int({ error: `expected ${what} id` })
    .positive({ error: `expected ${what} id` })
    .max(Number.MAX_SAFE_INTEGER, { error: `expected ${what} id` });

export const CampaignIdSchema = id('a campaign');
export const AdIdSchema = id('an ad');
export const AdvertiserIdSchema = id('an advertiser');

const pageLimit = `expected a whole number from 1 to ${MAX_PAGE_LIMIT}`;
/** A list's page: `limit` rows at most, with ids after `after` (the previous page's `next`). */
export const pageFields = (rows: string, oneId: string) => ({
  limit: z.coerce
    .number({ error: pageLimit })
    .int({ error: pageLimit })
    .min(1, { error: pageLimit })
    .max(MAX_PAGE_LIMIT, { error: pageLimit })
    .default(DEFAULT_PAGE_LIMIT)
    .describe(`The most ${rows} this page answers (default ${DEFAULT_PAGE_LIMIT})`),
  after: id(oneId)
    .optional()
    .describe(`The ${rows} after this id: the \`next\` of the previous page; none: from the first`),
});

export const ListCampaignsQuerySchema = z.strictObject({
  status: z.enum(['active', 'paused', 'ended', 'archived']).optional(),
  advertiserId: id('an advertiser').optional(),
  ...pageFields('campaigns', 'a campaign'),
});
export type ListCampaignsQuery = z.output<typeof ListCampaignsQuerySchema>;

export const ListAdsQuerySchema = z.strictObject({
  status: z.enum(['active', 'paused', 'archived']).optional(),
  ...pageFields('ads', 'an ad'),
});
export type ListAdsQuery = z.output<typeof ListAdsQuerySchema>;
