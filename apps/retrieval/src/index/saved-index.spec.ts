import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdIndex, type LoadExpectation } from '@adfunnel/ad-index';
import { catalogAds } from '@adfunnel/testing';
import { loadIndex, saveIndex } from './saved-index.js';

const expectation: LoadExpectation = { embeddingVersion: 'content@spec', exactThreshold: 300, efSearch: 64 };
const build = (catalogVersion: string, count = 1500) =>
  AdIndex.build(catalogAds().slice(0, count), { ...expectation, catalogVersion });

function answers(index: AdIndex) {
  const ads = catalogAds();
  return ['US', 'DE', 'ZZ'].flatMap((country) =>
    ['mobile', 'desktop'].flatMap((device) => [
      index.popular({ country, device, k: 20 }),
      ...[1, 200, 900].map((i) => index.search({ embedding: ads[i].embedding, country, device, k: 20 })),
    ]),
  );
}

const currentOf = async (dir: string) => join(dir, (await readFile(join(dir, 'CURRENT'), 'utf8')).trim());

describe('saved ad index files', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'saved-index-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes graphs, arrays and a manifest with sizes and checksums, and reads back the same index', async () => {
    const dir = join(root, 'round-trip');
    const index = build('cat-1');

    const report = await saveIndex(index, dir);
    const loaded = await loadIndex(dir, expectation);

    expect(report.dir).toBe(await currentOf(dir));
    const manifest = JSON.parse(await readFile(join(report.dir, 'manifest.json'), 'utf8')) as {
      formatVersion: number;
      embeddingVersion: string;
      catalogVersion: string;
      dim: number;
      params: { m: number; efConstruction: number };
      counts: { live: number };
      files: Record<string, { bytes: number; sha256: string }>;
    };
    expect(manifest).toMatchObject({
      formatVersion: 1,
      embeddingVersion: 'content@spec',
      catalogVersion: 'cat-1',
      dim: 32,
      params: { m: 16, efConstruction: 200 },
      counts: { live: index.size },
    });
    expect(Object.keys(manifest.files).sort()).toEqual(
      expect.arrayContaining([
        'campaigns.f64',
        'graph.hnsw',
        'ids.f64',
        'prior.f64',
        'rules.i32',
        'vectors.f32',
      ]),
    );
    const files = await readdir(report.dir);
    expect(files.sort()).toEqual([...Object.keys(manifest.files), 'manifest.json'].sort());
    expect(report.bytes).toBeGreaterThan(manifest.files['vectors.f32'].bytes);
    expect(loaded.origin).toMatchObject({ kind: 'loaded', dir: report.dir });
    expect(answers(loaded)).toEqual(answers(index));
  });

  it('refuses a save of another embedding version before reading its graphs, naming both versions', async () => {
    const dir = join(root, 'mismatch');
    await saveIndex(build('cat-1', 300), dir);
    const at = await currentOf(dir);

    await expect(loadIndex(dir, { ...expectation, embeddingVersion: 'retrieval@v2' })).rejects.toMatchObject({
      reason: 'mismatch',
      message: `saved ad index ${at} does not fit: embedding version saved "content@spec", expected "retrieval@v2"`,
    });
    await expect(loadIndex(dir, { ...expectation, dim: 64 })).rejects.toMatchObject({
      reason: 'mismatch',
      message: `saved ad index does not fit: dim saved 32, expected 64 (${at})`,
    });
    await expect(loadIndex(join(root, 'none'), expectation)).rejects.toMatchObject({
      reason: 'absent',
      message: `no saved ad index in ${join(root, 'none')}`,
    });
  });

  it('refuses damaged files and another format version', async () => {
    const dir = join(root, 'damaged');
    await saveIndex(build('cat-1', 300), dir);
    const at = await currentOf(dir);
    const graph = await readFile(join(at, 'graph.hnsw'));

    graph[graph.length - 10] ^= 0xff;
    await writeFile(join(at, 'graph.hnsw'), graph);
    await expect(loadIndex(dir, expectation)).rejects.toMatchObject({
      reason: 'corrupt',
      message: `${at}: graph.hnsw does not match its checksum`,
    });
    await writeFile(join(at, 'ids.f64'), Buffer.alloc(8));
    await expect(loadIndex(dir, expectation)).rejects.toMatchObject({
      reason: 'corrupt',
      message: expect.stringMatching(/: ids\.f64 has 8 bytes, the manifest says \d+$/) as unknown as string,
    });
    const manifest = JSON.parse(await readFile(join(at, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(at, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 2 }));
    await expect(loadIndex(dir, expectation)).rejects.toMatchObject({
      reason: 'mismatch',
      message: `saved ad index ${at} does not fit: format version saved 2, this code reads 1`,
    });
  });

  it('keeps the previous save loadable until a new one is complete, then removes it', async () => {
    const dir = join(root, 'crash');
    const first = build('cat-1', 600);
    await saveIndex(first, dir);
    const firstAt = await currentOf(dir);
    // A writer that died mid-save: a temporary directory with part of its files, CURRENT untouched.
    const partial = join(dir, `index-${Date.now()}-0badc0de.tmp`);
    await mkdir(partial);
    await writeFile(join(partial, 'ids.f64'), Buffer.alloc(64));

    expect(answers(await loadIndex(dir, expectation))).toEqual(answers(first));

    await saveIndex(build('cat-2', 600), dir);

    expect(await currentOf(dir)).not.toBe(firstAt);
    await expect(loadIndex(dir, expectation)).resolves.toMatchObject({ catalogVersion: 'cat-2' });
    const entries = await readdir(dir);
    expect(entries.filter((e) => /^index-\d+-[0-9a-f]{8}$/.test(e))).toEqual([
      (await currentOf(dir)).slice(dir.length + 1),
    ]);
    // The partial directory is recent: it might be another live writer's, so it stays for now.
    expect(entries).toContain(partial.slice(dir.length + 1));
  });
});
