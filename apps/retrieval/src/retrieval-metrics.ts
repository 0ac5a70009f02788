import {
  CANDIDATE_SOURCES,
  type CandidateSource,
  type CandidatesResponse,
  SURFACES,
  type Surface,
} from '@adfunnel/contracts';
import { type Counter, Metrics, startAtZero } from '@adfunnel/platform';
import { Injectable, Optional } from '@nestjs/common';
import { TwoTowerRetrievalService } from './two-tower/two-tower-retrieval.service.js';

interface SurfaceCounters {
  withCandidates: Counter.Internal;
  empty: Counter.Internal;
  bySource: Record<CandidateSource, Counter.Internal>;
}

/**
 * Retrieval on /metrics: answers with and without candidates by surface, the candidates by the
 * source that found them, and the two-tower model version in service (`adfunnel_model_info`, none
 * while the heuristic serves), read at each scrape.
 */
@Injectable()
export class RetrievalMetrics {
  private readonly surfaces: Record<Surface, SurfaceCounters>;
  /** One request's candidates per source, reused: a request is counted synchronously. */
  private readonly tally = new Map<CandidateSource, number>();

  constructor(metrics: Metrics, @Optional() towers?: TwoTowerRetrievalService) {
    const answers = metrics.counter({
      name: 'adfunnel_retrieval_answers_total',
      help: 'Candidate requests answered, by surface and outcome: candidates, or empty (no eligible ad found)',
      labelNames: ['surface', 'outcome'],
    });
    const candidates = metrics.counter({
      name: 'adfunnel_retrieval_candidates_total',
      help: 'Candidates answered, by surface and the source that found them',
      labelNames: ['surface', 'source'],
    });
    this.surfaces = Object.fromEntries(
      SURFACES.map((surface) => [
        surface,
        {
          withCandidates: startAtZero(answers.labels(surface, 'candidates')),
          empty: startAtZero(answers.labels(surface, 'empty')),
          bySource: Object.fromEntries(
            CANDIDATE_SOURCES.map((source) => [source, startAtZero(candidates.labels(surface, source))]),
          ) as Record<CandidateSource, Counter.Internal>,
        },
      ]),
    ) as Record<Surface, SurfaceCounters>;
    if (towers === undefined) return;
    metrics.gauge({
      name: 'adfunnel_model_info',
      help: 'The model versions a stage serves: 1 per stage, role (live, shadow) and version',
      labelNames: ['stage', 'role', 'version'],
      collect() {
        this.reset();
        const version = towers.modelVersion();
        if (version !== null) this.labels('retrieval', 'live', version).set(1);
      },
    });
  }

  answered(surface: Surface, response: CandidatesResponse): void {
    const counters = this.surfaces[surface];
    if (response.adIds.length === 0) {
      counters.empty.inc();
      return;
    }
    counters.withCandidates.inc();
    const tally = this.tally;
    tally.clear();
    for (const source of response.sources) tally.set(source, (tally.get(source) ?? 0) + 1);
    for (const [source, n] of tally) counters.bySource[source].inc(n);
  }
}
