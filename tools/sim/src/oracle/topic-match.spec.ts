import { describe, expect, it } from '@jest/globals';
import { TopicMatchAccumulator } from './topic-match.js';

describe(TopicMatchAccumulator.name, () => {
  it('is the share of served ads of the request topic, per surface, over every ad served', () => {
    const acc = new TopicMatchAccumulator();

    acc.add('search', 3, [3, 3, 1]);
    acc.add('search', 5, [5]);
    acc.add('search', 2, []);
    acc.add('relatedItems', 7, [1, 7]);

    expect(acc.result()).toEqual({
      search: { requests: 3, served: 4, onTopic: 3, share: 0.75 },
      relatedItems: { requests: 1, served: 2, onTopic: 1, share: 0.5 },
    });
  });

  it('has no share before any ad is served', () => {
    expect(new TopicMatchAccumulator().result().search).toEqual({
      requests: 0,
      served: 0,
      onTopic: 0,
      share: null,
    });
  });
});
