import { AdIndex, type AdIndexOptions } from '@adfunnel/ad-index';
import type { CatalogAd, CatalogSnapshot } from '@adfunnel/catalog';
import { encodeAdTowerInputs } from '@adfunnel/features';
import type { TwoTowerModel } from '@adfunnel/models';

/**
 * The ad tower's vectors of one model version, by ad, with the content they were computed from: an ad
 * whose tower inputs did not change since the last build is not embedded again, so a catalog refresh
 * costs the ad tower only the new and changed ads.
 */
export class TowerEmbeddings {
  private readonly byAd = new Map<number, { key: string; vector: Float32Array }>();

  constructor(readonly modelVersion: string) {}

  get size(): number {
    return this.byAd.size;
  }

  /** The vectors of `ads` (in order), embedding those not cached or changed; reports how many ran. */
  async of(
    model: TwoTowerModel,
    ads: readonly CatalogAd[],
  ): Promise<{ vectors: Float32Array[]; embedded: number; ms: number }> {
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
      embedded: missing.length,
      ms: performance.now() - started,
    };
  }
}

/** What the ad tower reads of an ad (two-tower-spec.ts): a change in any of it needs a new vector. */
function towerKey(ad: CatalogAd): string {
  return JSON.stringify([ad.advertiserId, ad.categoryIndex, ad.title, ad.text, Array.from(ad.embedding)]);
}

export interface TowerIndex {
  readonly model: TwoTowerModel;
  /** Ad-tower vectors of the snapshot's servable ads, targeting as the content index has it. */
  readonly index: AdIndex;
  readonly catalogVersion: string;
  /** `<catalog version>+<model>@<model version>@<built at>`: the model version is part of the index's. */
  readonly version: string;
  readonly embedded: number;
  readonly embedMs: number;
}

/**
 * The index of `snapshot` in the ad tower's space of `model`: the servable ads (active, of an active
 * campaign) embedded through `embeddings`, which must belong to the same model version.
 */
export async function buildTowerIndex(
  model: TwoTowerModel,
  snapshot: CatalogSnapshot,
  embeddings: TowerEmbeddings,
  options: Omit<AdIndexOptions, 'catalogVersion' | 'dim'>,
): Promise<TowerIndex> {
  const servable = snapshot.ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
  const { vectors, embedded, ms } = await embeddings.of(model, servable);
  const index = await AdIndex.buildInSlices(
    servable.map((ad, i) => ({ ...ad, embedding: vectors[i] })),
    { ...options, dim: model.dim, catalogVersion: `${snapshot.version}+${model.name}@${model.version}` },
  );
  return {
    model,
    index,
    catalogVersion: snapshot.version,
    version: index.version,
    embedded,
    embedMs: ms,
  };
}
