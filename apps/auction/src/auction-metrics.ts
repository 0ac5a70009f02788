import { SURFACES, type AuctionResponse, type Surface } from '@adfunnel/contracts';
import { type Counter, Metrics, startAtZero } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';

interface SurfaceCounters {
  won: Counter.Internal;
  noWinner: Counter.Internal;
  winners: Counter.Internal;
  candidates: Counter.Internal;
}

/**
 * Auctions answered by surface: with winners or without (every candidate below the reserve or the
 * quality floors, filtered by pacing, or refused by its budget), the winners served and the
 * candidates they were chosen from.
 */
@Injectable()
export class AuctionMetrics {
  private readonly surfaces: Record<Surface, SurfaceCounters>;

  constructor(metrics: Metrics) {
    const runs = metrics.counter({
      name: 'adfunnel_auction_runs_total',
      help: 'Auctions answered, by surface and outcome: won (at least one winner) or no_winner',
      labelNames: ['surface', 'outcome'],
    });
    const winners = metrics.counter({
      name: 'adfunnel_auction_winners_total',
      help: 'Winners the auction answered (after budget admission), by surface',
      labelNames: ['surface'],
    });
    const candidates = metrics.counter({
      name: 'adfunnel_auction_candidates_total',
      help: 'Candidates the auctions considered, by surface',
      labelNames: ['surface'],
    });
    this.surfaces = Object.fromEntries(
      SURFACES.map((surface) => [
        surface,
        {
          won: startAtZero(runs.labels(surface, 'won')),
          noWinner: startAtZero(runs.labels(surface, 'no_winner')),
          winners: startAtZero(winners.labels(surface)),
          candidates: startAtZero(candidates.labels(surface)),
        },
      ]),
    ) as Record<Surface, SurfaceCounters>;
  }

  answered(surface: Surface, response: AuctionResponse): void {
    const counters = this.surfaces[surface];
    (response.winners.length > 0 ? counters.won : counters.noWinner).inc();
    counters.winners.inc(response.winners.length);
    counters.candidates.inc(response.considered);
  }
}
