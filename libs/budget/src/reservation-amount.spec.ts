import { describe, expect, it } from '@jest/globals';
import { eventCostMicros } from '@adfunnel/tracking';
import { reservationMicros } from './reservation-amount.js';

describe(reservationMicros.name, () => {
  it('reserves exactly what a CPM impression is charged: price / 1000', () => {
    expect(reservationMicros({ bidType: 'CPM', price: 2.5, pCtr: 0.1, pCvr: 0.1 })).toBe(2_500);
    expect(reservationMicros({ bidType: 'CPM', price: 0.5, pCtr: 0.1, pCvr: 0.1 })).toBe(500);
    for (const price of [0.123456789, 1.0000005, 3.3333333, 7.89]) {
      expect(reservationMicros({ bidType: 'CPM', price, pCtr: 0, pCvr: 0 })).toBe(
        eventCostMicros('impression', 'CPM', price),
      );
    }
  });

  it('reserves the expected cost of a CPC or CPA ad', () => {
    expect(reservationMicros({ bidType: 'CPC', price: 1.2, pCtr: 0.05, pCvr: 0.5 })).toBe(60_000);
    expect(reservationMicros({ bidType: 'CPA', price: 20, pCtr: 0.05, pCvr: 0.1 })).toBe(100_000);
  });

  it('never reserves less than one micro', () => {
    expect(reservationMicros({ bidType: 'CPM', price: 0, pCtr: 0, pCvr: 0 })).toBe(1);
    expect(reservationMicros({ bidType: 'CPC', price: 1, pCtr: 1e-9, pCvr: 0 })).toBe(1);
    expect(reservationMicros({ bidType: 'CPA', price: 5, pCtr: 0.01, pCvr: 0 })).toBe(1);
  });
});
