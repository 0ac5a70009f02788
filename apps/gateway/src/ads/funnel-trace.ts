import type { AuctionResponse, ScoreResponse, UserContext } from '@adfunnel/contracts';

/** What the answer and the served record need from one request's stages; null where the stage failed or was skipped. */
export interface FunnelTrace {
  requestId: string;
  servedAt: number;
  user: UserContext;
  scores: ScoreResponse | null;
  /** The ads ranking scored, in the order of the scores' arrays. */
  scoredAdIds?: readonly number[];
  auction: AuctionResponse | null;
  /**
   * The request's experiment arms (`layer:experiment/arm,...`, `holdout`, or `` for none), when
   * EXPERIMENTS_CONFIG is set; absent otherwise.
   */
  experimentArms?: string;
  /** The budget slice its winners were reserved from (a budget-split layer); absent: the whole budget. */
  budgetSlice?: string;
}
