/** Population-level rates used to value ads that have no model predictions. */
export interface PredictionPriors {
  readonly pCtr: number;
  readonly pCvr: number;
}

/**
 * The defaults of the auction's priors (AUCTION_PRIOR_CTR / AUCTION_PRIOR_CVR) and of retrieval's
 * popular list, so that list is ordered the way the auction values ads without predictions.
 */
export const DEFAULT_PREDICTION_PRIORS: PredictionPriors = Object.freeze({ pCtr: 0.01, pCvr: 0.05 });
