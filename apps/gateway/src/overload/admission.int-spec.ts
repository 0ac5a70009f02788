import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CandidatesResponse, QueueGroups, Rpc } from '@adfunnel/contracts';
import { startService } from '@adfunnel/platform';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import {
  type SeededCatalog,
  type TestStage,
  TEST_NATS_URL,
  TEST_REDIS_URL,
  deleteRedisKeys,
  metricValue,
  seededSqliteCatalog,
  startTestStage,
} from '@adfunnel/testing';
import { Controller, Logger, Module } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { parseGatewayConfig } from '../config.js';
import { gatewayServiceOptions } from '../gateway-service.js';

const SPEC: MarketplaceSpec = { seed: 3, advertisers: 3, campaignsPerAdvertiser: 1, ads: 30, users: 3 };
const MAX_IN_FLIGHT = 2;

/**
 * Retrieval that holds every request until the test opens the gate, so the requests the gateway
 * admitted stay in flight for as long as the test needs, with no timing involved.
 */
class Gate {
  private opened = false;
  private readonly waiting: (() => void)[] = [];
  private readonly arrivals: { count: number; resolve: () => void }[] = [];
  received = 0;

  arrive(): Promise<void> {
    this.received++;
    for (const arrival of this.arrivals.filter((a) => this.received >= a.count)) arrival.resolve();
    return this.opened ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Resolves once `count` requests have reached retrieval. */
  reached(count: number): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    return new Promise((resolve) => this.arrivals.push({ count, resolve }));
  }

  open(): void {
    this.opened = true;
    for (const release of this.waiting.splice(0)) release();
  }
}
const gate = new Gate();

@Controller()
class HeldRetrievalController {
  @MessagePattern(Rpc.retrievalCandidates.pattern)
  async candidates(): Promise<CandidatesResponse> {
    await gate.arrive();
    // No candidates: the gateway skips ranking and the auction and answers 200 without ads.
    return { adIds: [], scores: [], sources: [], indexVersion: 'held', eligible: 0 };
  }
}

@Module({ controllers: [HeldRetrievalController] })
class HeldRetrievalModule {}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

