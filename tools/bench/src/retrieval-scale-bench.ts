#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AD_INDEX_DEFAULTS,
  AdIndex,
  type IndexSnapshot,
  type IndexableAd,
  type SearchStrategy,
  TopK,
  graphToRead,
} from '@adfunnel/ad-index';
import { Rng } from '@adfunnel/simulator';
import { type LatencySummary, summarize } from './latency-stats.js';
import { syntheticCatalog, targetingTiers } from './synthetic-catalog.js';

const HELP = `adfunnel retrieval scale bench - the production AdIndex at catalog scale, beside an exact scan

Usage: npm run bench:retrieval -- [--ads 1000000] [--dim 64] [--queries 300] [--k 500]
                                  [--shares 1,0.1,0.01,0.001] [--ef-construction N] [--ef-search N]
                                  [--exact-threshold N] [--seed 1] [--cpu 0] [--save-load] [--json]

Generates a seeded synthetic catalog (unit vectors around clusters of topics, so the nearest 500
span a few clusters as learned embeddings do) with nested country targeting that gives a request
from each of US, GB, DE, JP, ... exactly the asked share of the catalog, builds the production
AdIndex over it (its defaults unless overridden), then per share times AdIndex.search against a
brute-force exact scan of the same eligible ads in the same run, and scores the index's recall@k
against that scan. Searches of the shares are interleaved query by query, as a service sees them.

--save-load also times the index's own save and load (its graphs written and read back by hnswlib,
its arrays copied; retrieval's saved-index files add checksums and fsync) against the build, and
one incremental change of 100 new, 100 changed and 100 removed ads (applyInSlices: the insertions,
then the synchronous switch that makes them visible).

It measures one core: searches are synchronous JS on one thread, and the process re-runs itself
under 'taskset -c <cpu>' (when taskset exists; --cpu -1 to leave it unpinned), so V8's helper
threads share that core too. Other load on the machine still shows in p99: the load average is
printed beside the figures.
`;

