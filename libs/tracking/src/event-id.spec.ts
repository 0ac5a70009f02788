import { describe, expect, it } from '@jest/globals';
import { conversionEventId, eventId } from './event-id.js';

describe(eventId.name, () => {
  const claims = { r: 'req-1', s: 0, a: 42 };

  it('gives the same callback the same 32-char hex id', () => {
    const sut = eventId('impression', claims);
    expect(sut).toMatch(/^[0-9a-f]{32}$/);
    expect(eventId('impression', { ...claims })).toBe(sut);
  });

  it('tells apart the type, request, slot and ad', () => {
    const ids = new Set([
      eventId('impression', claims),
      eventId('click', claims),
      eventId('conversion', claims),
      eventId('impression', { ...claims, r: 'req-2' }),
      eventId('impression', { ...claims, s: 1 }),
      eventId('impression', { ...claims, a: 43 }),
    ]);
    expect(ids.size).toBe(6);
  });

  it('cannot be confused by separators inside the request id', () => {
    expect(eventId('click', { r: 'a|1', s: 2, a: 3 })).not.toBe(eventId('click', { r: 'a', s: 12, a: 3 }));
  });
});

describe(conversionEventId.name, () => {
  it("is the same for the same advertiser's conversion id, whatever click it is posted for", () => {
    const sut = conversionEventId(3, 'order-1001');
    expect(sut).toMatch(/^[0-9a-f]{32}$/);
    expect(conversionEventId(3, 'order-1001')).toBe(sut);
  });

  it('tells apart advertisers and conversion ids, and never equals a callback id', () => {
    const ids = new Set([
      conversionEventId(3, 'order-1001'),
      conversionEventId(4, 'order-1001'),
      conversionEventId(3, 'order-1002'),
      eventId('conversion', { r: '3', s: 0, a: 0 }),
    ]);
    expect(ids.size).toBe(4);
  });
});
