import { describe, expect, it } from '@jest/globals';
import { type DelayHistogram, EventLoopDelaySignal } from './event-loop-delay.js';

/** Node's histogram records the interval between its samples (10 ms when the loop keeps up), in ns. */
class FakeHistogram implements DelayHistogram {
  count = 0;
  max = 0;
  resets = 0;

  record(intervalMs: number): void {
    this.count++;
    this.max = Math.max(this.max, intervalMs * 1e6);
  }

  reset(): void {
    this.count = 0;
    this.max = 0;
    this.resets++;
  }
}

describe(EventLoopDelaySignal.name, () => {
  it('reads the longest stall of the last full window, beyond the sampling interval', () => {
    let now = 0;
    const histogram = new FakeHistogram();
    const sut = new EventLoopDelaySignal(histogram, () => now, 100);

    histogram.record(10);
    histogram.record(75);
    now = 50;
    expect(sut.delayMs()).toBe(0);

    now = 100;
    expect(sut.delayMs()).toBe(65);
    expect(histogram.resets).toBe(1);

    histogram.record(12);
    now = 150;
    expect(sut.delayMs()).toBe(65);
    now = 200;
    expect(sut.delayMs()).toBe(2);
  });

  it('reads 0 for a window without samples and for a loop that keeps up', () => {
    let now = 0;
    const histogram = new FakeHistogram();
    const sut = new EventLoopDelaySignal(histogram, () => now, 100);

    now = 100;
    expect(sut.delayMs()).toBe(0);
    histogram.record(9.9);
    now = 200;
    expect(sut.delayMs()).toBe(0);
  });

  it("samples node's own event loop", async () => {
    const { signal, stop } = EventLoopDelaySignal.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(signal.delayMs()).toBeGreaterThanOrEqual(0);
    } finally {
      stop();
    }
  });
});
