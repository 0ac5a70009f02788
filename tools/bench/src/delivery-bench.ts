#!/usr/bin/env node
/* eslint-disable @nx/enforce-module-boundaries -- it times the stages' own counting classes in-process
   (their compiled dist), which live in the apps; a dev tool that nothing imports or ships. */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AdIndex } from '@adfunnel/ad-index';
import { AuctionService } from '@adfunnel/auction/dist/auction.service.js';
import { AuctionConfigSchema } from '@adfunnel/auction/dist/config.js';
import { AuctionDelivery } from '@adfunnel/auction/dist/diagnostics/auction-delivery.js';
import type { PacingService } from '@adfunnel/auction/dist/pacing/pacing.service.js';
import type { CatalogAd, CatalogSnapshot, CatalogSnapshotService } from '@adfunnel/catalog';
import { simulatedCatalogAds } from '@adfunnel/catalog-seed';
import type { AuctionRequest, ServedAd } from '@adfunnel/contracts';
import { DeliveryTally } from '@adfunnel/delivery-diagnostics';
import { GatewayDelivery } from '@adfunnel/gateway/dist/diagnostics/gateway-delivery.js';
import type { BudgetExclusions } from '@adfunnel/retrieval/dist/budget/exhausted-campaigns.service.js';
import { RetrievalDelivery } from '@adfunnel/retrieval/dist/diagnostics/retrieval-delivery.js';
import { CandidateCatalog } from '@adfunnel/retrieval/dist/sources/candidate-catalog.js';
import { Rng } from '@adfunnel/simulator';
import { Logger } from '@nestjs/common';

const HELP = `adfunnel delivery bench - the CPU the delivery diagnostics add to a request, per stage

Usage: npm run bench:delivery -- [--requests 20000] [--candidates 200] [--flush-every 5000] [--json]

Runs each stage's counting in-process on a simulated catalog (40 advertisers, 120 campaigns, 1500
ads), as the stage calls it per request: retrieval's (eligible, budget, caps, retrieved) over
--candidates candidates, the auction's (its verdicts buffer and per-campaign verdicts) by running
the real AuctionService with and without it, and the gateway's served count for 4 ads. The tally
is drained every --flush-every requests, as DELIVERY_FLUSH_MS does (5000 is 5 s at 1000 requests
a second), so the per-campaign folding and the drain are in the figure; the Redis write of a flush
is one pipeline per flush, not per request, and is not counted. Prints microseconds of CPU per
request (process.cpuUsage, user + system) for each stage.`;

