import { Metrics } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { ExhaustedCampaignsService } from './exhausted-campaigns.service.js';

/**
 * The campaigns retrieval leaves out for their budget, as of its last refresh of the budget state,
 * read at each scrape: `exhausted` (charged spend reached the daily budget) and `committed` (spend
 * and live reservations did); and whether that refresh is failing (the last known sets serve).
 */
@Injectable()
export class BudgetStateMetrics {
  constructor(metrics: Metrics, exhausted: ExhaustedCampaignsService) {
    metrics.gauge({
      name: 'adfunnel_retrieval_budget_excluded_campaigns',
      help: 'Campaigns left out of retrieval for their budget today, by state: exhausted (charged) or committed (charged and reserved)',
      labelNames: ['state'],
      collect() {
        const status = exhausted.status();
        this.labels('exhausted').set(status.exhausted);
        this.labels('committed').set(status.committed);
      },
    });
    metrics.gauge({
      name: 'adfunnel_retrieval_budget_state_stale',
      help: '1 while the budget state cannot be refreshed from Redis (the last known campaigns stay out), else 0',
      collect() {
        this.set(exhausted.status().failure === undefined ? 0 : 1);
      },
    });
  }
}
