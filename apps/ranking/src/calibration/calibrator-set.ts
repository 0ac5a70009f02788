import type { BidType, Surface } from '@adfunnel/contracts';
import { type Calibrator, applyCalibrationMap } from '@adfunnel/models';

/** What one request's calibrated scores are, and which calibrators made them. */
export interface CalibratedScores {
  pCtr: number[];
  /** `<modelVersion>@<fittedAt>`: logged beside the raw pCTR so a served row says what applied. */
  id: string;
}

/**
 * The calibrators of one refresh, looked up by model version, surface and bid type. A model version
 * without one (a new model, or too few clicks yet) is served uncalibrated: a calibrator never applies
 * to a version other than the one it was fitted on.
 */
export class CalibratorSet {
  private readonly byKey = new Map<string, Calibrator>();

  constructor(
    readonly calibrators: readonly Calibrator[],
    readonly fittedAt: number,
  ) {
    for (const c of calibrators) this.byKey.set(key(c.modelVersion, c.surface, c.bidType), c);
  }

  static readonly EMPTY = new CalibratorSet([], 0);

  idFor(modelVersion: string): string {
    return `${modelVersion}@${new Date(this.fittedAt).toISOString()}`;
  }

  /** pCtr (parallel to bidTypes) through the bid type's calibrator, else the surface's; null without either. */
  apply(
    modelVersion: string,
    surface: Surface,
    bidTypes: readonly BidType[],
    pCtr: ArrayLike<number>,
  ): CalibratedScores | null {
    const pooled = this.byKey.get(key(modelVersion, surface, null));
    if (pooled === undefined) return null;
    const calibrated = new Array<number>(pCtr.length);
    for (let i = 0; i < pCtr.length; i++) {
      const calibrator = this.byKey.get(key(modelVersion, surface, bidTypes[i])) ?? pooled;
      calibrated[i] = applyCalibrationMap(calibrator.map, pCtr[i]);
    }
    return { pCtr: calibrated, id: this.idFor(modelVersion) };
  }
}

function key(modelVersion: string, surface: Surface, bidType: BidType | null): string {
  return `${modelVersion}\u0000${surface}\u0000${bidType ?? '*'}`;
}
