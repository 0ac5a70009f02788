/** How many of the ads served on one surface were of the topic the request was about. */
export interface TopicMatch {
  /** Requests counted (those with a topic: a search's query, a related-items context ad). */
  requests: number;
  /** Ads served on those requests. */
  served: number;
  /** Of those, ads whose dominant true topic is the request's topic. */
  onTopic: number;
  /** onTopic / served; null with nothing served. */
  share: number | null;
}

/**
 * On-topic shares of served ads, from the ground truth: on `search`, an ad is on topic when its
 * dominant true topic is the one the simulated query names a product of; on `related_items`, when it
 * is the context ad's. With retrieval ignoring the query, search shares sit near the share of the
 * user's top topic among ads the user likes anyway.
 */
export interface TopicMatchMetrics {
  search: TopicMatch;
  relatedItems: TopicMatch;
}

export class TopicMatchAccumulator {
  private readonly counts = {
    search: { requests: 0, served: 0, onTopic: 0 },
    relatedItems: { requests: 0, served: 0, onTopic: 0 },
  };

  /** `servedTopics`: the dominant true topic of each ad served on the request. */
  add(surface: 'search' | 'relatedItems', requestTopic: number, servedTopics: readonly number[]): void {
    const c = this.counts[surface];
    c.requests++;
    c.served += servedTopics.length;
    for (const t of servedTopics) if (t === requestTopic) c.onTopic++;
  }

  result(): TopicMatchMetrics {
    const of = (c: { requests: number; served: number; onTopic: number }): TopicMatch => ({
      ...c,
      share: c.served > 0 ? c.onTopic / c.served : null,
    });
    return { search: of(this.counts.search), relatedItems: of(this.counts.relatedItems) };
  }
}
