import { parseArgs } from 'node:util';
import { HNSW_DEFAULTS } from './hnsw-search.js';
import { INTERACTION_FORMATS, type InteractionFormat } from './interactions.js';

export const RETRIEVAL_EVAL_HELP = `Usage: npm run retrieval-eval -- --train FILE --test FILE [options]

Offline evaluation of retrieval on an interactions file: trains the two-tower (ids only), BPR matrix
factorisation and most-popular on --train in one run (tools/training/retrieval_eval.py, Debian's
PyTorch), ranks every item for each test user (train items excluded) and prints Recall@K and NDCG@K
of each model, and how much of the two-tower's exact recall an HNSW index (hnswlib-node, serving's
parameters) keeps.

  --train FILE, --test FILE   interactions; test users or items absent from train are not scored
  --format lists|pairs        lists: "user item item ..." per line (default);
                              pairs: "user item [anything else]" per line, tab or space separated
  --k 20,50                   cut-offs, comma separated (default 20,50)
  --json                      one JSON object on stdout (progress stays on stderr)
  --models LIST               of two-tower, bpr, popular (default all three)
  --dim N                     embedding dimension of the two-tower and BPR (default 64)
  --epochs N                  two-tower epochs (default 15, fewer above 80k interactions)
  --batch-size N              two-tower batch, also its in-batch negatives (default 256)
  --temperature T             two-tower softmax temperature (default 0.2)
  --bpr-epochs N              BPR epochs (default 60, fewer above 80k interactions)
  --seed N                    training seed (default 7)
  --ef-search N, --m N, --ef-construction N
                              HNSW parameters (default ${HNSW_DEFAULTS.efSearch}, ${HNSW_DEFAULTS.m}, ${HNSW_DEFAULTS.efConstruction}, as libs/ad-index)
  --python PATH               default $PYTHON, else /usr/bin/python3 (needs torch and numpy)
  --work-dir DIR              keep the trainer's inputs and vectors here (default: a temporary directory)
  -h, --help                  this text

Exit 0 done, 1 failed, 2 bad usage or bad input (with the file and line).
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface RetrievalEvalArgs {
  readonly help: boolean;
  readonly train: string;
  readonly test: string;
  readonly format: InteractionFormat;
  readonly ks: number[];
  readonly json: boolean;
  readonly models: string[];
  readonly dim: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly temperature?: number;
  readonly bprEpochs?: number;
  readonly seed: number;
  readonly efSearch: number;
  readonly m: number;
  readonly efConstruction: number;
  readonly python?: string;
  readonly workDir?: string;
}

export const MODEL_NAMES = ['two-tower', 'bpr', 'popular'] as const;

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  }
  return n;
}

export function parseRetrievalEvalArgs(argv: readonly string[]): RetrievalEvalArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        train: { type: 'string' },
        test: { type: 'string' },
        format: { type: 'string', default: 'lists' },
        k: { type: 'string', default: '20,50' },
        json: { type: 'boolean', default: false },
        models: { type: 'string', default: MODEL_NAMES.join(',') },
        dim: { type: 'string', default: '64' },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        temperature: { type: 'string' },
        'bpr-epochs': { type: 'string' },
        seed: { type: 'string', default: '7' },
        'ef-search': { type: 'string', default: String(HNSW_DEFAULTS.efSearch) },
        m: { type: 'string', default: String(HNSW_DEFAULTS.m) },
        'ef-construction': { type: 'string', default: String(HNSW_DEFAULTS.efConstruction) },
        python: { type: 'string' },
        'work-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    return {
      help: true,
      train: '',
      test: '',
      format: 'lists',
      ks: [],
      json: false,
      models: [],
      dim: 64,
      seed: 7,
      efSearch: HNSW_DEFAULTS.efSearch,
      m: HNSW_DEFAULTS.m,
      efConstruction: HNSW_DEFAULTS.efConstruction,
    };
  }
  if (v.train === undefined || v.test === undefined)
    throw new UsageError('--train FILE and --test FILE are required');
  if (!(INTERACTION_FORMATS as readonly string[]).includes(v.format)) {
    throw new UsageError(`--format must be lists or pairs, got "${v.format}"`);
  }
  const ks = [...new Set(v.k.split(',').map((k) => positiveInt('--k', k.trim())))].sort((a, b) => a - b);
  const models = [...new Set(v.models.split(',').map((m) => m.trim()))];
  for (const m of models) {
    if (!(MODEL_NAMES as readonly string[]).includes(m)) {
      throw new UsageError(`--models: unknown model "${m}"; expected some of ${MODEL_NAMES.join(', ')}`);
    }
  }
  let temperature: number | undefined;
  if (v.temperature !== undefined) {
    temperature = Number(v.temperature);
    if (!Number.isFinite(temperature) || temperature <= 0) {
      throw new UsageError(`--temperature must be a positive number, got "${v.temperature}"`);
    }
  }
  return {
    help: false,
    train: v.train,
    test: v.test,
    format: v.format as InteractionFormat,
    ks,
    json: v.json,
    models,
    dim: positiveInt('--dim', v.dim),
    ...(v.epochs === undefined ? {} : { epochs: positiveInt('--epochs', v.epochs) }),
    ...(v['batch-size'] === undefined ? {} : { batchSize: positiveInt('--batch-size', v['batch-size']) }),
    ...(temperature === undefined ? {} : { temperature }),
    ...(v['bpr-epochs'] === undefined ? {} : { bprEpochs: positiveInt('--bpr-epochs', v['bpr-epochs']) }),
    seed: positiveInt('--seed', v.seed),
    efSearch: positiveInt('--ef-search', v['ef-search']),
    m: positiveInt('--m', v.m),
    efConstruction: positiveInt('--ef-construction', v['ef-construction']),
    ...(v.python === undefined ? {} : { python: v.python }),
    ...(v['work-dir'] === undefined ? {} : { workDir: v['work-dir'] }),
  };
}
