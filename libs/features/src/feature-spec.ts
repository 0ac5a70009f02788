import { DEVICES, SURFACES } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from './content-embedding.js';
import { TOPIC_COUNT, TOPICS } from './topics.js';

export interface FeatureGroup {
  readonly name: string;
  readonly dim: number;
  readonly description: string;
}

export interface FeatureSpec {
  readonly name: string;
  readonly version: number;
  readonly groups: readonly FeatureGroup[];
  readonly dim: number;
  /** Vocabularies the one-hot groups are built over; part of the fingerprint. */
  readonly vocabularies: Readonly<Record<string, readonly string[]>>;
}

/**
 * Only what a real ad server sees: the user's declared context and logged activity (libs/contracts
 * UserActivity), the request's query and context item, and what the advertiser provided (category,
 * text, the image's visual embedding) and what is derived from it over the catalog (the category
 * mixture decoded from the embedding). Decayed counts enter as log1p.
 */
const groups: FeatureGroup[] = [
  { name: 'user.affinity', dim: TOPIC_COUNT, description: 'category affinity inferred from activity' },
  { name: 'user.known', dim: 1, description: '1 when the funnel has seen activity from the user' },
  {
    name: 'user.activity',
    dim: 3,
    description: 'log1p of decayed impressions (fatigue proxy), clicks and hides over all categories',
  },
  { name: 'ctx.device', dim: DEVICES.length, description: 'one-hot over DEVICES' },
  { name: 'ctx.surface', dim: SURFACES.length, description: 'one-hot over SURFACES' },
  { name: 'ad.category', dim: TOPIC_COUNT, description: 'one-hot of the ad category over TOPICS' },
  {
    name: 'ad.category_mixture',
    dim: TOPIC_COUNT,
    description:
      "how much of each category of TOPICS the ad is about, decoded from its embedding over the catalog's category centroids (CategoryMixtureDecoder); the one-hot of its category without a catalog",
  },
  { name: 'ad.embedding', dim: EMBEDDING_DIM, description: 'visual embedding of the ad image' },
  {
    name: 'cross.recent_cosine',
    dim: 1,
    description: "ad embedding . mean embedding of the user's recently engaged ads (0 without any)",
  },
  { name: 'cross.category_affinity', dim: 1, description: "the user's affinity for the ad category" },
  {
    name: 'cross.interest_match',
    dim: 1,
    description:
      "the user's affinity over the ad's category mixture: interestMatch(user.affinity, ad.category_mixture)",
  },
  {
    name: 'cross.category_exposure',
    dim: 2,
    description: 'log1p of decayed impressions and hides of the ad category for this user',
  },
  {
    name: 'cross.engaged',
    dim: 2,
    description: '1 when the user recently engaged with this ad; with this advertiser',
  },
  {
    name: 'cross.query_match',
    dim: 2,
    description: "share of the query's words in the ad's title and text; in its title alone",
  },
  {
    name: 'cross.context',
    dim: 2,
    description: 'ad embedding . context item embedding; 1 when of the context item category',
  },
];

/** The single definition of the ranking model's input, used by serving and by training data. */
export const FEATURE_SPEC: FeatureSpec = {
  name: 'adfunnel-ranking-features',
  version: 3,
  groups,
  dim: groups.reduce((sum, g) => sum + g.dim, 0),
  vocabularies: { topics: TOPICS, devices: DEVICES, surfaces: SURFACES },
};

export const FEATURE_OFFSETS: Readonly<Record<string, number>> = (() => {
  const offsets: Record<string, number> = {};
  let at = 0;
  for (const g of groups) {
    offsets[g.name] = at;
    at += g.dim;
  }
  return offsets;
})();

/** FNV-1a (64-bit, as hex) over the canonical JSON of the spec: equal specs, equal fingerprints. */
export function featureSpecFingerprint(spec: FeatureSpec = FEATURE_SPEC): string {
  const canonical = JSON.stringify({
    name: spec.name,
    version: spec.version,
    groups: spec.groups.map((g) => [g.name, g.dim]),
    vocabularies: Object.keys(spec.vocabularies)
      .sort()
      .map((k) => [k, spec.vocabularies[k]]),
  });
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < canonical.length; i++) {
    h ^= BigInt(canonical.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
