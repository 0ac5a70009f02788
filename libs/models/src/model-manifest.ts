import { z } from 'zod';

const TensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.literal('float32'),
  /** Symbolic dimensions are strings (the batch axis is "N"). */
  shape: z.array(z.union([z.number().int().positive(), z.string().min(1)])),
  description: z.string().optional(),
});

const HeadMetricsSchema = z
  .object({
    rows: z.number().int().nonnegative(),
    /** Null when undefined (no positive or no negative rows). */
    auc: z.number().nullable(),
    logloss: z.number(),
    baseRateLogloss: z.number(),
    normalizedEntropy: z.number().nullable(),
    calibration: z.number().nullable(),
    /** Null when the labels come from logs, where the true probabilities are unknown. */
    bayesLogloss: z.number().nullable(),
  })
  .loose();

/** What a trained model claims about itself; serving refuses a model whose claims do not fit the build. */
export const ModelManifestSchema = z.object({
  name: z.string().min(1),
  version: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a path-safe token such as 20250101-1a2b3c4d'),
  createdAt: z.iso.datetime({ offset: true }),
  /** ONNX file inside the version directory. */
  file: z.string().min(1).default('model.onnx'),
  featureSpec: z.object({
    name: z.string().min(1),
    version: z.number().int(),
    fingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 hex digits (featureSpecFingerprint())'),
    dim: z.number().int().positive(),
  }),
  inputs: z.array(TensorSpecSchema).min(1),
  outputs: z.array(TensorSpecSchema).min(1),
  metrics: z.record(z.string(), HeadMetricsSchema),
  trainingData: z.object({ rows: z.number().int().positive(), seed: z.number().int() }).loose(),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** The output a model with a hide head adds beside p_ctr and p_cvr: P(hide | examined). */
export const HIDE_OUTPUT = 'p_hide';

/**
 * The outputs the worker pool reads from a model: p_ctr and p_cvr always, p_hide when the manifest
 * lists it (models trained before the hide head have two outputs and keep serving, without pHide).
 */
export function rankingOutputsOf(manifest: Pick<ModelManifest, 'outputs'>): {
  pCtr: string;
  pCvr: string;
  pHide?: string;
} {
  const hasHide = manifest.outputs.some((output) => output.name === HIDE_OUTPUT);
  return { pCtr: 'p_ctr', pCvr: 'p_cvr', ...(hasHide ? { pHide: HIDE_OUTPUT } : {}) };
}
