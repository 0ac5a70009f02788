/**
 * The topic taxonomy shared by user interest profiles, ad categories and the content embedding.
 * Changing it changes the feature spec, so models trained on the old one are refused.
 */
export const TOPICS = [
  'fashion',
  'electronics',
  'home',
  'beauty',
  'sports',
  'toys',
  'books',
  'grocery',
  'auto',
  'travel',
  'pets',
  'garden',
  'music',
  'gaming',
  'health',
  'finance',
] as const;
export const TOPIC_COUNT = TOPICS.length;

const TOPIC_INDEX = new Map<string, number>(TOPICS.map((t, i) => [t, i]));

export function topicIndex(topic: string): number {
  const index = TOPIC_INDEX.get(topic);
  if (index === undefined) throw new RangeError(`unknown topic "${topic}"; known: ${TOPICS.join(', ')}`);
  return index;
}
