import { describe, expect, it } from '@jest/globals';
import { isIanaTimeZone } from '@adfunnel/catalog';
import { DEMO_MARKETPLACE, campaignCount } from '@adfunnel/simulator';
import { seededAdvertiserTimeZone, seededCampaignSettings } from './account-settings.js';

const spec = DEMO_MARKETPLACE;

describe(seededAdvertiserTimeZone.name, () => {
  const zones = Array.from({ length: spec.advertisers }, (_, i) => seededAdvertiserTimeZone(spec, i));

  it('puts most advertisers in UTC and a few in other IANA zones, the same on every call', () => {
    const utc = zones.filter((z) => z === 'UTC').length / zones.length;
    expect(utc).toBeGreaterThan(0.8);
    expect(utc).toBeLessThan(0.98);
    for (const zone of zones) expect(isIanaTimeZone(zone)).toBe(true);
    expect(Array.from({ length: spec.advertisers }, (_, i) => seededAdvertiserTimeZone(spec, i))).toEqual(
      zones,
    );
  });

  it('depends on the seed', () => {
    const other = Array.from({ length: spec.advertisers }, (_, i) =>
      seededAdvertiserTimeZone({ ...spec, seed: spec.seed + 1 }, i),
    );
    expect(other).not.toEqual(zones);
  });
});

describe(seededCampaignSettings.name, () => {
  const settings = Array.from({ length: campaignCount(spec) }, (_, i) => seededCampaignSettings(spec, i));

  it('paces most campaigns evenly and some as fast as possible', () => {
    const asap = settings.filter((s) => s.pacing === 'asap').length / settings.length;
    expect(asap).toBeGreaterThan(0.05);
    expect(asap).toBeLessThan(0.3);
  });

  it('gives most campaigns the 7-day click window and the default frequency cap', () => {
    expect(settings.filter((s) => s.clickWindowDays === 7).length / settings.length).toBeGreaterThan(0.6);
    expect(new Set(settings.map((s) => s.clickWindowDays))).toEqual(new Set([1, 7, 14, 30]));
    const ownCap = settings.filter((s) => s.frequencyCap !== null);
    expect(ownCap.length / settings.length).toBeGreaterThan(0.1);
    expect(ownCap.length / settings.length).toBeLessThan(0.3);
  });

  it('sets a cap and its window together or neither', () => {
    for (const s of settings) {
      expect(s.frequencyCap === null).toBe(s.frequencyWindowHours === null);
      if (s.frequencyCap !== null) {
        expect(s.frequencyCap).toBeGreaterThan(0);
        expect(s.frequencyWindowHours).toBeGreaterThan(0);
      }
    }
  });
});
