/**
 * Where the activity state lives under one key prefix (the funnel's; tests use one per run): one hash
 * per user (and the ids of the organic events folded into it), and per country the trending sorted set with its decay epoch.
 */
export class UserActivityKeys {
  constructor(readonly prefix: string) {
    if (prefix.length === 0) throw new RangeError('the user activity key prefix must not be empty');
  }

  /** Hash of the user's decayed counts, recent lists and the request ids whose queries were folded. */
  user(userId: string): string {
    if (userId.length === 0) throw new RangeError('user activity needs a non-empty user id');
    return `${this.prefix}:activity:${userId}`;
  }

  /** Sorted set of the organic event ids folded into user(userId) (id -> the event's time), the latest kept. */
  organicIds(userId: string): string {
    if (userId.length === 0) throw new RangeError('user activity needs a non-empty user id');
    return `${this.prefix}:organic-ids:${userId}`;
  }

  /** Sorted set ad id -> decayed clicks in `country`, scaled by 2^((t - epoch) / halfLife). */
  trending(country: string): string {
    return `${this.prefix}:trending:${checkCountry(country)}`;
  }

  /** The epoch (ms) the scores of trending(country) are scaled from. */
  trendingEpoch(country: string): string {
    return `${this.prefix}:trending-epoch:${checkCountry(country)}`;
  }
}

function checkCountry(country: string): string {
  if (!/^[A-Z]{2}$/.test(country)) {
    throw new RangeError(`country must be an ISO 3166-1 alpha-2 code in upper case, got "${country}"`);
  }
  return country;
}
