import { z } from 'zod';

/**
 * A file of freshly issued advertiser API keys (`npm run catalog -- api-keys issue --out`, and the
 * demo keys `npm start` writes to var/demo-api-keys.json): what an advertiser's integration, or the
 * simulator acting for every advertiser, reads its key from. Secret: written with mode 600.
 */
export const ApiKeysFileSchema = z.strictObject({
  label: z.string().min(1),
  issuedAt: z.iso.datetime(),
  keys: z.array(
    z.strictObject({
      advertiserId: z.number().int().positive(),
      key: z.string().regex(/^adf_live_[A-Za-z0-9_-]{43}$/, 'must be an adf_live_ key'),
      keyHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 hex of the key'),
    }),
  ),
});
export type ApiKeysFile = z.infer<typeof ApiKeysFileSchema>;
