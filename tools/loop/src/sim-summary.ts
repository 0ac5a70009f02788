/** The oracle figures the driver may leave out, each with the reason it gives. */
export type OracleFigure = 'retrieval' | 'ranking' | 'auc' | 'welfare' | 'efficiency';

/**
 * The part of the traffic driver's JSON summary (tools/sim, `--json`) the loop reads. The driver is
 * run as its CLI, so this mirrors its documented output rather than importing its types.
 */
export interface SimSummary {
  requests: number;
  errors: number;
  degradedShare: number | null;
  unrankedShare: number | null;
  adsReturned: number;
  fillRate: number | null;
  impressions: number;
  clicks: number;
  ctr: number | null;
  conversions: number;
  cvr: number | null;
  trackingErrors: { impression: number; click: number; conversion: number };
  revenue: { total: number };
  advertiserValue: number;
  run: { wallSeconds: number; requestsPerWallSecond: number };
  /** Predicted / observed clicks per surface from logging's monitor (absent without ADMIN_TOKEN). */
  calibration?: {
    calibratedShare: number;
    bySurface: {
      surface: string;
      model: number | null;
      served: number | null;
      calibrated: { impressions: number; model: number | null; served: number | null };
    }[];
  };
  oracle: {
    sampledRequests: number;
    probes: Record<'retrieval' | 'ranking', { route: string; asked: number; failed: number }>;
    /** Retrieval's candidates against the best `k` ads by true value (absent in older runs). */
    retrieval?: { k: number; recall: number; recallAt10: number } | null;
    ranking: {
      rows: number;
      logloss: number;
      bayesLogloss: number;
      expectedLogloss: number;
      expectedBayesLogloss: number;
      auc: number | null;
      bayesAuc: number | null;
      calibration: number | null;
    } | null;
    welfare: {
      chosen: number;
      oracleEligible: number;
      efficiency: number | null;
      efficiencyGivenRetrieved: number | null;
      /** The allocation rule replayed on the retrieved ads, / the best of them (absent in older runs). */
      replayEfficiency?: {
        model: number | null;
        trueProbabilities: number | null;
        trueValues: number | null;
        trueValuesTrueExamination: number | null;
      };
    } | null;
    /** Why each null figure is null. */
    missing: Partial<Record<OracleFigure, string>>;
    /** Figures that cover fewer requests than were sampled, and why. */
    warnings: string[];
  } | null;
}
