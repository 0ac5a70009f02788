#!/usr/bin/env node
/* eslint-disable @nx/enforce-module-boundaries -- it times retrieval's own RetrievalService and
   candidate sources in-process (their compiled dist), which live in the app; a dev tool that nothing
   imports or ships. */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AdIndex, TopK } from '@adfunnel/ad-index';
import { simulatedCatalogAds } from '@adfunnel/catalog-seed';
import { COUNTRIES, SURFACES, type CandidatesRequest, type UserContext } from '@adfunnel/contracts';
import { categoryMixturesOf } from '@adfunnel/features';
import { RetrievalConfigSchema } from '@adfunnel/retrieval/dist/config.js';
import type { IndexLifecycleService } from '@adfunnel/retrieval/dist/index/index-lifecycle.service.js';
import { RetrievalService } from '@adfunnel/retrieval/dist/retrieval.service.js';
import { CandidateCatalog } from '@adfunnel/retrieval/dist/sources/candidate-catalog.js';
import { CandidateSources } from '@adfunnel/retrieval/dist/sources/candidate-sources.js';
import { InterestPostings } from '@adfunnel/retrieval/dist/sources/interest-postings.js';
import { TrendingAds } from '@adfunnel/retrieval/dist/sources/trending-ads.js';
import { ActivityUserQueryVector } from '@adfunnel/retrieval/dist/sources/user-query-vector.js';
import { DEMO_MARKETPLACE, Rng, adAt, userAt } from '@adfunnel/simulator';
import { emptyUserActivity, foldEvent, userContextOf } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { pickQuery } from './request-mix.js';

const HELP = `adfunnel retrieval sources bench - CPU per request of retrieval's stage work, in-process

Usage: npm run bench:sources -- [--mode headroom|quotas|build] [--ads 2000,10000] [--excluded 0,20]
                                [--requests 600] [--rounds 9] [--limit 200] [--headroom 1.5]
                                [--exact-threshold 4000] [--json]

Per catalog size: the demo marketplace (DEMO_MARKETPLACE, 200 advertisers, 600 campaigns) cut to
--ads ads, its AdIndex with the retrieval service's defaults (efSearch 128, exact threshold 4000)
(--exact-threshold to scan larger buckets exactly) and its CandidateCatalog; then --requests seeded requests (surfaces in turn, each user's own country
and device, two users in three with three recent clicks, search queries from ad titles,
related-items context ads) answered by the real RetrievalService.candidates with the default quotas
and --limit candidates, trending lists of 500 ads per country, once per --excluded count of
campaigns every request excludes (spent budgets, frequency caps; 20 campaigns are about 330 of the
demo catalog's ads, more than the limit, which takes the index off its plain graph walk). Two configurations run in the same
process, interleaved round by round (--rounds, after one untimed round each):

  baseline   RETRIEVAL_SOURCE_HEADROOM=0: every source asks the index for the whole limit
  current    RETRIEVAL_SOURCE_HEADROOM=--headroom: each source asks for its quota times that

Prints, per configuration, the median over rounds of the CPU per request (process.cpuUsage, user +
system) and of the per-request wall p50, the ratio current / baseline, and how many answers were the
same ad ids in the same order, and the mean share of baseline ads the current answer kept. Where
requests fall in exactly scanned buckets, it also times the index's exact search of those buckets
against the heap scan it replaced (a TopK push per eligible ad), k 120 and 200, CPU per scan.

--mode quotas: the same catalogs and --requests home-feed requests (no campaigns excluded), answered
with --headroom under four home-feed quota sets, interleaved round by round (QUOTA_SETS below:
the default, the interest source at 0.45 in front of the default's others, interest alone, ann
alone); prints the medians of CPU per request and of the per-request wall p50, the ratio to the
default, the mean candidates and the mean share labelled interest.

--mode build: CandidateCatalog.build of the demo marketplace cut to --ads ads (default 10000,100000),
--rounds times, and interleaved with it the build's mixture step on its own (categoryMixturesOf a
copy of the ads array, InterestPostings.build), CPU ms medians; the build without the mixture
is the difference. Its AdIndex holds the first 1,000 ads only: the build keeps the index, it does not
read it.`;

