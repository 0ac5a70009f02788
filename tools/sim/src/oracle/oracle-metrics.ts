import { Rng, groundTruth, type UserLatent } from '@adfunnel/simulator';
import type { OracleStage } from '../stage-probe.js';
import { allocationWelfare, bestAllocation } from './allocation.js';
import type { MarketplaceOracle, OracleContext } from './marketplace-oracle.js';
import { type RankingMetrics, RankingMetricsAccumulator } from './ranking-metrics.js';
import { recall } from './retrieval-recall.js';
import { replayWelfare, type WelfareReplay } from './welfare-decomposition.js';

/** What the driver learned about one sampled request, from the funnel and from the stages directly. */
export interface OracleObservation {
  user: UserLatent;
  ctx: OracleContext;
  slots: number;
  /** How many candidates retrieval was asked for (the gateway's RETRIEVAL_CANDIDATES). */
  retrievalLimit: number;
  /** Retrieval's candidates for the same request, best first. */
  retrieved: readonly number[];
  /** Ranking's pCtr for `retrieved`, aligned; null when ranking did not answer. */
  pCtr: readonly number[] | null;
  /** Ranking's pCvr, aligned like pCtr; absent or null: the model replay is left out. */
  pCvr?: readonly number[] | null;
  /** What the gateway served. */
  shown: readonly { slot: number; adId: number }[];
  /** Seed of this request's label draws. */
  drawSeed: number;
}

export interface RetrievalOracleMetrics {
  /** Candidates asked for: recall is measured against the oracle's top `k`. */
  k: number;
  /** Mean over requests of |retrieved ∩ oracle top-k by true expected value| / |oracle top-k|. */
  recall: number;
  /** The same against the oracle's top 10: did retrieval find the ads that matter most? */
  recallAt10: number;
  /** Recall against the top-k by true P(click | examined) alone (relevance, ignoring bids and value). */
  recallByClick: number;
}

export interface WelfareOracleMetrics {
  /** USD of true expected advertiser value, summed over sampled requests (fatigue left out). */
  chosen: number;
  /** Best one-ad-per-advertiser allocation among retrieval's candidates. */
  oracleRetrieved: number;
  /** Best allocation among every eligible ad. */
  oracleEligible: number;
  /** chosen / oracleEligible. */
  efficiency: number | null;
  /** chosen / oracleRetrieved: what ranking and the auction lose. */
  efficiencyGivenRetrieved: number | null;
  /** oracleRetrieved / oracleEligible: what retrieval loses. */
  retrievalEfficiency: number | null;
  /**
   * The funnel's allocation rule replayed on the retrieved ads with the model's predictions, then
   * the true probabilities, then true values too, then the true examination curve (WelfareReplay),
   * USD summed like chosen. `model` is null unless ranking answered every sampled request.
   */
  replay: WelfareReplay;
  /** Each replay / oracleRetrieved: where the gap between chosen and oracleRetrieved comes from. */
  replayEfficiency: { [K in keyof WelfareReplay]: number | null };
}

/** The oracle's direct calls to one stage. */
export interface ProbeTally {
  /** Where the stage was asked (subject, NATS URL, bus namespace). */
  route: string;
  asked: number;
  failed: number;
  /** The first few failures, as the bus reported them. */
  errorSamples: string[];
}

/** The figures that can be missing (null) from OracleMetrics. */
export type OracleFigure = 'retrieval' | 'ranking' | 'auc' | 'welfare' | 'efficiency';

export interface OracleMetrics {
  /** Sampled requests retrieval answered: the figures cover these. */
  sampledRequests: number;
  probes: Record<OracleStage, ProbeTally>;
  retrieval: RetrievalOracleMetrics | null;
  /** Ranking's pCtr against the true P(click | examined) of every retrieved candidate. */
  ranking: RankingMetrics | null;
  welfare: WelfareOracleMetrics | null;
  /** Why each missing figure is missing; a figure that is there has no entry. */
  missing: Partial<Record<OracleFigure, string>>;
  /** Figures that are there but cover fewer requests than were sampled, and why. */
  warnings: string[];
}

