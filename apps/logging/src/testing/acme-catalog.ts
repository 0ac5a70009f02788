import { AdEntity, AdvertiserEntity, CampaignEntity, type DatabaseConfig } from '@adfunnel/catalog';
import { migrateFunnelDatabase, openFunnelDatabase } from '@adfunnel/event-store';
import { EMBEDDING_DIM } from '@adfunnel/features';

const CREATED = Date.UTC(2025, 0, 1);

export function adFactory(ad: Pick<AdEntity, 'id' | 'campaignId'> & Partial<AdEntity>): AdEntity {
  return Object.assign(new AdEntity(), {
    advertiserId: 1,
    title: `Ad ${ad.id}`,
    text: 'A fine product',
    imageUrl: `https://img.example.com/${ad.id}.png`,
    landingUrl: `https://shop.example.com/p/${ad.id}`,
    category: 'electronics',
    embedding: new Float32Array(EMBEDDING_DIM).fill(0.1),
    status: 'active' as const,
    createdAt: CREATED,
    ...ad,
  });
}

export interface AcmeCatalog {
  /** Campaign 10 of advertiser 1 (Acme) is CPC at 0.8 unless this says otherwise. */
  campaign?: Partial<CampaignEntity>;
  ads: AdEntity[];
  createdAt?: number;
}

/** Migrates `database` and stores Acme (advertiser 1), its campaign 10 and `ads`: what tracked events point at. */
export async function seedAcmeCatalog(
  database: DatabaseConfig,
  { campaign = {}, ads, createdAt = CREATED }: AcmeCatalog,
): Promise<void> {
  const setup = await openFunnelDatabase(database);
  try {
    await migrateFunnelDatabase(setup);
    await setup.getRepository(AdvertiserEntity).save({ id: 1, name: 'Acme', createdAt });
    await setup.getRepository(CampaignEntity).save({
      id: 10,
      advertiserId: 1,
      name: 'Acme clicks',
      status: 'active',
      bidType: 'CPC',
      bid: 0.8,
      dailyBudget: 100,
      targetCountries: [],
      targetDevices: [],
      createdAt,
      ...campaign,
    });
    await setup.getRepository(AdEntity).save(ads);
  } finally {
    await setup.destroy();
  }
}
