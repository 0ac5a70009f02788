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
