import { describe, expect, it } from '@jest/globals';
import { type RunCalibration, calibrationRows } from './run-calibration.js';

describe(calibrationRows.name, () => {
  it('gives each surface the model and served ratio, with the interval and the calibrated impressions alone', () => {
    const calibration: RunCalibration = {
      impressions: 18_000,
      calibratedShare: 0.62,
      bySurface: [
        {
          surface: 'search',
          impressions: 6_000,
          clicks: 310,
          model: 0.874,
          served: 0.951,
          servedCi95: [0.85, 1.07],
          calibrated: { impressions: 3_900, model: 0.86, served: 1.004 },
        },
      ],
    };

    expect(calibrationRows(calibration)).toEqual([
      ['calibrated impressions', '62.0% of 18,000'],
      [
        'search predicted/observed',
        'model 0.874, served 0.951 [0.850, 1.070] (310 clicks); calibrated only: model 0.860, served 1.004',
      ],
    ]);
  });
});
