import { describe, expect, it } from '@jest/globals';
import {
  type Admission,
  AdmissionController,
  type AdmissionLimits,
  MIN_ADAPTIVE_LIMIT,
} from './admission-controller.js';

const FIXED: AdmissionLimits = { maxInFlight: 3, targetLatencyMs: 0, maxEventLoopDelayMs: 0 };

function admitted(decision: Admission): Extract<Admission, { admitted: true }> {
  if (!decision.admitted) throw new Error(`expected admission, got shed: ${decision.message}`);
  return decision;
}

function shed(decision: Admission): Extract<Admission, { admitted: false }> {
  if (decision.admitted) throw new Error('expected the request to be shed');
  return decision;
}

describe(AdmissionController.name, () => {
  describe('the in-flight limit', () => {
    it('admits up to maxInFlight at once and sheds the next with the reason and the variable', () => {
      const sut = new AdmissionController(FIXED, { random: () => 0 });
      for (let i = 0; i < 3; i++) admitted(sut.admit());

      const refused = shed(sut.admit());

      expect(refused).toEqual({
        admitted: false,
        signal: 'in_flight',
        retryAfterSeconds: 1,
        message:
          'the gateway is serving its limit of 3 ad requests at once (GATEWAY_MAX_IN_FLIGHT); retry in 1 s',
      });
      expect(sut.snapshot()).toMatchObject({
        inFlight: 3,
        limit: 3,
        admitted: 3,
        shed: { total: 1, in_flight: 1, event_loop_delay: 0 },
      });
    });

    it('frees a slot when a request is released, once however often release is called', () => {
      const sut = new AdmissionController(FIXED);
      const first = admitted(sut.admit());
      admitted(sut.admit());
      admitted(sut.admit());
      shed(sut.admit());

      first.release();
      first.release();

      admitted(sut.admit());
      shed(sut.admit());
      expect(sut.snapshot().inFlight).toBe(3);
    });

    it('asks shed clients back after 1 or 2 s, drawn at random so they do not return together', () => {
      const retryAfter = (random: number) => {
        const sut = new AdmissionController({ ...FIXED, maxInFlight: 1 }, { random: () => random });
        admitted(sut.admit());
        return shed(sut.admit()).retryAfterSeconds;
      };

      expect([retryAfter(0), retryAfter(0.49), retryAfter(0.5), retryAfter(0.999)]).toEqual([1, 1, 2, 2]);
    });

    it('sheds nothing with no limit and no event-loop threshold', () => {
      const sut = new AdmissionController({ maxInFlight: 0, targetLatencyMs: 0, maxEventLoopDelayMs: 0 });

      for (let i = 0; i < 1000; i++) admitted(sut.admit());
      expect(sut.enabled).toBe(false);
      expect(sut.snapshot()).toMatchObject({ inFlight: 1000, limit: 0, shed: { total: 0 } });
    });
  });

  describe('the event-loop signal', () => {
    const limits: AdmissionLimits = { maxInFlight: 0, targetLatencyMs: 0, maxEventLoopDelayMs: 40 };

    it(`sheds while the loop runs further behind than allowed, past ${MIN_ADAPTIVE_LIMIT} in flight`, () => {
      let delayMs = 0;
      const sut = new AdmissionController(limits, { delay: { delayMs: () => delayMs }, random: () => 0 });
      const held = Array.from({ length: MIN_ADAPTIVE_LIMIT + 1 }, () => admitted(sut.admit()));

      delayMs = 40;
      admitted(sut.admit());
      delayMs = 41;
      const refused = shed(sut.admit());

      expect(refused.signal).toBe('event_loop_delay');
      expect(refused.message).toBe(
        "the gateway's event loop runs 41 ms behind, more than GATEWAY_MAX_EVENT_LOOP_DELAY_MS 40; retry in 1 s",
      );
      delayMs = 5;
      admitted(sut.admit());
      expect(sut.snapshot()).toMatchObject({
        eventLoopDelayMs: 5,
        shed: { total: 1, in_flight: 0, event_loop_delay: 1 },
      });
      for (const request of held) request.release();
    });

    it(`never sheds up to ${MIN_ADAPTIVE_LIMIT} in flight, so a stalled machine still serves`, () => {
      const sut = new AdmissionController(limits, { delay: { delayMs: () => 500 } });

      for (let i = 0; i <= MIN_ADAPTIVE_LIMIT; i++) admitted(sut.admit());
      expect(shed(sut.admit()).signal).toBe('event_loop_delay');
    });
  });

  describe('the adaptive limit', () => {
    it('lowers the limit when admitted requests queue, and sheds at the lower limit', () => {
      let now = 0;
      const sut = new AdmissionController(
        { maxInFlight: 64, targetLatencyMs: 50, maxEventLoopDelayMs: 0 },
        { now: () => now },
      );
      const serve = (count: number, latencyMs: number) => {
        const requests = Array.from({ length: count }, () => admitted(sut.admit()));
        now += latencyMs;
        for (const request of requests) request.release();
      };
      expect(sut.limit).toBe(16);

      // A lightly loaded window, then one whose median is 4x it and above the target.
      now += 250;
      serve(10, 20);
      expect(sut.limit).toBe(16);
      now += 250;
      serve(16, 80);

      expect(sut.limit).toBe(12);
      const limit = sut.limit;
      const held = Array.from({ length: limit }, () => admitted(sut.admit()));
      const refused = shed(sut.admit());
      expect(refused.message).toContain(`serving ${limit} ad requests at once`);
      expect(refused.message).toContain('GATEWAY_MAX_IN_FLIGHT 64 at most');
      expect(sut.snapshot()).toMatchObject({
        limit,
        maxInFlight: 64,
        latency: { baselineMs: 20, lastWindow: { p50: 80, p90: 80 } },
      });
      for (const request of held) request.release();
    });
  });
});