const TOP_FEW = 10;
const ERROR_SAMPLES = 3;

/** Measures each stage against the ground truth, request by request. */
export class OracleMetricsAccumulator {
  private requests = 0;
  private recallSum = 0;
  private recallTop10Sum = 0;
  private recallByClickSum = 0;
  private retrievalK = 0;
  private chosen = 0;
  private oracleRetrieved = 0;
  private oracleEligible = 0;
  private readonly replay: WelfareReplay = {
    model: 0,
    trueProbabilities: 0,
    trueValues: 0,
    trueValuesTrueExamination: 0,
  };
  private readonly ranking = new RankingMetricsAccumulator();
  private readonly probes: Record<OracleStage, ProbeTally>;

  constructor(
    private readonly oracle: MarketplaceOracle,
    route: (stage: OracleStage) => string = (stage) => `the ${stage} stage`,
  ) {
    const tally = (stage: OracleStage): ProbeTally => ({
      route: route(stage),
      asked: 0,
      failed: 0,
      errorSamples: [],
    });
    this.probes = { retrieval: tally('retrieval'), ranking: tally('ranking') };
  }

  probeAnswered(stage: OracleStage): void {
    this.probes[stage].asked++;
  }

  probeFailed(stage: OracleStage, message: string): void {
    const tally = this.probes[stage];
    tally.asked++;
    tally.failed++;
    if (tally.errorSamples.length < ERROR_SAMPLES) tally.errorSamples.push(message);
  }

  observe(o: OracleObservation): void {
    const { user, ctx } = o;
    if (o.pCtr !== null && o.pCtr.length !== o.retrieved.length) {
      throw new RangeError(
        `ranking returned ${o.pCtr.length} pCtr values for ${o.retrieved.length} candidates`,
      );
    }
    const examination = (slot: number) => groundTruth.examination(slot, ctx.surface);
    this.requests++;
    this.retrievalK = o.retrievalLimit;

    const byValue = this.oracle.bestByValue(user, ctx, o.retrievalLimit);
    this.recallSum += recall(o.retrieved, byValue.adIds);
    this.recallTop10Sum += recall(o.retrieved, byValue.adIds.slice(0, TOP_FEW));
    this.recallByClickSum += recall(o.retrieved, this.oracle.bestByClick(user, ctx, o.retrievalLimit).adIds);

    if (o.pCtr !== null) {
      const draws = new Rng(o.drawSeed);
      o.retrieved.forEach((adId, i) => {
        const p = this.oracle.pClickExamined(user, adId, ctx);
        this.ranking.add(o.pCtr![i], p, draws.bernoulli(p) ? 1 : 0);
      });
    }

    this.chosen += allocationWelfare(
      o.shown.map((s) => ({ slot: s.slot, value: this.oracle.expectedValue(user, s.adId, ctx) })),
      examination,
    );
    const kept = o.retrieved.flatMap((adId, i) =>
      this.oracle.isEligible(adId, ctx.country, ctx.device) ? [i] : [],
    );
    const retrieved = kept.map((i) => o.retrieved[i]);
    const scores =
      o.pCtr !== null && o.pCvr !== undefined && o.pCvr !== null ? { pCtr: o.pCtr, pCvr: o.pCvr } : null;
    const replayed = replayWelfare(
      this.oracle.replayAds(
        user,
        retrieved,
        ctx,
        scores === null
          ? null
          : { pCtr: kept.map((i) => scores.pCtr[i]), pCvr: kept.map((i) => scores.pCvr[i]) },
      ),
      o.slots,
      examination,
    );
    this.replay.model =
      this.replay.model === null || replayed.model === null ? null : this.replay.model + replayed.model;
    this.replay.trueProbabilities += replayed.trueProbabilities;
    this.replay.trueValues += replayed.trueValues;
    this.replay.trueValuesTrueExamination += replayed.trueValuesTrueExamination;
    this.oracleRetrieved += bestAllocation(
      this.oracle.valued(user, retrieved, ctx),
      o.slots,
      examination,
    ).welfare;
    this.oracleEligible += this.oracle.bestEligibleAllocation(user, ctx, o.slots).welfare;
  }

