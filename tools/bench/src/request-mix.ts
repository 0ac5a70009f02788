import { type AdRequestInput, COUNTRIES, DEVICES, SURFACES } from '@adfunnel/contracts';
import { textTokens } from '@adfunnel/features';
import { Rng, userIdAt } from '@adfunnel/simulator';

/**
 * What the bench's search queries and related-items contexts are drawn from: real ad titles and ad
 * ids, from the catalog database or from the ads of earlier answers. Sorted by ad id, so the same
 * vocabulary gives the same requests for a seed.
 */
export interface Vocabulary {
  /** The titles of `adIds`, in the same order. */
  readonly titles: readonly string[];
  readonly adIds: readonly number[];
}

export const EMPTY_VOCABULARY: Vocabulary = { titles: [], adIds: [] };

/** A vocabulary of these ads, deduplicated and sorted by id (the last title of an id wins). */
export function vocabularyOf(ads: Iterable<{ id: number; title: string }>): Vocabulary {
  const byId = new Map<number, string>();
  for (const ad of ads) byId.set(ad.id, ad.title);
  const adIds = [...byId.keys()].sort((a, b) => a - b);
  return { adIds, titles: adIds.map((id) => byId.get(id)!) };
}

/** The most words a query takes. */
export const MAX_QUERY_WORDS = 3;

/**
 * A search query as a user might type it: 1 to 3 consecutive words of one phrase of a title, the
 * title split at ':', '-', '|' and ',' first, so a query names a brand ("blue co") or a product
 * ("acoustic guitar", "guitar") and not the seam between them ("co acoustic"). Words are the
 * tokenizer's (libs/features textTokens, as retrieval reads queries). Undefined when the title has no word.
 */
export function pickQuery(rng: Rng, title: string): string | undefined {
  const phrases = title
    .split(/[:|,]|\s-\s/)
    .map(textTokens)
    .filter((words) => words.length > 0);
  if (phrases.length === 0) return undefined;
  const words = rng.pick(phrases);
  const n = Math.min(words.length, 1 + rng.int(MAX_QUERY_WORDS));
  const start = rng.int(words.length - n + 1);
  return words.slice(start, start + n).join(' ');
}

/**
 * The requests of one closed-loop worker: seeded by (seed, worker), so a run sends the same requests
 * whatever the answers. The user, surface, country and device come from one stream and the query
 * or context item from another, so the base requests do not depend on the vocabulary. Search
 * requests carry a query and related-items requests a context ad id, as product surfaces send them;
 * while the vocabulary is empty (answers not seen yet) they go without.
 */
export class RequestStream {
  private readonly base: Rng;
  private readonly extras: Rng;

  constructor(
    seed: number,
    worker: number,
    private readonly users: number,
    private readonly vocabulary: () => Vocabulary,
    private readonly slots = 3,
  ) {
    this.base = Rng.derive(seed, 'bench-worker', worker);
    this.extras = Rng.derive(seed, 'bench-request-extras', worker);
  }

  next(): AdRequestInput {
    const request: AdRequestInput = {
      userId: userIdAt(this.base.int(this.users)),
      surface: this.base.pick(SURFACES),
      country: this.base.pick(COUNTRIES),
      device: this.base.pick(DEVICES),
      slots: this.slots,
    };
    const { titles, adIds } = this.vocabulary();
    if (adIds.length === 0) return request;
    if (request.surface === 'search') {
      const query = pickQuery(this.extras, titles[this.extras.int(titles.length)]);
      if (query !== undefined) request.query = query;
    } else if (request.surface === 'related_items') {
      request.contextAdId = adIds[this.extras.int(adIds.length)];
    }
    return request;
  }
}

/**
 * The first `count` requests the load's `concurrency` workers send, taken round robin (worker 0's
 * first, worker 1's first, ...): the same requests the funnel is sent, for the in-process floor.
 */
export function firstRequests(
  count: number,
  concurrency: number,
  seed: number,
  users: number,
  vocabulary: Vocabulary,
): AdRequestInput[] {
  const streams = Array.from(
    { length: concurrency },
    (_, w) => new RequestStream(seed, w, users, () => vocabulary),
  );
  return Array.from({ length: count }, (_, i) => streams[i % concurrency].next());
}
