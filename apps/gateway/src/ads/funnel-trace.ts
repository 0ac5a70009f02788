import type { AuctionResponse, CandidatesResponse, ScoreResponse, UserContext } from '@adfunnel/contracts';

/** What one request learned from each stage; null where the stage failed or was skipped. */
export interface FunnelTrace {
  requestId: string;
  servedAt: number;
  user: UserContext;
  candidates: CandidatesResponse | null;
  scores: ScoreResponse | null;
  auction: AuctionResponse | null;
}
