import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import {
  AD_INDEX_FORMAT_VERSION,
  AdIndex,
  type IndexMeta,
  type IndexSnapshot,
  type LoadExpectation,
  SavedIndexError,
  type SnapshotGraph,
  graphToRead,
} from '@adfunnel/ad-index';
import { z } from 'zod';

const FORMAT = 'adfunnel-ad-index';
const CURRENT = 'CURRENT';
const SAVE_NAME = /^index-\d+-[0-9a-f]{8}$/;
/** A save directory left by a crashed writer is removed by a later save once it is this old. */
const STALE_TMP_MS = 60 * 60 * 1000;

export interface SaveReport {
  /** The directory written (under the `dir` given to saveIndex, named by its CURRENT). */
  readonly dir: string;
  readonly bytes: number;
  readonly ms: number;
}

const FileEntry = z.object({
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
type FileEntry = z.infer<typeof FileEntry>;

/** manifest.json: the index's meta (IndexMeta), the byte order of its arrays and every file's size and checksum. */
const ManifestSchema = z.object({
  format: z.literal(FORMAT),
  formatVersion: z.number().int(),
  byteOrder: z.enum(['LE', 'BE']),
  savedAt: z.iso.datetime(),
  embeddingVersion: z.string(),
  catalogVersion: z.string(),
  dim: z.number().int().positive(),
  space: z.literal('ip'),
  params: z.object({
    m: z.number().int().positive(),
    efConstruction: z.number().int().positive(),
    exactThreshold: z.number().int().nonnegative(),
    bucketGraphMaxShare: z.number(),
    bucketGraphBudget: z.number(),
    priors: z.object({ pCtr: z.number(), pCvr: z.number() }),
  }),
  counts: z.object({
    slots: z.number().int().nonnegative(),
    live: z.number().int().nonnegative(),
    deleted: z.number().int().nonnegative(),
    buckets: z.number().int().positive(),
  }),
  builtAt: z.iso.datetime(),
  buildMs: z.number().nonnegative(),
  rules: z.array(z.tuple([z.array(z.string()), z.array(z.string())])),
  buckets: z.array(
    z.object({
      country: z.string().nullable(),
      device: z.string().nullable(),
      strategy: z.enum(['exact', 'graph', 'bucket-graph', 'filtered-graph']),
      /** The bucket's own graph file, for a bucket-graph bucket. */
      graph: z.string().optional(),
    }),
  ),
  files: z.record(z.string(), FileEntry),
});
type Manifest = z.infer<typeof ManifestSchema>;

/**
 * Writes `index` under `dir`: graphs (hnswlib's own files), vectors, ids, priors, campaigns, each
 * slot's targeting, vector keys and manifest.json, into a new directory that `dir/CURRENT` then
 * names (a synced file replaced by rename). A crash at any point leaves CURRENT naming the previous
 * complete save, or nothing; a completed save removes the older ones.
 */
export async function saveIndex(index: AdIndex, dir: string): Promise<SaveReport> {
  const startedAt = performance.now();
  await mkdir(dir, { recursive: true });
  const name = `index-${Date.now()}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dir, `${name}.tmp`);
  await mkdir(tmp);
  try {
    await index.persist((snapshot) => writeSnapshot(snapshot, tmp));
    await syncDir(tmp);
    await rename(tmp, join(dir, name));
    // The switch: CURRENT names a complete, synced directory before and after this rename.
    const pointer = join(dir, `${CURRENT}.${name}.tmp`);
    await writeSynced(pointer, Buffer.from(`${name}\n`));
    await rename(pointer, join(dir, CURRENT));
    await syncDir(dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
  await prune(dir, name);
  let bytes = 0;
  for (const entry of await readdir(join(dir, name))) bytes += (await stat(join(dir, name, entry))).size;
  return { dir: join(dir, name), bytes, ms: performance.now() - startedAt };
}

/**
 * The index saved under `dir`, checked file by file against the manifest's sizes and checksums and
 * then against `expected` (AdIndex.restore). A SavedIndexError says why not: `absent` (no save),
 * `mismatch` (another embedding, dimension, layout or format: rebuild), `corrupt` (damaged files).
 */
export async function loadIndex(dir: string, expected: LoadExpectation): Promise<AdIndex> {
  const startedAt = performance.now();
  let name: string;
  try {
    name = (await readFile(join(dir, CURRENT), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SavedIndexError('absent', `no saved ad index in ${dir}`);
    }
    throw error;
  }
  if (!SAVE_NAME.test(name)) {
    throw new SavedIndexError('corrupt', `${join(dir, CURRENT)} names "${name}", not a saved index`);
  }
  const at = join(dir, name);
  const manifest = await readManifest(at);
  // Identity before files: a mismatch costs no reading of the graphs.
  if (manifest.embeddingVersion !== expected.embeddingVersion) {
    throw new SavedIndexError(
      'mismatch',
      `saved ad index ${at} does not fit: embedding version saved ${JSON.stringify(manifest.embeddingVersion)}, ` +
        `expected ${JSON.stringify(expected.embeddingVersion)}`,
    );
  }
  if (manifest.byteOrder !== endianness()) {
    throw new SavedIndexError(
      'mismatch',
      `saved ad index ${at} is ${manifest.byteOrder}, this machine ${endianness()}`,
    );
  }
  const file = async (file: string) => {
    const entry = manifest.files[file];
    if (entry === undefined) throw new SavedIndexError('corrupt', `${at}: the manifest lists no ${file}`);
    let data: Buffer;
    try {
      data = await readFile(join(at, file));
    } catch (error) {
      throw new SavedIndexError('corrupt', `${at}: cannot read ${file}: ${(error as Error).message}`);
    }
    if (data.length !== entry.bytes) {
      throw new SavedIndexError(
        'corrupt',
        `${at}: ${file} has ${data.length} bytes, the manifest says ${entry.bytes}`,
      );
    }
    if (sha256(data) !== entry.sha256) {
      throw new SavedIndexError('corrupt', `${at}: ${file} does not match its checksum`);
    }
    return data;
  };
  const graphOf = async (file_: string) => {
    await file(file_);
    const graph = graphToRead(manifest.dim);
    await graph.readIndex(join(at, file_));
    return graph;
  };
  const keys =
    manifest.files['keys.json'] === undefined
      ? undefined
      : z.array(z.string().nullable()).parse(JSON.parse((await file('keys.json')).toString('utf8')));
  const bucketGraphs = new Map<number, SnapshotGraph>();
  for (const [bucket, entry] of manifest.buckets.entries()) {
    if (entry.graph !== undefined) bucketGraphs.set(bucket, await graphOf(entry.graph));
  }
  const snapshot: IndexSnapshot = {
    meta: metaOf(manifest),
    ids: new Float64Array(ownBuffer(await file('ids.f64'), 8)),
    prior: new Float64Array(ownBuffer(await file('prior.f64'), 8)),
    campaigns: new Float64Array(ownBuffer(await file('campaigns.f64'), 8)),
    vectors: new Float32Array(ownBuffer(await file('vectors.f32'), 4)),
    rules: new Int32Array(ownBuffer(await file('rules.i32'), 4)),
    keys,
    graph: await graphOf('graph.hnsw'),
    bucketGraphs,
  };
  try {
    return AdIndex.restore(snapshot, expected, { dir: at, savedAt: manifest.savedAt, startedAt });
  } catch (error) {
    if (error instanceof SavedIndexError) throw new SavedIndexError(error.reason, `${error.message} (${at})`);
    throw error;
  }
}

async function writeSnapshot(snapshot: IndexSnapshot, tmp: string): Promise<void> {
  const files: Record<string, FileEntry> = {};
  const write = async (file: string, data: Uint8Array) => {
    files[file] = await writeSynced(join(tmp, file), data);
  };
  const writeGraph = async (file: string, graph: SnapshotGraph) => {
    await graph.writeIndex(join(tmp, file));
    files[file] = await describeSynced(join(tmp, file));
  };
  await write('ids.f64', bytesOf(snapshot.ids));
  await write('prior.f64', bytesOf(snapshot.prior));
  await write('campaigns.f64', bytesOf(snapshot.campaigns));
  await write('vectors.f32', bytesOf(snapshot.vectors));
  await write('rules.i32', bytesOf(snapshot.rules));
  if (snapshot.keys !== undefined) await write('keys.json', Buffer.from(JSON.stringify(snapshot.keys)));
  await writeGraph('graph.hnsw', snapshot.graph);
  const buckets: Manifest['buckets'] = [];
  for (const [bucket, entry] of snapshot.meta.buckets.entries()) {
    const graph = snapshot.bucketGraphs.get(bucket);
    if (graph === undefined) buckets.push({ ...entry });
    else {
      const file = `bucket-${bucket}.hnsw`;
      await writeGraph(file, graph);
      buckets.push({ ...entry, graph: file });
    }
  }
  const meta = snapshot.meta;
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: meta.formatVersion,
    byteOrder: endianness(),
    savedAt: new Date().toISOString(),
    embeddingVersion: meta.embeddingVersion,
    catalogVersion: meta.catalogVersion,
    dim: meta.dim,
    space: meta.space,
    params: { ...meta.params, priors: { ...meta.params.priors } },
    counts: { ...meta.counts },
    builtAt: meta.builtAt,
    buildMs: meta.buildMs,
    rules: meta.rules.map(([countries, devices]) => [[...countries], [...devices]]),
    buckets,
    files,
  };
  await writeSynced(join(tmp, 'manifest.json'), Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`));
}