describe('the gateway under more ad requests than GATEWAY_MAX_IN_FLIGHT', () => {
  Logger.overrideLogger(['error']);
  let catalog: SeededCatalog;
  let retrieval: TestStage;
  let gateway: NestFastifyApplication;
  let url: string;

  const requestAds = async (userId: string): Promise<Answer> => {
    const res = await fetch(`${url}/v1/ads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, surface: 'home_feed', country: 'US', device: 'mobile', slots: 2 }),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as Record<string, unknown>,
    };
  };
  const admission = async (): Promise<{ status: number; admission: Record<string, unknown> }> => {
    const res = await fetch(`${url}/health`);
    const health = (await res.json()) as { info?: Record<string, Record<string, unknown>> };
    return { status: res.status, admission: health.info?.['admission'] ?? {} };
  };

  const scrape = async (): Promise<{ status: number; text: string }> => {
    const res = await fetch(`${url}/metrics`);
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    catalog = await seededSqliteCatalog(SPEC);
    retrieval = await startTestStage({
      name: 'held_retrieval',
      queueGroup: QueueGroups.retrieval,
      module: () => HeldRetrievalModule,
    });
    const namespace = retrieval.namespace;
    const config = parseGatewayConfig({
      TRACKING_SECRET: 'admission-int-spec-secret-0123456789',
      NATS_URL: TEST_NATS_URL,
      REDIS_URL: TEST_REDIS_URL,
      SQLITE_PATH: catalog.sqlitePath,
      CATALOG_REFRESH_MS: '0',
      BUS_NAMESPACE: namespace,
      LOGGING_QUEUE_PREFIX: namespace,
      USER_ACTIVITY_KEY_PREFIX: namespace,
      LOG_LEVEL: 'error',
      GATEWAY_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      // The fixed limit alone: what is shed must not depend on how fast this machine is.
      GATEWAY_TARGET_LATENCY_MS: '0',
      GATEWAY_MAX_EVENT_LOOP_DELAY_MS: '0',
      // The held requests wait for the gate, not for a deadline.
      GATEWAY_DEADLINE_MS: '60000',
      RETRIEVAL_TIMEOUT_MS: '60000',
      SERVED_RECORD_TIMEOUT_MS: '10000',
      USER_ACTIVITY_REDIS_TIMEOUT_MS: '10000',
    });
    gateway = await startService({ ...gatewayServiceOptions(config, { docs: false }), port: 0 });
    url = await gateway.getUrl();
  });

  afterAll(async () => {
    gate.open();
    await gateway?.close();
    await retrieval?.close();
    await catalog?.remove();
    if (retrieval !== undefined) await deleteRedisKeys(retrieval.namespace);
  });

  it('sheds the requests beyond the limit with 503 and Retry-After, and serves the admitted ones', async () => {
    const admitted = Array.from({ length: MAX_IN_FLIGHT }, (_, i) => requestAds(`held-${i}`));
    await gate.reached(MAX_IN_FLIGHT);

    const shed = await Promise.all(Array.from({ length: 5 }, (_, i) => requestAds(`shed-${i}`)));

    for (const answer of shed) {
      expect(answer.status).toBe(503);
      expect(['1', '2']).toContain(answer.retryAfter);
      expect(answer.body).toEqual({
        code: 'unavailable',
        reason: 'overloaded_in_flight',
        message: `the gateway is serving its limit of ${MAX_IN_FLIGHT} ad requests at once (GATEWAY_MAX_IN_FLIGHT); retry in ${answer.retryAfter} s`,
        requestId: expect.any(String),
      });
    }
    // None of them reached retrieval.
    expect(gate.received).toBe(MAX_IN_FLIGHT);
    // Health checks are never shed, and report the shedding.
    await expect(admission()).resolves.toEqual({
      status: 200,
      admission: expect.objectContaining({
        status: 'up',
        inFlight: MAX_IN_FLIGHT,
        limit: MAX_IN_FLIGHT,
        admitted: MAX_IN_FLIGHT,
        shed: { total: 5, in_flight: 5, event_loop_delay: 0 },
      }),
    });

    // Nor are scrapes; they count the shed requests by reason.
    const shedding = await scrape();
    expect(shedding.status).toBe(200);
    const shedTotal = 'adfunnel_gateway_admission_shed_total';
    expect(metricValue(shedding.text, shedTotal, { reason: 'overloaded_in_flight' })).toBe(5);
    expect(metricValue(shedding.text, shedTotal, { reason: 'overloaded_event_loop_delay' })).toBe(0);
    expect(metricValue(shedding.text, 'adfunnel_gateway_in_flight_requests')).toBe(MAX_IN_FLIGHT);
    expect(metricValue(shedding.text, 'adfunnel_gateway_in_flight_limit')).toBe(MAX_IN_FLIGHT);

    gate.open();
    const served = await Promise.all(admitted);

    for (const answer of served) {
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ ads: [], stages: { retrieval: 'ok' } });
    }
    await expect(requestAds('after')).resolves.toMatchObject({ status: 200 });
    await expect(admission()).resolves.toMatchObject({ admission: { inFlight: 0, admitted: 3 } });
    const { text } = await scrape();
    const answers = { surface: 'home_feed', outcome: 'no_ads' };
    expect(metricValue(text, 'adfunnel_gateway_ad_answers_total', answers)).toBe(3);
    expect(
      metricValue(text, 'adfunnel_gateway_stage_outcomes_total', { stage: 'retrieval', outcome: 'ok' }),
    ).toBe(3);
    expect(
      metricValue(text, 'adfunnel_gateway_stage_outcomes_total', { stage: 'ranking', outcome: 'skipped' }),
    ).toBe(3);
    expect(metricValue(text, 'adfunnel_gateway_degraded_answers_total')).toBe(0);
    expect(metricValue(text, 'adfunnel_http_requests_total', { route: '/v1/ads', status_code: '503' })).toBe(
      5,
    );
    expect(
      metricValue(text, 'adfunnel_bus_calls_total', {
        pattern: Rpc.retrievalCandidates.pattern,
        outcome: 'ok',
      }),
    ).toBe(3);
  });
});
