import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { ExhaustedCampaignsService } from './exhausted-campaigns.service.js';

/**
 * Down while the exhausted and committed campaigns cannot be refreshed (retrieval keeps serving the
 * last known set).
 */
@Injectable()
@RegisterHealthProbe()
export class BudgetStateProbe implements HealthProbe {
  readonly name = 'budget';

  constructor(private readonly exhausted: ExhaustedCampaignsService) {}

  check(): Promise<Record<string, unknown>> {
    const { exhausted, committed, refreshedAt, failure } = this.exhausted.status();
    if (failure !== undefined) {
      const reason =
        refreshedAt === undefined
          ? `budget state not loaded yet (${failure.message})`
          : `budget state not refreshed since ${new Date(refreshedAt).toISOString()} (${failure.message}); ` +
            `serving with the last known ${exhausted} exhausted and ${committed} committed campaigns`;
      return Promise.reject(new Error(reason));
    }
    return Promise.resolve({
      exhaustedCampaigns: exhausted,
      committedCampaigns: committed,
      ...(refreshedAt === undefined ? {} : { refreshedAt: new Date(refreshedAt).toISOString() }),
    });
  }
}
