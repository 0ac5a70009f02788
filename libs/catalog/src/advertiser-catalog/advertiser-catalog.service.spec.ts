import { describe, expect, it } from '@jest/globals';
import { CampaignEntity } from '../entities/campaign.entity.js';
import { AdvertiserCatalogService, campaignOf, nextState } from './advertiser-catalog.service.js';

describe(AdvertiserCatalogService.name, () => {
  describe('nextState', () => {
    it.each([
      ['active', 'pause', 'paused'],
      ['paused', 'pause', 'paused'],
      ['paused', 'resume', 'active'],
      ['active', 'resume', 'active'],
      ['active', 'archive', 'archived'],
      ['ended', 'archive', 'archived'],
      ['archived', 'archive', 'archived'],
    ] as const)('%s, %s: %s', (current, change, expected) => {
      expect(nextState('campaign', 3, current, change)).toBe(expected);
    });

    it('refuses to bring back what is archived, or to resume an ended campaign', () => {
      expect(() => nextState('ad', 4, 'archived', 'resume')).toThrow(
        'ad 4 is archived; an archived ad cannot be changed',
      );
      expect(() => nextState('campaign', 3, 'ended', 'resume')).toThrow(
        'campaign 3 has ended; it can be archived, not resumed',
      );
    });
  });

  it('shows an archived campaign as archived over the status serving reads', () => {
    const row = Object.assign(new CampaignEntity(), {
      id: 3,
      advertiserId: 1,
      name: 'c',
      status: 'ended',
      bidType: 'CPM',
      bid: 2,
      dailyBudget: 10,
      targetCountries: ['US'],
      targetDevices: [],
      pacing: 'even',
      frequencyCap: null,
      frequencyWindowHours: null,
      clickWindowDays: 7,
      reserveCpm: null,
      createdAt: 1,
      archivedAt: 5,
    });
    expect(campaignOf(row)).toMatchObject({ status: 'archived', archivedAt: 5 });
    expect(campaignOf({ ...row, archivedAt: null })).toMatchObject({ status: 'ended', archivedAt: null });
  });
});
