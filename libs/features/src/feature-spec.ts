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

const groups: FeatureGroup[] = [
  { name: 'user.interests', dim: TOPIC_COUNT, description: 'interest profile over TOPICS' },
  { name: 'user.known', dim: 1, description: '1 when the user has a stored profile' },
  { name: 'ctx.device', dim: DEVICES.length, description: 'one-hot over DEVICES' },
  { name: 'ctx.surface', dim: SURFACES.length, description: 'one-hot over SURFACES' },
  { name: 'ad.category', dim: TOPIC_COUNT, description: 'one-hot of the ad category over TOPICS' },
  { name: 'ad.embedding', dim: EMBEDDING_DIM, description: 'content embedding of the ad' },
  { name: 'cross.cosine', dim: 1, description: 'user embedding . ad embedding' },
  { name: 'cross.category_interest', dim: 1, description: "user's interest in the ad category" },
];

/** The single definition of the ranking model's input, used by serving and by training data. */
export const FEATURE_SPEC: FeatureSpec = {
  name: 'adfunnel-ranking-features',
  version: 1,
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
