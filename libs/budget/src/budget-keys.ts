const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Where the serve-time budget state lives under one key prefix: the charged spend of a billing day
 * (one hash for every campaign), and per campaign-day the in-flight reservations (expiry by member),
 * their amounts and their running sum.
 */
export class BudgetKeys {
  constructor(readonly prefix: string) {
    if (prefix.length === 0) throw new RangeError('the budget key prefix must not be empty');
  }

  spend(day: string): string {
    return `${this.prefix}:spend:${checkDay(day)}`;
  }

  reservations(day: string, campaignId: number): string {
    return `${this.prefix}:reserved:${checkDay(day)}:${checkCampaign(campaignId)}`;
  }

  reservationAmounts(day: string, campaignId: number): string {
    return `${this.prefix}:reserved-amount:${checkDay(day)}:${checkCampaign(campaignId)}`;
  }

  reservedSum(day: string, campaignId: number): string {
    return `${this.prefix}:reserved-sum:${checkDay(day)}:${checkCampaign(campaignId)}`;
  }

  /**
   * Hash campaignId -> the micros its latest reservation asked for (admitted or not) on the day: the
   * size of "one more ad" at the predictions serving uses, which the priors can understate many times.
   */
  reservationSizes(day: string): string {
    return `${this.prefix}:reservation-size:${checkDay(day)}`;
  }

  /** Requests the auction saw in one UTC hour (`hourStartMs` on the hour). */
  pacingRequests(hourStartMs: number): string {
    if (!Number.isSafeInteger(hourStartMs) || hourStartMs % 3_600_000 !== 0) {
      throw new RangeError(`an hour must start on the hour in epoch ms, got ${hourStartMs}`);
    }
    return `${this.prefix}:pacing:requests:${new Date(hourStartMs).toISOString().slice(0, 13)}`;
  }

  /** Hash campaignId -> "<rate>@<valid until ms>", what every replica applies. */
  pacingRates(): string {
    return `${this.prefix}:pacing:rates`;
  }

  /** Hash campaignId -> the controller's state (JSON), read by the replica that updates. */
  pacingStates(): string {
    return `${this.prefix}:pacing:states`;
  }

  /** The last slice whose rates were committed, and the lock of the replica computing the next. */
  pacingSlice(): string {
    return `${this.prefix}:pacing:slice`;
  }

  pacingLock(): string {
    return `${this.prefix}:pacing:lock`;
  }

  frequency(userId: string): string {
    if (userId.length === 0) throw new RangeError('a frequency cap needs a non-empty user id');
    return `${this.prefix}:fcap:${userId}`;
  }
}

function checkDay(day: string): string {
  if (!DAY_PATTERN.test(day)) throw new RangeError(`billing day must be YYYY-MM-DD, got "${day}"`);
  return day;
}

function checkCampaign(campaignId: number): number {
  if (!Number.isSafeInteger(campaignId))
    throw new RangeError(`campaign id must be an integer, got ${campaignId}`);
  return campaignId;
}
