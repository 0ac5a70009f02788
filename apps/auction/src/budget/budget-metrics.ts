import { type Counter, Metrics, startAtZero } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';

const MICROS_PER_USD = 1e6;

/**
 * The auction's side of the budgets on /metrics: winners whose reservation was kept for serving,
 * refused because their campaign's budget could not hold it, or given back for a rerun; the USD the
 * kept reservations hold until their events are charged; reruns; requests served no ads because
 * the budget state could not be reached; serves the frequency caps could not count.
 */
@Injectable()
export class BudgetMetrics {
  private readonly admitted: Counter.Internal;
  private readonly refused: Counter.Internal;
  private readonly released: Counter.Internal;
  private readonly reservedUsd: Counter.Internal;
  private readonly reruns: Counter.Internal;
  private readonly unavailable: Counter.Internal;
  private readonly capsNotCounted: Counter.Internal;

  constructor(metrics: Metrics) {
    const reservations = metrics.counter({
      name: 'adfunnel_auction_budget_reservations_total',
      help: 'Auction winners by what became of their budget reservation: admitted (served), refused (the budget could not hold it), released (given back for a rerun)',
      labelNames: ['outcome'],
    });
    this.admitted = startAtZero(reservations.labels('admitted'));
    this.refused = startAtZero(reservations.labels('refused'));
    this.released = startAtZero(reservations.labels('released'));
    this.reservedUsd = startAtZero(
      metrics.counter({
        name: 'adfunnel_auction_budget_reserved_usd_total',
        help: 'Expected cost of the served winners reserved on their campaigns’ budgets, in USD',
      }),
    );
    this.reruns = startAtZero(
      metrics.counter({
        name: 'adfunnel_auction_budget_reruns_total',
        help: 'Auctions run again without the campaigns whose budget refused a winner',
      }),
    );
    this.unavailable = startAtZero(
      metrics.counter({
        name: 'adfunnel_auction_budget_unavailable_total',
        help: 'Auction requests answered with an error because the budget state could not be reached',
      }),
    );
    this.capsNotCounted = startAtZero(
      metrics.counter({
        name: 'adfunnel_auction_frequency_cap_failures_total',
        help: 'Requests whose served winners could not be counted against the user’s frequency caps',
      }),
    );
  }

  /** One run's reservations: `refused` of them refused, the rest given back (`rerun`) or kept. */
  reserved(amountsMicros: readonly number[], admitted: readonly boolean[], rerun: boolean): void {
    let kept = 0;
    let keptMicros = 0;
    for (let i = 0; i < admitted.length; i++) {
      if (!admitted[i]) continue;
      kept++;
      keptMicros += amountsMicros[i] ?? 0;
    }
    this.refused.inc(admitted.length - kept);
    if (rerun) {
      this.released.inc(kept);
      this.reruns.inc();
      return;
    }
    this.admitted.inc(kept);
    this.reservedUsd.inc(keptMicros / MICROS_PER_USD);
  }

  budgetUnavailable(): void {
    this.unavailable.inc();
  }

  capsFailed(): void {
    this.capsNotCounted.inc();
  }
}
