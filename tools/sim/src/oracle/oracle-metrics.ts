import { Rng, groundTruth, type UserLatent } from '@adfunnel/simulator';
import { allocationWelfare, bestAllocation } from './allocation.js';
import type { MarketplaceOracle, OracleContext } from './marketplace-oracle.js';
import { type RankingMetrics, RankingMetricsAccumulator } from './ranking-metrics.js';
import { recall } from './retrieval-recall.js';

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
}

export interface OracleMetrics {
  sampledRequests: number;
  retrieval: RetrievalOracleMetrics | null;
  /** Ranking's pCtr against the true P(click | examined) of every retrieved candidate. */
  ranking: RankingMetrics | null;
  welfare: WelfareOracleMetrics | null;
}

const TOP_FEW = 10;

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
  private readonly ranking = new RankingMetricsAccumulator();

  constructor(private readonly oracle: MarketplaceOracle) {}

  observe(o: OracleObservation): void {
    const { user, ctx } = o;
    const examination = (slot: number) => groundTruth.examination(slot, ctx.surface);
    this.requests++;
    this.retrievalK = o.retrievalLimit;

    const byValue = this.oracle.bestByValue(user, ctx, o.retrievalLimit);
    this.recallSum += recall(o.retrieved, byValue.adIds);
    this.recallTop10Sum += recall(o.retrieved, byValue.adIds.slice(0, TOP_FEW));
    this.recallByClickSum += recall(o.retrieved, this.oracle.bestByClick(user, ctx, o.retrievalLimit).adIds);

    if (o.pCtr !== null) {
      if (o.pCtr.length !== o.retrieved.length) {
        throw new RangeError(
          `ranking returned ${o.pCtr.length} pCtr values for ${o.retrieved.length} candidates`,
        );
      }
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
    const retrieved = o.retrieved.filter((adId) => this.oracle.isEligible(adId, ctx.country, ctx.device));
    this.oracleRetrieved += bestAllocation(
      this.oracle.valued(user, retrieved, ctx),
      o.slots,
      examination,
    ).welfare;
    this.oracleEligible += this.oracle.bestEligibleAllocation(user, ctx, o.slots).welfare;
  }

  result(): OracleMetrics {
    const n = this.requests;
    if (n === 0) return { sampledRequests: 0, retrieval: null, ranking: null, welfare: null };
    return {
      sampledRequests: n,
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
      },
    };
  }
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