const { values } = parseArgs({
  options: {
    ads: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '64' },
    queries: { type: 'string', default: '300' },
    k: { type: 'string', default: '500' },
    shares: { type: 'string', default: '1,0.1,0.01,0.001' },
    'ef-construction': { type: 'string' },
    'ef-search': { type: 'string' },
    'exact-threshold': { type: 'string' },
    seed: { type: 'string', default: '1' },
    cpu: { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
    'save-load': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function integer(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer of at least ${min}, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

const COUNTRIES = ['US', 'GB', 'DE', 'JP', 'FR', 'IN', 'BR', 'CA'];
const WARMUP_QUERIES = 20;

interface ShareReport {
  share: number;
  country: string;
  eligible: number;
  strategy: SearchStrategy;
  index: LatencySummary;
  exact: LatencySummary;
  /** Mean over queries of |index top k ∩ exact top k| / min(k, eligible). */
  recall: number;
  minRecall: number;
}

/** The brute-force baseline: every eligible ad's inner product, the best k kept in a heap. */
function exactTopK(query: Float32Array, vectors: Float32Array, slots: Int32Array, dim: number, k: number) {
  const q = Float64Array.from(query);
  const top = new TopK(k);
  for (let i = 0; i < slots.length; i++) {
    const offset = slots[i] * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += q[d] * vectors[offset + d];
    top.push(s, slots[i] + 1);
  }
  return top.drain().ids;
}

/** Save (graphs through hnswlib's writeIndex, arrays copied) and load (readIndex, restore) of `index`, ms. */
async function saveAndLoad(index: AdIndex, options: { dim: number }) {
  const dir = await mkdtemp(join(tmpdir(), 'retrieval-scale-bench-'));
  try {
    let at = performance.now();
    const copy = await index.persist(async (s) => {
      for (const [b, graph] of s.bucketGraphs) await graph.writeIndex(join(dir, `bucket-${b}`));
      await s.graph.writeIndex(join(dir, 'graph'));
      return {
        ...s,
        ids: s.ids.slice(),
        prior: s.prior.slice(),
        campaigns: s.campaigns.slice(),
        vectors: s.vectors.slice(),
        rules: s.rules.slice(),
      };
    });
    const saveMs = performance.now() - at;
    at = performance.now();
    const read = async (file: string) => {
      const graph = graphToRead(options.dim);
      await graph.readIndex(join(dir, file));
      return graph;
    };
    const bucketGraphs = new Map<number, IndexSnapshot['graph']>();
    for (const b of copy.bucketGraphs.keys()) bucketGraphs.set(b, await read(`bucket-${b}`));
    const loaded = AdIndex.restore(
      { ...copy, graph: await read('graph'), bucketGraphs },
      {
        ...options,
        embeddingVersion: index.embeddingVersion,
        exactThreshold: index.exactThreshold,
        efSearch: index.efSearch,
      },
    );
    return { saveMs, loadMs: performance.now() - at, loaded };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One catalog change applied in place: 100 ads new, 100 with a new vector, 100 gone. */
async function incrementalChange(
  index: AdIndex,
  ads: readonly IndexableAd[],
  rng: Rng,
  query: (rng: Rng) => Float32Array,
) {
  const step = Math.max(3, Math.floor(ads.length / 100));
  const changed = ads.flatMap((ad, i) =>
    i % step === 1 ? [] : i % step === 2 ? [{ ...ad, embedding: query(rng) }] : [ad],
  );
  const maxId = ads.reduce((m, ad) => Math.max(m, ad.id), 0);
  const added = Array.from({ length: 100 }, (_, i) => ({
    ...ads[i],
    id: maxId + 1 + i,
    embedding: query(rng),
  }));
  let at = performance.now();
  const changes = index.changes([...changed, ...added]);
  const diffMs = performance.now() - at;
  at = performance.now();
  const applied = await index.applyInSlices(changes, 'bench-2');
  return {
    diffMs,
    ...applied,
    perAdMs: (performance.now() - at) / (applied.added + applied.updated + applied.removed),
  };
}

function mb(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}

function pinnedToOneCore(): boolean {
  const cpu = integer('cpu', values.cpu, -1);
  if (cpu < 0 || process.env.ADFUNNEL_BENCH_PINNED === '1') return false;
  const child = spawnSync(
    'taskset',
    [
      '-c',
      String(cpu),
      process.execPath,
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, ADFUNNEL_BENCH_PINNED: '1' } },
  );
  if (child.error !== undefined) {
    process.stderr.write(`taskset unavailable (${child.error.message}); measuring unpinned\n`);
    return false;
  }
  process.exit(child.status ?? 1);
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const ads = integer('ads', values.ads, 1);
  const dim = integer('dim', values.dim, 1);
  const queries = integer('queries', values.queries, 1);
  const k = integer('k', values.k, 1);
  const seed = integer('seed', values.seed, 0);
  const shares = values.shares.split(',').map(Number);
  if (pinnedToOneCore()) return;
  const log = (line: string) => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };

  const tiers = targetingTiers(ads, shares, COUNTRIES);
  const loadBefore = loadavg()[0];
  let started = performance.now();
  const catalog = syntheticCatalog({
    ads,
    dim,
    seed,
    tiers,
    topics: Math.max(1, Math.round(ads / 20_000)),
    clustersPerTopic: 40,
  });
  const generateMs = performance.now() - started;
  log(`generated ${ads} ads x ${dim} dims in ${(generateMs / 1000).toFixed(1)} s`);

  const options = {
    catalogVersion: 'bench',
    dim,
    ...(values['ef-construction'] === undefined
      ? {}
      : { efConstruction: integer('ef-construction', values['ef-construction'], 1) }),
    ...(values['ef-search'] === undefined ? {} : { efSearch: integer('ef-search', values['ef-search'], 1) }),
    ...(values['exact-threshold'] === undefined
      ? {}
      : { exactThreshold: integer('exact-threshold', values['exact-threshold'], 0) }),
  };
  globalThis.gc?.();
  const memBefore = process.memoryUsage();
  started = performance.now();
  const index = AdIndex.build(catalog.ads, options);
  const buildMs = performance.now() - started;
  globalThis.gc?.();
  const memAfter = process.memoryUsage();
  log(`built the AdIndex in ${(buildMs / 1000).toFixed(1)} s; RSS +${mb(memAfter.rss - memBefore.rss)} MB`);

  // The exact scan's eligible slots per share, from the catalog's targeting, not from the index.
  const eligibleSlots = tiers.map((tier, t) => {
    const slots = new Int32Array(tier.eligible);
    let j = 0;
    catalog.ads.forEach((ad, slot) => {
      if (ad.campaign.targetCountries.length === 0 || ad.campaign.targetCountries.includes(COUNTRIES[t])) {
        slots[j++] = slot;
      }
    });
    return slots;
  });

  const lifecycle = values['save-load']
    ? await (async () => {
        const { saveMs, loadMs, loaded } = await saveAndLoad(index, { dim });
        const change = await incrementalChange(loaded, catalog.ads, new Rng(seed + 2), (r) =>
          catalog.query(r),
        );
        log(
          `save ${saveMs.toFixed(0)} ms, load ${loadMs.toFixed(0)} ms (build ${buildMs.toFixed(0)} ms); change of ` +
            `${change.added} new, ${change.updated} changed, ${change.removed} removed ads: diff ${change.diffMs.toFixed(0)} ms, ` +
            `applied in ${change.ms.toFixed(0)} ms (${change.perAdMs.toFixed(3)} ms per ad, switch ${change.switchMs.toFixed(1)} ms)`,
        );
        return { saveMs: Math.round(saveMs), loadMs: Math.round(loadMs), change };
      })()
    : undefined;

  const rng = new Rng(seed + 1);
  const qs = Array.from({ length: WARMUP_QUERIES + queries }, () => catalog.query(rng));
  const indexMs = tiers.map(() => [] as number[]);
  const found = tiers.map(() => [] as number[][]);
  for (const [i, embedding] of qs.entries()) {
    tiers.forEach((tier, t) => {
      const at = performance.now();
      const result = index.search({ embedding, country: tier.country, device: 'mobile', k });
      const ms = performance.now() - at;
      if (i >= WARMUP_QUERIES) {
        indexMs[t].push(ms);
        found[t].push(result.adIds);
      }
    });
  }
  log(`searched ${queries} queries per share through the index`);

  const reports: ShareReport[] = tiers.map((tier, t) => {
    const exactMs: number[] = [];
    const recalls: number[] = [];
    for (const [i, embedding] of qs.entries()) {
      const at = performance.now();
      const truth = exactTopK(embedding, catalog.vectors, eligibleSlots[t], dim, k);
      const ms = performance.now() - at;
      if (i < WARMUP_QUERIES) continue;
      exactMs.push(ms);
      const truthSet = new Set(truth);
      const hits = found[t][i - WARMUP_QUERIES].filter((id) => truthSet.has(id)).length;
      recalls.push(hits / truth.length);
    }
    log(`scanned share ${tier.share} exactly`);
    return {
      share: tier.share,
      country: tier.country,
      eligible: index.eligibleCount(tier.country, 'mobile'),
      strategy: index.strategyFor(tier.country, 'mobile'),
      index: summarize(indexMs[t]),
      exact: summarize(exactMs),
      recall: recalls.reduce((s, r) => s + r, 0) / recalls.length,
      minRecall: Math.min(...recalls),
    };
  });

  const report = {
    ads,
    dim,
    k,
    queries,
    seed,
    pinnedCpu: process.env.ADFUNNEL_BENCH_PINNED === '1' ? Number(values.cpu) : null,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    options: { ...AD_INDEX_DEFAULTS, ...options },
    generateMs: Math.round(generateMs),
    buildMs: Math.round(buildMs),
    ...(lifecycle === undefined ? {} : { saveLoad: lifecycle }),
    memory: {
      rssBeforeMb: mb(memBefore.rss),
      rssAfterMb: mb(memAfter.rss),
      indexRssMb: mb(memAfter.rss - memBefore.rss),
      indexHeapMb: mb(memAfter.heapUsed - memBefore.heapUsed),
      indexArrayBuffersMb: mb(memAfter.arrayBuffers - memBefore.arrayBuffers),
    },
    shares: reports,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const f = (v: number) => v.toFixed(3).padStart(8);
  log('');
  log(
    `${ads} ads x ${dim} dims, k ${k}, ${queries} queries per share, load average ` +
      `${loadBefore.toFixed(1)} -> ${report.loadAverage.after.toFixed(1)}, ` +
      (report.pinnedCpu === null ? 'unpinned' : `pinned to CPU ${report.pinnedCpu}`),
  );
  log(
    `build ${(buildMs / 1000).toFixed(1)} s; index RSS +${report.memory.indexRssMb} MB ` +
      `(JS heap +${report.memory.indexHeapMb} MB, typed arrays +${report.memory.indexArrayBuffersMb} MB)`,
  );
  log('');
  log('  share  eligible  strategy        index p50  index p99  exact p50  exact p99  recall@k    min');
  for (const r of reports) {
    log(
      `${String(r.share).padStart(7)} ${String(r.eligible).padStart(9)}  ${r.strategy.padEnd(14)} ` +
        `${f(r.index.p50)}   ${f(r.index.p99)}   ${f(r.exact.p50)}   ${f(r.exact.p99)}   ` +
        `${r.recall.toFixed(4)}  ${r.minRecall.toFixed(3)}`,
    );
  }
  log('(latencies in ms per search)');
}

await main();
