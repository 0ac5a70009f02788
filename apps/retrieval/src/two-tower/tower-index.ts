import { createHash } from 'node:crypto';
import type { AdIndex, IndexableAd } from '@adfunnel/ad-index';
import type { CatalogAd, CatalogSnapshot } from '@adfunnel/catalog';
import { encodeAdTowerInputs } from '@adfunnel/features';
import type { TwoTowerModel } from '@adfunnel/models';

/**
 * The ad tower's vectors of one model version, by ad, with a hash of the inputs they were computed
 * from: an ad whose tower inputs did not change since the last build is not embedded again, so a
 * catalog refresh costs the ad tower only the new and changed ads. A loaded tower index fills it
 * (seed) with the vectors it was saved with, so a restart embeds only what changed meanwhile.
 */
export class TowerEmbeddings {
  private readonly byAd = new Map<number, { key: string; vector: Float32Array }>();

  constructor(readonly modelVersion: string) {}

  get size(): number {
    return this.byAd.size;
  }

  /** The vectors of `ads` (in order) and their input keys, embedding those not cached or changed; reports how many ran. */
  async of(
    model: TwoTowerModel,
    ads: readonly CatalogAd[],
  ): Promise<{ vectors: Float32Array[]; keys: string[]; embedded: number; ms: number }> {
    if (model.version !== this.modelVersion) {
      throw new RangeError(`embeddings of ${this.modelVersion} asked for with model ${model.version}`);
    }
    const started = performance.now();
    const keys = ads.map(towerKey);
    const missing = ads.flatMap((ad, i) => (this.byAd.get(ad.id)?.key === keys[i] ? [] : [i]));
    if (missing.length > 0) {
      const fresh = await model.embedAds(encodeAdTowerInputs(missing.map((i) => ads[i])));
      missing.forEach((i, j) => {
        this.byAd.set(ads[i].id, { key: keys[i], vector: fresh.slice(j * model.dim, (j + 1) * model.dim) });
      });
    }
    const live = new Set(ads.map((ad) => ad.id));
    for (const id of this.byAd.keys()) if (!live.has(id)) this.byAd.delete(id);
    return {
      vectors: ads.map((ad) => this.byAd.get(ad.id)!.vector),
      keys,
      embedded: missing.length,
      ms: performance.now() - started,
    };
  }

  /** Takes the vectors a tower index of this model holds, with the input keys they were saved with. */
  seed(index: AdIndex, model: Pick<TwoTowerModel, 'name' | 'version'>): number {
    if (model.version !== this.modelVersion || index.embeddingVersion !== towerEmbeddingVersion(model)) {
      throw new RangeError(
        `a ${index.embeddingVersion} index cannot seed embeddings of ${this.modelVersion}`,
      );
    }
    let seeded = 0;
    for (const id of index.adIds()) {
      const held = index.vectorOf(id);
      if (held?.key === undefined) continue;
      this.byAd.set(id, { key: held.key, vector: held.vector });
      seeded++;
    }
    return seeded;
  }
}

/** What the ad tower reads of an ad (two-tower-spec.ts), hashed: a change in any of it needs a new vector. */
function towerKey(ad: CatalogAd): string {
  return createHash('sha256')
    .update(JSON.stringify([ad.advertiserId, ad.categoryIndex, ad.title, ad.text, Array.from(ad.embedding)]))
    .digest('base64url')
    .slice(0, 22);
}

/** The embedding version of a model's tower index: a tower index saved for one model version never loads for another. */
export function towerEmbeddingVersion(model: Pick<TwoTowerModel, 'name' | 'version'>): string {
  return `${model.name}@${model.version}`;
}

/** `<catalog version>+<model>@<model version>@<built at>`: the model version is part of the index's. */
export function towerIndexVersion(index: AdIndex): string {
  return `${index.catalogVersion}+${index.embeddingVersion}@${index.builtAt.toISOString()}`;
}

/**
 * The snapshot's servable ads (active, of an active campaign) with the ad tower's vectors of
 * `model` as their embeddings, computed through `embeddings` (which must be of the same version).
 */
export async function towerAds(
  model: TwoTowerModel,
  snapshot: CatalogSnapshot,
  embeddings: TowerEmbeddings,
): Promise<{ ads: IndexableAd[]; embedded: number; ms: number }> {
  const servable = snapshot.ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
  const { vectors, keys, embedded, ms } = await embeddings.of(model, servable);
  return {
    ads: servable.map((ad, i) => ({ ...ad, embedding: vectors[i], vectorKey: keys[i] })),
    embedded,
    ms,
  };
}
