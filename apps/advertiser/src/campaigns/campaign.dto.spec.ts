import { describe, expect, it } from '@jest/globals';
import { formatZodError } from '@adfunnel/platform';
import type { z } from 'zod';
import {
  CreateAdSchema,
  CreateCampaignSchema,
  UpdateAdSchema,
  UpdateCampaignSchema,
} from './campaign.dto.js';

const problem = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a rejection');
  return formatZodError(result.error);
};

const campaign = { name: 'Spring', bidType: 'CPC', bid: 0.5, dailyBudget: 100 };
const ad = {
  title: 'Acme: kettle',
  text: 'Boils in a minute.',
  category: 'home',
  landingUrl: 'https://acme.example.com/kettle',
  imageUrl: 'https://img.example.com/kettle.jpg',
};

describe('CreateCampaignSchema', () => {
  it('fills the defaults a campaign starts with', () => {
    expect(CreateCampaignSchema.parse(campaign)).toEqual({
      ...campaign,
      targetCountries: [],
      targetDevices: [],
      pacing: 'even',
      frequencyCap: null,
      frequencyWindowHours: null,
      clickWindowDays: 7,
      reserveCpm: null,
      status: 'active',
    });
  });

  it.each([
    [{ bidType: 'CPV' }, 'bidType: expected one of "CPM"|"CPC"|"CPA"'],
    [{ bid: 0 }, 'bid: expected a number of USD above 0'],
    [{ bid: 20_000 }, 'bid: expected at most 10000 USD'],
    [{ dailyBudget: '100' }, 'dailyBudget: expected number, received string'],
    [{ targetCountries: ['US', 'US'] }, 'targetCountries: lists a country twice'],
    [{ targetDevices: ['phone'] }, 'targetDevices[0]: expected one of "mobile"|"desktop"|"tablet"'],
    [{ pacing: 'fast' }, 'pacing: expected one of "even"|"asap"'],
    [{ frequencyCap: 1.5 }, 'frequencyCap: expected an integer'],
    [{ clickWindowDays: 365 }, 'clickWindowDays: expected at most 90 days'],
    [{ reserveCpm: -1 }, 'reserveCpm: expected a number of USD from 0'],
    [{ status: 'ended' }, 'status: expected one of "active"|"paused"'],
    [{ name: '  ' }, 'name: must not be empty'],
    [{ budget: 5 }, 'unknown field "budget"'],
  ])('refuses %j naming the field', (change, message) => {
    expect(problem(CreateCampaignSchema, { ...campaign, ...change })).toBe(message);
  });
});

describe('UpdateCampaignSchema', () => {
  it('takes any subset of the settings, and nothing else', () => {
    expect(UpdateCampaignSchema.parse({ dailyBudget: 50 })).toEqual({ dailyBudget: 50 });
    expect(problem(UpdateCampaignSchema, { status: 'paused' })).toBe('unknown field "status"');
    expect(problem(UpdateCampaignSchema, {})).toMatch(/^name at least one field to change/);
  });
});

describe('CreateAdSchema', () => {
  it('takes a creative, active by default', () => {
    expect(CreateAdSchema.parse(ad)).toEqual({ ...ad, status: 'active' });
  });

  it.each([
    [{ category: 'cars' }, /^category: expected one of fashion, electronics, /],
    [{ landingUrl: 'javascript:alert(1)' }, /^landingUrl: expected an http\(s\) URL$/],
    [
      { imageUrl: `https://img.example.com/${'x'.repeat(520)}` },
      /^imageUrl: expected at most 512 characters$/,
    ],
    [{ title: '' }, /^title: must not be empty$/],
    [{ embedding: [0.1] }, /^unknown field "embedding"$/],
  ])('refuses %j naming the field', (change, message) => {
    expect(problem(CreateAdSchema, { ...ad, ...change })).toMatch(message);
  });

  it('changes a creative field by field', () => {
    expect(UpdateAdSchema.parse({ title: 'New' })).toEqual({ title: 'New' });
  });
});
