import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { type AuctionRequest, QueueGroups, Rpc } from '@adfunnel/contracts';
import { DEADLINE_EXCEEDED, parseConfig } from '@adfunnel/platform';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  type SeededCatalog,
  type TestStage,
  deleteRedisKeys,
  seededSqliteCatalog,
  startTestStage,
} from '@adfunnel/testing';
import { AuctionModule } from './auction.module.js';
import { AuctionService } from './auction.service.js';
import { WinnerAdmissionService } from './budget/winner-admission.service.js';
import { AuctionConfigSchema } from './config.js';

const SPEC: MarketplaceSpec = { seed: 5, advertisers: 4, campaignsPerAdvertiser: 1, ads: 40, users: 4 };

describe(`${AuctionModule.name} given a request past its deadline`, () => {
  let catalog: SeededCatalog;
  let stage: TestStage;

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    stage = await startTestStage({
      name: 'auction_deadline',
      queueGroup: QueueGroups.auction,
      module: (env) =>
        AuctionModule.forRoot(parseConfig(AuctionConfigSchema, { ...env, SQLITE_PATH: catalog.sqlitePath })),
    });
  });

  afterAll(async () => {
    const namespace = stage?.namespace;
    await stage?.close();
    await catalog?.remove();
    if (namespace !== undefined) await deleteRedisKeys(namespace);
  });

  it('answers deadline_exceeded on receipt: no auction runs and no budget is reserved', async () => {
    const run = jest.spyOn(stage.app.get(AuctionService), 'run');
    const admit = jest.spyOn(stage.app.get(WinnerAdmissionService), 'admit');
    const request: AuctionRequest = {
      requestId: `late-${randomUUID()}`,
      deadlineAt: Date.now() - 1,
      surface: 'home_feed',
      device: 'mobile',
      slots: 3,
      adIds: [1, 2, 3],
    };

    const err = await stage.bus.call(Rpc.auctionRun, request).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'timeout', reason: DEADLINE_EXCEEDED });
    expect((err as Error).message).toContain(`request ${request.requestId} reached auction`);
    expect(run).not.toHaveBeenCalled();
    expect(admit).not.toHaveBeenCalled();
    const health = (await (await fetch(`${stage.url}/health`)).json()) as { info: Record<string, unknown> };
    expect(health.info['expiredRequests']).toMatchObject({
      total: 1,
      byPattern: { [Rpc.auctionRun.pattern]: 1 },
    });
  });
});