function cpuMicros(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '20000' },
      candidates: { type: 'string', default: '200' },
      'flush-every': { type: 'string', default: '5000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  // The auction's debug log line is off in production (LOG_LEVEL info) and off here.
  Logger.overrideLogger(false);
  const requests = Number(values.requests);
  const candidates = Number(values.candidates);
  const flushEvery = Number(values['flush-every']);
  for (const [name, n] of [
    ['requests', requests],
    ['candidates', candidates],
    ['flush-every', flushEvery],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${n}`);
  }

  const ads = simulatedCatalogAds({
    seed: 5,
    advertisers: 40,
    campaignsPerAdvertiser: 3,
    ads: 1500,
    users: 100,
  });
  const rng = new Rng(7);
  const contexts = [
    ['US', 'mobile'],
    ['US', 'desktop'],
    ['GB', 'mobile'],
    ['DE', 'tablet'],
  ] as const;
  const active = ads.filter((ad) => ad.status === 'active' && ad.campaign.status === 'active');
  /** Per request: its context, its candidates and its capped campaigns. */
  const mix = Array.from({ length: 64 }, () => {
    const [country, device] = contexts[rng.int(contexts.length)];
    const ids = Array.from({ length: candidates }, () => active[rng.int(active.length)].id);
    return { country, device, adIds: ids };
  });

  // Retrieval.
  const catalog = CandidateCatalog.build(
    AdIndex.build(ads, { catalogVersion: 'bench', exactThreshold: 0 }),
    ads,
  );
  const campaigns = [...new Set(active.map((ad) => ad.campaign.id))];
  const budget: BudgetExclusions = {
    excluded: new Set(campaigns.slice(0, 6)),
    exhausted: new Set(campaigns.slice(0, 3)),
  };
  // One request in four from a user capped for two campaigns.
  const capped = new Set([...budget.excluded, campaigns[10], campaigns[11]]);
  const retrievalTally = new DeliveryTally();
  const retrieval = new RetrievalDelivery(retrievalTally);
  const retrievalRun = () => {
    for (let i = 0; i < requests; i++) {
      const r = mix[i % mix.length];
      retrieval.counted(
        catalog,
        r.country,
        r.device,
        budget,
        i % 4 === 0 ? capped : budget.excluded,
        r.adIds,
      );
      if ((i + 1) % flushEvery === 0) retrievalTally.drain();
    }
  };

  // Auction: the same run with and without its delivery counting.
  const snapshot: CatalogSnapshot = {
    version: 'bench',
    loadedAt: Date.now(),
    ads,
    byId: new Map<number, CatalogAd>(ads.map((ad) => [ad.id, ad])),
  };
  const snapshots = {
    snapshot: () => snapshot,
    onChange: () => () => undefined,
  } as unknown as CatalogSnapshotService;
  const pacing = { admits: () => true, countRequest: () => undefined } as unknown as PacingService;
  const config = AuctionConfigSchema.parse({});
  const clock = { now: () => Date.now() };
  const auctionTally = new DeliveryTally();
  const counted = new AuctionService(snapshots, pacing, clock, config, new AuctionDelivery(auctionTally));
  const uncounted = new AuctionService(snapshots, pacing, clock, config);
  const auctionRequests: AuctionRequest[] = mix.map((r, i) => ({
    requestId: `bench-${i}`,
    deadlineAt: Number.MAX_SAFE_INTEGER,
    surface: 'home_feed',
    device: r.device,
    slots: 4,
    adIds: r.adIds,
    predictions: {
      pCtr: r.adIds.map(() => 0.005 + rng.next() * 0.03),
      pCvr: r.adIds.map(() => 0.02 + rng.next() * 0.1),
    },
  }));
  const auctionRun = (sut: AuctionService) => () => {
    for (let i = 0; i < requests; i++) {
      sut.run(auctionRequests[i % auctionRequests.length]);
      if ((i + 1) % flushEvery === 0) auctionTally.drain();
    }
  };

  // Gateway.
  const gatewayTally = new DeliveryTally();
  const gateway = new GatewayDelivery(gatewayTally);
  const answers = mix.map((r) =>
    r.adIds
      .slice(0, 4)
      .map((adId) => ({ adId, campaignId: snapshot.byId.get(adId)!.campaignId }) as ServedAd),
  );
  const gatewayRun = () => {
    for (let i = 0; i < requests; i++) {
      gateway.served(answers[i % answers.length]);
      if ((i + 1) % flushEvery === 0) gatewayTally.drain();
    }
  };

  // A warm-up pass of each, then the measured ones (the auction's two alternated, best of three).
  retrievalRun();
  auctionRun(counted)();
  auctionRun(uncounted)();
  gatewayRun();
  const best = (run: () => void) => Math.min(cpuMicros(run), cpuMicros(run), cpuMicros(run)) / requests;
  const retrievalUs = best(retrievalRun);
  const withCounts = best(auctionRun(counted));
  const withoutCounts = best(auctionRun(uncounted));
  const gatewayUs = best(gatewayRun);
  const result = {
    requests,
    candidates,
    flushEvery,
    retrievalUs: round(retrievalUs),
    auctionUs: round(withCounts - withoutCounts),
    auctionRunUs: round(withoutCounts),
    gatewayUs: round(gatewayUs),
    totalUs: round(retrievalUs + (withCounts - withoutCounts) + gatewayUs),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    `delivery counting, CPU per request (${requests} requests of ${candidates} candidates, drained every ${flushEvery}):\n` +
      `  retrieval  ${result.retrievalUs} us\n` +
      `  auction    ${result.auctionUs} us (the auction itself: ${result.auctionRunUs} us)\n` +
      `  gateway    ${result.gatewayUs} us\n` +
      `  total      ${result.totalUs} us\n`,
  );
}

function round(us: number): number {
  return Math.round(us * 100) / 100;
}

main();
