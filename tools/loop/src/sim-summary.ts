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
  oracle: {
    sampledRequests: number;
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
    } | null;
  } | null;
}
