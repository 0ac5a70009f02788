import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { PacingService } from './pacing.service.js';

/** Down while the shared pacing rates cannot be reloaded (the auction keeps the last known ones). */
@Injectable()
@RegisterHealthProbe()
export class PacingProbe implements HealthProbe {
  readonly name = 'pacing';

  constructor(private readonly pacing: PacingService) {}

  check(): Promise<Record<string, unknown>> {
    const { enabled, throttled, rates, refreshedAt, failure } = this.pacing.status();
    if (failure !== undefined) {
      return Promise.reject(
        new Error(
          `pacing rates not refreshed since ${new Date(failure.since).toISOString()} (${failure.message}); keeping the last known ${rates}`,
        ),
      );
    }
    return Promise.resolve({
      enabled,
      pacedCampaigns: rates,
      throttled,
      ...(refreshedAt === undefined ? {} : { refreshedAt: new Date(refreshedAt).toISOString() }),
    });
  }
}
