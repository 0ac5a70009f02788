import { describe, expect, it } from '@jest/globals';
import {
  examinationCurves,
  examinationEnv,
  examinationFile,
  examinationTable,
} from './examination-report.js';
import type { SlotClickTotal } from './slot-click-totals.js';

const total = (
  surface: string,
  device: string,
  slot: number,
  impressions: number,
  clicks: number,
  expectedClicks: number,
): SlotClickTotal => ({ surface, device, slot, impressions, clicks, expectedClicks });

describe(examinationCurves.name, () => {
  // search on mobile: slot 1 delivers half slot 0's share of predicted clicks; on desktop, 0.8 of it
  const totals = [
    total('search', 'mobile', 0, 1000, 100, 100),
    total('search', 'mobile', 1, 1000, 25, 50),
    total('search', 'desktop', 0, 1000, 100, 100),
    total('search', 'desktop', 1, 1000, 40, 50),
    total('home_feed', 'tablet', 0, 100, 5, 5),
  ];

  it('fits a curve per surface (devices pooled) and per surface.device with enough impressions', () => {
    const sut = examinationCurves(totals, 200);
    expect(sut.map((c) => [c.key, c.fit.examination])).toEqual([
      ['search', [1, 0.65]],
      ['search.desktop', [1, 0.8]],
      ['search.mobile', [1, 0.5]],
    ]);
  });

  it('writes the curves in the forms the auction reads: the JSON file and the _BY_SURFACE value', () => {
    const curves = examinationCurves(totals, 200);
    expect(examinationFile(curves)).toEqual({
      search: [1, 0.65],
      'search.desktop': [1, 0.8],
      'search.mobile': [1, 0.5],
    });
    expect(examinationEnv(curves)).toBe('search:1|0.65,search.desktop:1|0.8,search.mobile:1|0.5');
    expect(examinationTable(curves).split('\n')[0]).toMatch(
      /^key\s+slot\s+impr\s+clicks\s+expected\s+ratio\s+examination$/,
    );
  });

  it('says so when nothing can be fitted', () => {
    expect(examinationTable(examinationCurves(totals, 5000))).toBe(
      'no surface has enough scored slot-0 impressions with clicks to fit a curve\n',
    );
  });
});
