import { describe, expect, it } from '@jest/globals';
import { Rng } from '@adfunnel/simulator';
import { MAX_QUERY_WORDS, RequestStream, firstRequests, pickQuery, vocabularyOf } from './request-mix.js';

const VOCABULARY = vocabularyOf([
  { id: 7, title: 'Blue Co: acoustic guitar' },
  { id: 3, title: 'Peak Studio: USB-C hub' },
  { id: 12, title: 'Swift Labs: puzzle box - gift edition' },
]);

describe(vocabularyOf.name, () => {
  it('sorts by ad id and keeps one title per id', () => {
    const sut = vocabularyOf([
      { id: 5, title: 'b' },
      { id: 2, title: 'a' },
      { id: 5, title: 'c' },
    ]);
    expect(sut).toEqual({ adIds: [2, 5], titles: ['a', 'c'] });
  });
});

describe(pickQuery.name, () => {
  it('takes 1 to 3 consecutive words of one phrase of the title, lower-cased', () => {
    const phrases = [
      ['blue', 'co'],
      ['acoustic', 'guitar'],
    ];
    const rng = new Rng(1);
    const lengths = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const words = pickQuery(rng, 'Blue Co: Acoustic Guitar')!.split(' ');
      lengths.add(words.length);
      expect(words.length).toBeLessThanOrEqual(MAX_QUERY_WORDS);
      const phrase = phrases.find((p) => p.join(' ').includes(words.join(' ')));
      expect(phrase).toBeDefined();
    }
    expect([...lengths].sort()).toEqual([1, 2]);
  });

  it('reaches three words in a longer phrase and splits at " - " but not inside "USB-C"', () => {
    const rng = new Rng(2);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(pickQuery(rng, 'Peak Studio: fast USB-C hub - new')!);
    expect(seen.has('fast usb c')).toBe(true);
    expect(seen.has('new')).toBe(true);
    expect([...seen].some((q) => q.includes('hub new'))).toBe(false);
    expect([...seen].some((q) => q.includes('studio fast'))).toBe(false);
  });

  it('gives no query for a title without words', () => {
    expect(pickQuery(new Rng(3), ' : - ')).toBeUndefined();
  });
});

describe(RequestStream.name, () => {
  const take = (stream: RequestStream, n: number) => Array.from({ length: n }, () => stream.next());

  it('sends the same requests for the same seed and worker, other ones for another worker', () => {
    const a = take(new RequestStream(1, 0, 1000, () => VOCABULARY), 50);
    expect(take(new RequestStream(1, 0, 1000, () => VOCABULARY), 50)).toEqual(a);
    expect(take(new RequestStream(1, 1, 1000, () => VOCABULARY), 50)).not.toEqual(a);
  });

  it('gives search a query and related_items a context ad of the vocabulary, home_feed neither', () => {
    const requests = take(new RequestStream(1, 0, 1000, () => VOCABULARY), 300);
    for (const r of requests) {
      if (r.surface === 'search') {
        expect(r.query).toMatch(/^[a-z0-9]+( [a-z0-9]+){0,2}$/);
        expect(r.contextAdId).toBeUndefined();
      } else if (r.surface === 'related_items') {
        expect(VOCABULARY.adIds).toContain(r.contextAdId);
        expect(r.query).toBeUndefined();
      } else {
        expect(r).not.toHaveProperty('query');
        expect(r).not.toHaveProperty('contextAdId');
      }
    }
    expect(new Set(requests.map((r) => r.surface)).size).toBe(3);
  });

  it('draws users, surfaces, countries and devices the same with or without a vocabulary', () => {
    const base = (r: ReturnType<RequestStream['next']>) => [r.userId, r.surface, r.country, r.device];
    const withWords = take(new RequestStream(4, 2, 1000, () => VOCABULARY), 100).map(base);
    const empty = take(new RequestStream(4, 2, 1000, () => vocabularyOf([])), 100);
    expect(empty.map(base)).toEqual(withWords);
    expect(empty.some((r) => 'query' in r || 'contextAdId' in r)).toBe(false);
  });
});

describe(firstRequests.name, () => {
  it("takes the workers' requests round robin, as the closed loop sends them", () => {
    const w0 = new RequestStream(9, 0, 500, () => VOCABULARY);
    const w1 = new RequestStream(9, 1, 500, () => VOCABULARY);
    const expected = [w0.next(), w1.next(), w0.next(), w1.next(), w0.next()];
    expect(firstRequests(5, 2, 9, 500, VOCABULARY)).toEqual(expected);
  });
});