  result(): OracleMetrics {
    const n = this.requests;
    const probes = { retrieval: { ...this.probes.retrieval }, ranking: { ...this.probes.ranking } };
    if (n === 0) {
      const reason = this.retrievalMissing();
      return {
        sampledRequests: 0,
        probes,
        retrieval: null,
        ranking: null,
        welfare: null,
        missing: { retrieval: reason, ranking: reason, auc: reason, welfare: reason, efficiency: reason },
        warnings: [],
      };
    }
    const metrics: OracleMetrics = {
      sampledRequests: n,
      probes,
      retrieval: {
        k: this.retrievalK,
        recall: this.recallSum / n,
        recallAt10: this.recallTop10Sum / n,
        recallByClick: this.recallByClickSum / n,
      },
      ranking: this.ranking.result(),
      welfare: {
        chosen: this.chosen,
        oracleRetrieved: this.oracleRetrieved,
        oracleEligible: this.oracleEligible,
        efficiency: ratio(this.chosen, this.oracleEligible),
        efficiencyGivenRetrieved: ratio(this.chosen, this.oracleRetrieved),
        retrievalEfficiency: ratio(this.oracleRetrieved, this.oracleEligible),
        replay: { ...this.replay },
        replayEfficiency: {
          model: this.replay.model === null ? null : ratio(this.replay.model, this.oracleRetrieved),
          trueProbabilities: ratio(this.replay.trueProbabilities, this.oracleRetrieved),
          trueValues: ratio(this.replay.trueValues, this.oracleRetrieved),
          trueValuesTrueExamination: ratio(this.replay.trueValuesTrueExamination, this.oracleRetrieved),
        },
      },
      missing: {},
      warnings: [],
    };
    if (metrics.ranking === null) {
      metrics.missing.ranking = this.rankingMissing(n);
      metrics.missing.auc = metrics.missing.ranking;
    } else if (metrics.ranking.auc === null || metrics.ranking.bayesAuc === null) {
      metrics.missing.auc =
        `the ${metrics.ranking.rows} drawn labels have ${metrics.ranking.positives} clicks: ` +
        'AUC needs both clicks and non-clicks (sample more requests)';
    }
    if (this.oracleEligible === 0) {
      metrics.missing.efficiency = `no sampled request had an eligible ad of any value (${n} requests)`;
    } else if (this.oracleRetrieved === 0) {
      metrics.missing.efficiency = `retrieval's candidates had no eligible ad of any value (${n} requests)`;
    }
    for (const stage of ['retrieval', 'ranking'] as const) {
      const t = probes[stage];
      if (t.failed > 0 && t.failed < t.asked) {
        metrics.warnings.push(
          `${failures(stage, t)}; its figures cover the ${t.asked - t.failed} requests it answered`,
        );
      }
    }
    return metrics;
  }

  private retrievalMissing(): string {
    const t = this.probes.retrieval;
    if (t.asked === 0)
      return 'no request was picked for the oracle sample (more requests, or a larger --oracle-sample)';
    return failures('retrieval', t);
  }

  private rankingMissing(sampled: number): string {
    const t = this.probes.ranking;
    if (t.asked === 0) {
      return `retrieval returned no candidates for any of the ${sampled} sampled requests, so ranking was never asked`;
    }
    if (t.failed === t.asked) return failures('ranking', t);
    return `ranking answered ${t.asked - t.failed} of ${t.asked} probes without a score to compare`;
  }
}

function failures(stage: OracleStage, t: ProbeTally): string {
  const example = t.errorSamples.length > 0 ? ` (e.g. "${t.errorSamples[0]}")` : '';
  return `${stage} did not answer on ${t.route}: ${t.failed} of ${t.asked} probes failed${example}`;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
