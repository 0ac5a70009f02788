import { describe, expect, it } from '@jest/globals';
import { RateLimiter } from './rate-limiter.js';

describe(RateLimiter.name, () => {
  it('lets a client burst its limit, then refuses it until a token refills', () => {
    const sut = new RateLimiter(3);

    const decisions = [0, 1, 2, 3].map(() => sut.take(['ip a'], 0));

    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]).toEqual({ allowed: false, retryAfterMs: 20_000, blocked: [0] });
    expect(sut.take(['ip a'], 19_999).allowed).toBe(false);
    expect(sut.take(['ip a'], 20_000).allowed).toBe(true);
  });

  it('keeps clients apart', () => {
    const sut = new RateLimiter(1);

    expect(sut.take(['ip a'], 0).allowed).toBe(true);
    expect(sut.take(['ip b'], 0).allowed).toBe(true);
    expect(sut.take(['ip a'], 0).allowed).toBe(false);
  });

  it('charges a request to every key only when each has a token', () => {
    const sut = new RateLimiter(1);
    sut.take(['ip a', 'key k'], 0);

    expect(sut.take(['ip b', 'key k'], 0)).toMatchObject({ allowed: false, blocked: [1] });
    // ip b was not charged for the refused request.
    expect(sut.take(['ip b'], 0).allowed).toBe(true);
  });

  it('forgets refilled clients on sweep and evicts the oldest beyond its size', () => {
    const sut = new RateLimiter(60, 2);
    sut.take(['ip a'], 0);
    sut.take(['ip b'], 59_500);

    sut.sweep(60_000);
    expect(sut.size).toBe(1);

    sut.take(['ip c'], 60_000);
    sut.take(['ip d'], 60_000);
    expect(sut.size).toBe(2);
  });
});
