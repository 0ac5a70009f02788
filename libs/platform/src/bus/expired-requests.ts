import { Injectable } from '@nestjs/common';
import { type HealthProbe, RegisterHealthProbe } from '../health/health-probe.js';

/**
 * Bus requests this service refused because their deadline had passed (work the caller no longer
 * waits for), by pattern, since it started; reported on /health (`expiredRequests`), which stays up
 * whatever the count. A rising count means the caller gives up before the stages get to its requests.
 */
@Injectable()
@RegisterHealthProbe()
export class ExpiredRequests implements HealthProbe {
  readonly name = 'expiredRequests';
  private readonly counts = new Map<string, number>();
  private total = 0;

  count(pattern: string): void {
    this.counts.set(pattern, (this.counts.get(pattern) ?? 0) + 1);
    this.total++;
  }

  snapshot(): { total: number; byPattern: Record<string, number> } {
    return { total: this.total, byPattern: Object.fromEntries(this.counts) };
  }

  check(): Promise<Record<string, unknown>> {
    return Promise.resolve(this.snapshot());
  }
}