/** --mode quotas: the home-feed quota sets compared (RETRIEVAL_QUOTAS_HOME_FEED; '' = DEFAULT_QUOTAS). */
const QUOTA_SETS = [
  { name: 'default', quotas: '' },
  { name: 'interest-mix', quotas: 'interest:0.45,ann:0.15,trending:0.15,retargeting:0.1,popular:0.15' },
  { name: 'interest-only', quotas: 'interest:1' },
  { name: 'ann-only', quotas: 'ann:1' },
] as const;

interface Mode {
  readonly name: 'baseline' | 'current';
  readonly service: RetrievalService;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'headroom' },
      ads: { type: 'string' },
      requests: { type: 'string', default: '600' },
      rounds: { type: 'string', default: '9' },
      limit: { type: 'string', default: '200' },
      headroom: { type: 'string', default: '1.5' },
      'exact-threshold': { type: 'string', default: '4000' },
      excluded: { type: 'string', default: '0,20' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  Logger.overrideLogger(false);
  const mode = values.mode;
  if (mode !== 'headroom' && mode !== 'quotas' && mode !== 'build') {
    throw new RangeError(`--mode must be headroom, quotas or build, got ${mode}`);
  }
  const sizes = (values.ads ?? (mode === 'build' ? '10000,100000' : '2000,10000')).split(',').map(Number);
  const requests = Number(values.requests);
  const rounds = Number(values.rounds);
  const limit = Number(values.limit);
  for (const [name, n] of [
    ['requests', requests],
    ['rounds', rounds],
    ['limit', limit],
    ...sizes.map((s) => ['ads', s] as const),
  ] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${n}`);
  }
  const excluded = values.excluded.split(',').map(Number);
  const exactThreshold = Number(values['exact-threshold']);
  if (mode === 'quotas') {
    const quotaResults = [];
    for (const ads of sizes) {
      quotaResults.push(await benchQuotas(ads, requests, rounds, limit, values.headroom, exactThreshold));
    }
    if (values.json) process.stdout.write(`${JSON.stringify(quotaResults)}\n`);
    else for (const r of quotaResults) process.stdout.write(formatQuotas(r));
    return;
  }
  if (mode === 'build') {
    const buildResults = sizes.map((ads) => benchBuild(ads, rounds));
    if (values.json) process.stdout.write(`${JSON.stringify(buildResults)}\n`);
    else {
      for (const r of buildResults) {
        process.stdout.write(
          `${r.ads} ads, CandidateCatalog.build x ${r.rounds} (CPU ms, medians): build ${r.buildMs}, ` +
            `mixture step ${r.mixtureMs} (${r.mixtureShare} of it), without the mixture ${r.withoutMixtureMs}\n`,
        );
      }
    }
    return;
  }
  const results = [];
  for (const ads of sizes) {
    for (const campaigns of excluded) {
      results.push(await benchSize(ads, campaigns, requests, rounds, limit, values.headroom, exactThreshold));
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
    return;
  }
  for (const r of results) {
    process.stdout.write(
      `${r.ads} ads, ${r.excludedCampaigns} campaigns excluded (${r.requests} requests x ${r.rounds} rounds, limit ${r.limit}, headroom ${r.headroom}; ` +
        `exact-scanned buckets: ${r.exactRequests} of ${r.requests} requests):\n` +
        `  baseline  CPU ${r.baseline.cpuUsPerRequest} us/req   p50 ${r.baseline.p50Us} us\n` +
        `  current   CPU ${r.current.cpuUsPerRequest} us/req   p50 ${r.current.p50Us} us\n` +
        `  ratio     CPU ${r.cpuRatio}   p50 ${r.p50Ratio}\n` +
        `  answers   ${r.sameAnswers} of ${r.requests} identical, mean overlap ${r.meanOverlap}, ` +
        `mean size ${r.baseline.meanCandidates} -> ${r.current.meanCandidates}\n` +
        `  asked again per request: ${
          Object.entries(r.reasked)
            .map(([key, n]) => `${key} ${n}`)
            .join(', ') || 'none'
        }\n` +
        (r.exactScan ?? [])
          .map(
            (e) =>
              `  exact scan k ${e.k}: index ${e.indexUs} us, heap scan ${e.heapUs} us, ratio ${e.ratio} ` +
              `(${e.same} of ${e.scans} identical)\n`,
          )
          .join(''),
    );
  }
}

/**
 * The demo marketplace cut to `ads` ads, its AdIndex (efSearch 128) and CandidateCatalog, a lifecycle
 * that answers it, and trending lists of 500 ads per country: what every mode's services search.
 */
async function benchCatalog(ads: number, exactThreshold: number) {
  const spec = { ...DEMO_MARKETPLACE, ads };
  const catalogAds = simulatedCatalogAds(spec);
  const index = AdIndex.build(catalogAds, { catalogVersion: 'bench', efSearch: 128, exactThreshold });
  const catalog = CandidateCatalog.build(index, catalogAds);
  const lifecycle = { candidates: () => catalog } as unknown as IndexLifecycleService;
  const trending = new TrendingAds(
    { trendingAds: (country) => Promise.resolve(trendingList(catalogAds.length, country)) },
    500,
    60_000,
  );
  await trending.refresh();
  return { spec, catalogAds, index, catalog, lifecycle, trending };
}

async function benchSize(
  ads: number,
  excludedCampaigns: number,
  count: number,
  rounds: number,
  limit: number,
  headroom: string,
  exactThreshold: number,
) {
  const { spec, catalogAds, index, catalog, lifecycle, trending } = await benchCatalog(ads, exactThreshold);
  const mode = (name: Mode['name'], value: string): Mode => {
    const config = RetrievalConfigSchema.parse({ RETRIEVAL_SOURCE_HEADROOM: value });
    const sources = new CandidateSources(new ActivityUserQueryVector(), trending, {
      annOverfetch: config.RETRIEVAL_ANN_OVERFETCH,
      querySeeds: config.RETRIEVAL_QUERY_SEEDS,
    });
    // Counts the sources asked again for the whole limit (run without k: a merge that ran a list
    // through, or the popular last resort), per request of the first round.
    const forRequest = sources.forRequest.bind(sources);
    sources.forRequest = (input) => {
      const run = forRequest(input);
      return (source, k) => {
        if (k === undefined)
          reasked.set(
            `${name} ${input.request.surface} ${source}`,
            (reasked.get(`${name} ${input.request.surface} ${source}`) ?? 0) + 1,
          );
        return run(source, k);
      };
    };
    return { name, service: new RetrievalService(lifecycle, sources, config) };
  };
  const reasked = new Map<string, number>();
  const modes = [mode('baseline', '0'), mode('current', headroom)];
  const mix = requestMix(spec, count, limit);
  // Campaigns every request excludes (spent budgets, frequency caps), spread over the catalog.
  const campaignIds = [...new Set(catalogAds.map((ad) => ad.campaign.id))].sort((a, b) => a - b);
  const exclude = new Set(
    Array.from(
      { length: excludedCampaigns },
      (_, i) => campaignIds[Math.floor((i * campaignIds.length) / excludedCampaigns)],
    ),
  );
  const exactRequests = mix.filter(
    (r) => index.strategyFor(r.user.country, r.user.device) === 'exact',
  ).length;

  let reaskedFirst: Map<string, number> | undefined;
  const cpu = { baseline: [] as number[], current: [] as number[] };
  const p50 = { baseline: [] as number[], current: [] as number[] };
  const answers = { baseline: [] as number[][], current: [] as number[][] };
  for (let round = -1; round < rounds; round++) {
    for (const m of round % 2 === 0 ? modes : [...modes].reverse()) {
      const latencies = new Float64Array(mix.length);
      const start = process.cpuUsage();
      for (let i = 0; i < mix.length; i++) {
        const t = performance.now();
        const answer = m.service.candidates(mix[i], NOW, exclude);
        latencies[i] = performance.now() - t;
        if (round === -1) answers[m.name].push(answer.adIds);
      }
      const used = process.cpuUsage(start);
      if (round === -1) continue;
      if (round === 0) reaskedFirst ??= new Map(reasked);
      cpu[m.name].push((used.user + used.system) / mix.length);
      p50[m.name].push(median(Array.from(latencies)) * 1000);
    }
  }
  const exactScan = exactScanFigures(index, catalog, mix, rounds);
  let same = 0;
  let overlap = 0;
  for (let i = 0; i < mix.length; i++) {
    const a = answers.baseline[i];
    const b = answers.current[i];
    if (a.length === b.length && a.every((id, j) => id === b[j])) same++;
    const kept = new Set(b);
    overlap += a.length === 0 ? 1 : a.filter((id) => kept.has(id)).length / a.length;
  }
  const summary = (name: Mode['name']) => ({
    cpuUsPerRequest: round1(median(cpu[name])),
    p50Us: round1(median(p50[name])),
    meanCandidates: round1(answers[name].reduce((s, a) => s + a.length, 0) / mix.length),
  });
  const baseline = summary('baseline');
  const current = summary('current');
  return {
    ads,
    excludedCampaigns,
    requests: mix.length,
    rounds,
    limit,
    headroom: Number(headroom),
    exactRequests,
    baseline,
    current,
    cpuRatio: round3(current.cpuUsPerRequest / baseline.cpuUsPerRequest),
    p50Ratio: round3(current.p50Us / baseline.p50Us),
    sameAnswers: same,
    meanOverlap: round3(overlap / mix.length),
    exactScan,
    // Sources asked again for the whole limit over the first (untimed) round, per request of the surface.
    reasked: Object.fromEntries(
      [...(reaskedFirst ?? reasked)].map(([key, n]) => [key, round3(n / (mix.length / SURFACES.length))]),
    ),
  };
}

/**
 * The index's exact scan of the requests' exactly scanned buckets against the heap scan it replaced
 * (every eligible ad's inner product pushed through a TopK of k), on the same packed vectors and
 * queries (the catalog embeddings of the requests' context ads, or a random ad's), for k 120 and 200.
 */
function exactScanFigures(
  index: AdIndex,
  catalog: CandidateCatalog,
  mix: readonly CandidatesRequest[],
  rounds: number,
) {
  const exact = mix.filter((r) => index.strategyFor(r.user.country, r.user.device) === 'exact');
  if (exact.length === 0) return null;
  const dim = index.dim;
  const packedOf = new Map<string, { ids: Int32Array; packed: Float32Array }>();
  const allIds = index.adIds();
  const queries = exact.map((r, i) => {
    const key = `${r.user.country}/${r.user.device}`;
    if (!packedOf.has(key)) {
      const eligible = catalog.eligible(r.user.country, r.user.device, new Set());
      const ids = Int32Array.from(allIds.filter((id) => eligible.admits(id)));
      const packed = new Float32Array(ids.length * dim);
      ids.forEach((id, j) => packed.set(index.vectorOf(id)!.vector, j * dim));
      packedOf.set(key, { ids, packed });
    }
    const adId = r.contextAdId ?? allIds[(i * 7919) % allIds.length];
    return { request: r, key, embedding: catalog.ad(adId)!.embedding };
  });
  const figures = [];
  for (const k of [120, 200]) {
    const times = { index: [] as number[], heap: [] as number[] };
    let same = 0;
    const runIndex = () =>
      queries.map((q) =>
        index.search({
          embedding: q.embedding,
          country: q.request.user.country,
          device: q.request.user.device,
          k,
        }),
      );
    const runHeap = () =>
      queries.map((q) => {
        const { ids, packed } = packedOf.get(q.key)!;
        const v = Float64Array.from(q.embedding);
        const top = new TopK(Math.min(k, ids.length));
        for (let j = 0; j < ids.length; j++) {
          top.push(dot4(v, packed, j * dim, dim), ids[j]);
        }
        return top.drain();
      });
    const a = runIndex();
    const b = runHeap();
    a.forEach((r, i) => {
      if (r.adIds.length === b[i].ids.length && r.adIds.every((id, j) => id === b[i].ids[j])) same++;
    });
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of round % 2 === 0
        ? ([
            ['index', runIndex],
            ['heap', runHeap],
          ] as const)
        : ([
            ['heap', runHeap],
            ['index', runIndex],
          ] as const)) {
        const start = process.cpuUsage();
        run();
        const used = process.cpuUsage(start);
        times[name].push((used.user + used.system) / queries.length);
      }
    }
    const indexUs = round1(median(times.index));
    const heapUs = round1(median(times.heap));
    figures.push({ k, scans: queries.length, indexUs, heapUs, ratio: round3(indexUs / heapUs), same });
  }
  return figures;
}

/**
 * --mode quotas: home-feed requests only (the quota sets differ there alone), each quota set a
 * RetrievalService of its own over the same catalog and sources, interleaved round by round.
 */
async function benchQuotas(
  ads: number,
  count: number,
  rounds: number,
  limit: number,
  headroom: string,
  exactThreshold: number,
) {
  const { spec, lifecycle, trending } = await benchCatalog(ads, exactThreshold);
  const reasked = new Map<string, number>();
  let counting = true;
  const services = QUOTA_SETS.map(({ name, quotas }) => {
    const config = RetrievalConfigSchema.parse({
      RETRIEVAL_SOURCE_HEADROOM: headroom,
      RETRIEVAL_QUOTAS_HOME_FEED: quotas,
    });
    const sources = new CandidateSources(new ActivityUserQueryVector(), trending, {
      annOverfetch: config.RETRIEVAL_ANN_OVERFETCH,
      querySeeds: config.RETRIEVAL_QUERY_SEEDS,
    });
    // Sources asked again for the whole limit (run without k), per request of the untimed round.
    const forRequest = sources.forRequest.bind(sources);
    sources.forRequest = (input) => {
      const run = forRequest(input);
      return (source, k) => {
        if (k === undefined && counting)
          reasked.set(`${name} ${source}`, (reasked.get(`${name} ${source}`) ?? 0) + 1);
        return run(source, k);
      };
    };
    return { name, quotas, service: new RetrievalService(lifecycle, sources, config) };
  });
  const mix = requestMix(spec, count * SURFACES.length, limit)
    .filter((r) => r.surface === 'home_feed')
    .slice(0, count);
  const cpu = new Map<string, number[]>(services.map((s) => [s.name, []]));
  const p50 = new Map<string, number[]>(services.map((s) => [s.name, []]));
  const sizes = new Map<string, number>();
  const interestShare = new Map<string, number>();
  for (let round = -1; round < rounds; round++) {
    const order = round % 2 === 0 ? services : [...services].reverse();
    // Rotate as well as reverse, so that no set always runs right after the same other one.
    const start = ((round % services.length) + services.length) % services.length;
    for (const s of [...order.slice(start), ...order.slice(0, start)]) {
      const latencies = new Float64Array(mix.length);
      counting = round === -1;
      const used0 = process.cpuUsage();
      let candidates = 0;
      let interest = 0;
      for (let i = 0; i < mix.length; i++) {
        const t = performance.now();
        const answer = s.service.candidates(mix[i], NOW, NO_EXCLUSIONS);
        latencies[i] = performance.now() - t;
        if (round === -1) {
          candidates += answer.adIds.length;
          interest +=
            answer.sources.filter((src) => src === 'interest').length / Math.max(answer.adIds.length, 1);
        }
      }
      const used = process.cpuUsage(used0);
      if (round === -1) {
        sizes.set(s.name, round1(candidates / mix.length));
        interestShare.set(s.name, round3(interest / mix.length));
        continue;
      }
      cpu.get(s.name)!.push((used.user + used.system) / mix.length);
      p50.get(s.name)!.push(median(Array.from(latencies)) * 1000);
    }
  }
  const base = median(cpu.get('default')!);
  const baseP50 = median(p50.get('default')!);
  return {
    ads,
    requests: mix.length,
    rounds,
    limit,
    headroom: Number(headroom),
    known: mix.filter((r) => r.user.known).length,
    sets: services.map(({ name, quotas }) => {
      const c = median(cpu.get(name)!);
      const p = median(p50.get(name)!);
      return {
        name,
        quotas: quotas === '' ? 'DEFAULT_QUOTAS' : quotas,
        cpuUsPerRequest: round1(c),
        p50Us: round1(p),
        cpuRatio: round3(c / base),
        p50Ratio: round3(p / baseP50),
        meanCandidates: sizes.get(name) ?? 0,
        interestShare: interestShare.get(name) ?? 0,
        reasked: Object.fromEntries(
          [...reasked]
            .filter(([key]) => key.startsWith(`${name} `))
            .map(([key, n]) => [key.slice(name.length + 1), round3(n / mix.length)]),
        ),
      };
    }),
  };
}

function formatQuotas(r: Awaited<ReturnType<typeof benchQuotas>>): string {
  return (
    `${r.ads} ads, ${r.requests} home-feed requests (${r.known} with activity) x ${r.rounds} rounds, ` +
    `limit ${r.limit}, headroom ${r.headroom}:\n` +
    r.sets
      .map(
        (s) =>
          `  ${s.name.padEnd(13)} CPU ${s.cpuUsPerRequest} us/req (x${s.cpuRatio})   p50 ${s.p50Us} us ` +
          `(x${s.p50Ratio})   ${s.meanCandidates} candidates, ${s.interestShare} interest   ${s.quotas}\n` +
          `                asked again per request: ${
            Object.entries(s.reasked)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || 'none'
          }\n`,
      )
      .join('')
  );
}

/**
 * --mode build: CandidateCatalog.build against its mixture step on its own, as the build runs it
 * (categoryMixturesOf the snapshot's ads, InterestPostings.build), interleaved, CPU ms.
 */
function benchBuild(ads: number, rounds: number) {
  const catalogAds = simulatedCatalogAds({ ...DEMO_MARKETPLACE, ads });
  const index = AdIndex.build(catalogAds.slice(0, 1000), { catalogVersion: 'bench' });
  // Each run gets a copy of the ads array: the mixtures are memoized per snapshot (categoryMixturesOf
  // on the array's identity), and a catalog change brings a new array.
  const build = () => CandidateCatalog.build(index, [...catalogAds]);
  const mixture = () => InterestPostings.build(categoryMixturesOf([...catalogAds]));
  const times = { build: [] as number[], mixture: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of round % 2 === 0
      ? ([
          ['build', build],
          ['mixture', mixture],
        ] as const)
      : ([
          ['mixture', mixture],
          ['build', build],
        ] as const)) {
      const start = process.cpuUsage();
      run();
      const used = process.cpuUsage(start);
      times[name].push((used.user + used.system) / 1000);
    }
  }
  const buildMs = median(times.build);
  const mixtureMs = median(times.mixture);
  return {
    ads,
    rounds,
    buildMs: round1(buildMs),
    mixtureMs: round1(mixtureMs),
    withoutMixtureMs: round1(buildMs - mixtureMs),
    mixtureShare: round3(mixtureMs / buildMs),
  };
}

const NO_EXCLUSIONS: ReadonlySet<number> = new Set();

const NOW = Date.UTC(2026, 0, 2);

/** Seeded requests: surfaces in turn, the users' own countries and devices, two in three known. */
function requestMix(spec: typeof DEMO_MARKETPLACE, count: number, limit: number): CandidatesRequest[] {
  const rng = new Rng(11);
  return Array.from({ length: count }, (_, i) => {
    const surface = SURFACES[i % SURFACES.length];
    const user = userContext(spec, rng.int(spec.users), rng);
    const ad = adAt(spec, rng.int(spec.ads));
    return {
      requestId: `bench-${i}`,
      deadlineAt: Number.MAX_SAFE_INTEGER,
      user,
      surface,
      limit,
      ...(surface === 'search' ? { query: pickQuery(rng, ad.title) ?? ad.title } : {}),
      ...(surface === 'related_items' ? { contextAdId: ad.id } : {}),
    };
  });
}

function userContext(spec: typeof DEMO_MARKETPLACE, index: number, rng: Rng): UserContext {
  const declared = userAt(spec, index);
  let activity = emptyUserActivity();
  const at = NOW - 3_600_000;
  if (rng.int(3) > 0) {
    for (let k = 0; k < 3; k++) {
      const ad = adAt(spec, rng.int(spec.ads));
      const event = { adId: ad.id, advertiserId: ad.advertiserId, categoryIndex: ad.categoryIndex };
      activity = foldEvent(activity, { ...event, type: 'impression', at: at + k * 60_000 });
      activity = foldEvent(activity, { ...event, type: 'click', at: at + k * 60_000 });
    }
  }
  return userContextOf(
    { userId: declared.id, country: declared.country, device: declared.device },
    activity,
    NOW,
  );
}

/** 500 seeded ads per country, hottest first (what logging's decayed click counts give). */
function trendingList(ads: number, country: string) {
  const rng = new Rng(COUNTRIES.indexOf(country as (typeof COUNTRIES)[number]) + 100);
  const ids = new Set<number>();
  while (ids.size < Math.min(500, ads)) ids.add(1 + rng.int(ads));
  return [...ids].map((adId, i) => ({ adId, score: 500 - i }));
}

/** The index's inner product: four lanes at a time. */
function dot4(q: Float64Array, v: Float32Array, offset: number, dim: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    a0 += q[d] * v[offset + d];
    a1 += q[d + 1] * v[offset + d + 1];
    a2 += q[d + 2] * v[offset + d + 2];
    a3 += q[d + 3] * v[offset + d + 3];
  }
  for (; d < dim; d++) a0 += q[d] * v[offset + d];
  return a0 + a1 + (a2 + a3);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

await main();
