import { Injectable } from '@nestjs/common';
import { type HealthProbe, RegisterHealthProbe } from '../health/health-probe.js';

/** Beyond this many distinct reasons on one pattern, further ones count as `other`. */
const MAX_REASONS_PER_PATTERN = 32;

/**
 * Bus messages this service refused because they failed their schema, by pattern and reason, since
 * it started; reported on /health (`rejectedMessages`), which stays up whatever the count.
 */
@Injectable()
@RegisterHealthProbe()
export class BusRejections implements HealthProbe {
  readonly name = 'rejectedMessages';
  private readonly counts = new Map<string, Map<string, number>>();
  private total = 0;

  count(pattern: string, reason: string): void {
    let reasons = this.counts.get(pattern);
    if (reasons === undefined) {
      reasons = new Map();
      this.counts.set(pattern, reasons);
    }
    const key = reasons.has(reason) || reasons.size < MAX_REASONS_PER_PATTERN ? reason : 'other';
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
    this.total++;
  }

  snapshot(): { total: number; byPattern: Record<string, Record<string, number>> } {
    const byPattern: Record<string, Record<string, number>> = {};
    for (const [pattern, reasons] of this.counts) byPattern[pattern] = Object.fromEntries(reasons);
    return { total: this.total, byPattern };
  }

  check(): Promise<Record<string, unknown>> {
    return Promise.resolve(this.snapshot());
  }
}
