import { describe, expect, it } from '@jest/globals';
import { CategoryMixtureDecoder } from './category-mixture.js';
import { categoryMixturesOf } from './category-mixtures-of.js';
import { EMBEDDING_DIM } from './content-embedding.js';
import { TOPIC_COUNT } from './topics.js';

function unit(values: Record<number, number>): Float32Array {
  const v = new Float32Array(EMBEDDING_DIM);
  for (const [d, x] of Object.entries(values)) v[Number(d)] = x;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

describe(categoryMixturesOf.name, () => {
  const ads = [
    { id: 10, categoryIndex: 0, embedding: unit({ 0: 1 }) },
    { id: 11, categoryIndex: 1, embedding: unit({ 1: 1 }) },
    { id: 12, categoryIndex: 0, embedding: unit({ 0: 1, 1: 1 }) },
  ];

  it("decodes every ad of the catalog by id with the catalog's own decoder", () => {
    const sut = categoryMixturesOf(ads);
    const decoder = CategoryMixtureDecoder.fromAds(ads);
    expect([...sut.keys()]).toEqual([10, 11, 12]);
    for (const ad of ads) expect(Array.from(sut.get(ad.id)!)).toEqual(Array.from(decoder.decode(ad)));
    expect(sut.get(12)!).toHaveLength(TOPIC_COUNT);
  });

  it('decodes a snapshot once: the same ads array gives the same map, another array its own', () => {
    const sut = categoryMixturesOf(ads);
    expect(categoryMixturesOf(ads)).toBe(sut);
    expect(categoryMixturesOf([...ads])).not.toBe(sut);
  });
});