function metaOf(manifest: Manifest): IndexMeta {
  return {
    formatVersion: manifest.formatVersion,
    embeddingVersion: manifest.embeddingVersion,
    catalogVersion: manifest.catalogVersion,
    dim: manifest.dim,
    space: manifest.space,
    params: manifest.params,
    counts: manifest.counts,
    builtAt: manifest.builtAt,
    buildMs: manifest.buildMs,
    rules: manifest.rules,
    buckets: manifest.buckets.map(({ country, device, strategy }) => ({ country, device, strategy })),
  };
}

async function readManifest(at: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(at, 'manifest.json'), 'utf8');
  } catch (error) {
    throw new SavedIndexError('corrupt', `${at}: cannot read manifest.json: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SavedIndexError('corrupt', `${at}/manifest.json is not JSON: ${(error as Error).message}`);
  }
  // Format first: another format version may change any other field.
  const format = z.object({ format: z.string(), formatVersion: z.number() }).safeParse(json);
  if (!format.success || format.data.format !== FORMAT) {
    throw new SavedIndexError('corrupt', `${at}/manifest.json is not an ad index manifest`);
  }
  if (format.data.formatVersion !== AD_INDEX_FORMAT_VERSION) {
    throw new SavedIndexError(
      'mismatch',
      `saved ad index ${at} does not fit: format version saved ${format.data.formatVersion}, this code reads ${AD_INDEX_FORMAT_VERSION}`,
    );
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SavedIndexError(
      'corrupt',
      `${at}/manifest.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Removes the saves CURRENT no longer names and save directories abandoned by crashed writers. */
async function prune(dir: string, keep: string): Promise<void> {
  const now = Date.now();
  for (const entry of await readdir(dir)) {
    if (entry === keep || entry === CURRENT) continue;
    const path = join(dir, entry);
    if (SAVE_NAME.test(entry)) {
      await rm(path, { recursive: true, force: true });
    } else if (entry.endsWith('.tmp')) {
      // Another process may be writing this one right now: only old ones count as abandoned.
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && now - info.mtimeMs > STALE_TMP_MS)
        await rm(path, { recursive: true, force: true });
    }
  }
}

async function writeSynced(path: string, data: Uint8Array): Promise<FileEntry> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes: data.byteLength, sha256: sha256(data) };
}

/** Size and checksum of a file another writer (hnswlib) wrote, synced to disk. */
async function describeSynced(path: string): Promise<FileEntry> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  const data = await readFile(path);
  return { bytes: data.length, sha256: sha256(data) };
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function bytesOf(view: Float64Array | Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** A file's bytes in an ArrayBuffer of their own (a Buffer may sit unaligned in a shared pool). */
function ownBuffer(data: Buffer, elementBytes: number): ArrayBuffer {
  const copy = new ArrayBuffer(data.length - (data.length % elementBytes));
  new Uint8Array(copy).set(data.subarray(0, copy.byteLength));
  return copy;
}
