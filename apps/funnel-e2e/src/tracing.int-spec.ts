import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type AdResponse, Rpc } from '@adfunnel/contracts';
import type { FunnelApp } from '@adfunnel/funnel';
import { eventually } from '@adfunnel/testing';
import { randomUUID } from 'node:crypto';
import { OtlpReceiver, OtlpSpanKind, type ReceivedSpan } from './support/otlp-receiver.js';
import { TestFunnel } from './support/test-funnel.js';

const STAGES = [
  ['retrieval', Rpc.retrievalCandidates.pattern],
  ['ranking', Rpc.rankingScore.pattern],
  ['auction', Rpc.auctionRun.pattern],
] as const;
const ALL_APPS: FunnelApp[] = ['gateway', 'retrieval', 'ranking', 'auction', 'logging'];
const AD_REQUEST = { userId: 'u00042', surface: 'home_feed', country: 'US', device: 'mobile', slots: 3 };

const MODES: [string, FunnelApp[][] | undefined][] = [
  ['each service in a process of its own', undefined],
  ['the serving stages co-located in one process', [['retrieval', 'ranking', 'auction', 'gateway']]],
];

/**
 * The real gateway, retrieval, ranking, auction and logging export their spans over OTLP/HTTP
 * (protobuf, batched) to a receiver in this test, as they would to a collector: one ad request is
 * one trace, a tree from the gateway's HTTP span through a client span per stage call to the stage's
 * own server span in its own service, across processes (trace context in the NATS headers) and
 * inside one (the local bus).
 */
describe.each(MODES)('traces over the real funnel, %s', (_mode, colocate) => {
  const receiver = new OtlpReceiver();
  let funnel: TestFunnel;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    funnel = new TestFunnel({
      basePort: 4400,
      runPrefix: 'adfh_trace',
      ...(colocate === undefined ? {} : { colocate }),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        TRACING_SAMPLE_RATIO: '1',
        // The batch span processor's export delay (default 5 s), read by the SDK itself.
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    try {
      await funnel.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- service output ---\n${funnel.output.join('\n')}`, {
        cause: err,
      });
    }
  }, 180_000);

  afterAll(async () => {
    await funnel?.stop();
    await receiver.stop();
  }, 60_000);

  /** The gateway's span of the ad request `requestId`, once its trace has arrived whole. */
  const rootOf = (spans: ReceivedSpan[], requestId: string) =>
    spans.find(
      (s) =>
        s.service === 'gateway' &&
        s.name === 'POST /v1/ads' &&
        s.attributes['adfunnel.request_id'] === requestId,
    );

  /** The eight spans of a served request: the HTTP span, the hand-off, a client and a server span per stage. */
  function wholeTrace(spans: ReceivedSpan[], requestId: string): ReceivedSpan[] | undefined {
    const root = rootOf(spans, requestId);
    if (root === undefined) return undefined;
    const trace = spans.filter((s) => s.traceId === root.traceId);
    const arrived = STAGES.every(([service, pattern]) =>
      trace.some((s) => s.service === service && s.name === pattern),
    );
    return arrived && trace.length >= 8 ? trace : undefined;
  }

  async function serve(
    requestId: string,
    headers: Record<string, string> = {},
  ): Promise<{ answer: AdResponse; spans: ReceivedSpan[] }> {
    const { status, body } = await funnel.requestAds(AD_REQUEST, { 'x-request-id': requestId, ...headers });
    expect(status).toBe(200);
    const answer = body as unknown as AdResponse;
    const spans = await eventually(
      `the whole trace of ${requestId}`,
      () => Promise.resolve(receiver.spans.slice()),
      (spans) => wholeTrace(spans, requestId) !== undefined,
      { timeoutMs: 15_000 },
    );
    return { answer, spans };
  }

  const named = (spans: ReceivedSpan[]) => spans.map((s) => `${s.service} ${s.name} ${s.kind}`).sort();

  it('makes one ad request one trace: a tree from the gateway’s HTTP span to each stage’s own service', async () => {
    receiver.clear();
    const requestId = `trace-${randomUUID()}`;
    const { answer, spans } = await serve(requestId);
    expect(answer.stages).toEqual({ retrieval: 'ok', ranking: 'ok', auction: 'ok' });

    // Everything exported since the request was sent is of its trace: one trace id.
    const root = rootOf(spans, requestId)!;
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root.traceId]));
    expect(receiver.rejected).toEqual([]);
    expect(named(spans)).toEqual(
      [
        `gateway POST /v1/ads ${OtlpSpanKind.SERVER}`,
        `gateway served_record.write ${OtlpSpanKind.INTERNAL}`,
        ...STAGES.flatMap(([service, pattern]) => [
          `gateway ${pattern} ${OtlpSpanKind.CLIENT}`,
          `${service} ${pattern} ${OtlpSpanKind.SERVER}`,
        ]),
      ].sort(),
    );

    // A tree: one root, the gateway's server span, and every other span's parent among them.
    expect(root.kind).toBe(OtlpSpanKind.SERVER);
    expect(root.parentSpanId).toBeUndefined();
    expect(spans.filter((s) => s.parentSpanId === undefined)).toEqual([root]);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    expect(byId.size).toBe(spans.length);
    for (const span of spans) if (span !== root) expect(byId.has(span.parentSpanId!)).toBe(true);

    const write = spans.find((s) => s.name === 'served_record.write')!;
    expect(write.parentSpanId).toBe(root.spanId);
    for (const [service, pattern] of STAGES) {
      const client = spans.find((s) => s.service === 'gateway' && s.name === pattern)!;
      const server = spans.find((s) => s.service === service && s.name === pattern)!;
      expect({ pattern, parent: client.parentSpanId }).toEqual({ pattern, parent: root.spanId });
      // The stage's handler is the child of the gateway's call, whether it crossed NATS or not.
      expect({ pattern, parent: server.parentSpanId }).toEqual({ pattern, parent: client.spanId });
      expect(server.kind).toBe(OtlpSpanKind.SERVER);
    }
  });

  it('carries the request id, the surface, the stage outcomes and counts the README names, and no user id', async () => {
    receiver.clear();
    const requestId = `trace-${randomUUID()}`;
    const { answer, spans } = await serve(requestId);
    const root = rootOf(spans, requestId)!;

    expect(root.attributes).toMatchObject({
      'adfunnel.request_id': requestId,
      'http.request.method': 'POST',
      'http.route': '/v1/ads',
      'url.path': '/v1/ads',
      'http.response.status_code': 200,
      'adfunnel.surface': 'home_feed',
      'adfunnel.stage.retrieval': 'ok',
      'adfunnel.stage.ranking': 'ok',
      'adfunnel.stage.auction': 'ok',
      'adfunnel.ads_served': answer.ads.length,
      'adfunnel.auction.budget_dropped': expect.any(Number),
      'adfunnel.degraded': answer.degraded,
    });
    expect(root.attributes['adfunnel.candidates']).toBeGreaterThanOrEqual(answer.ads.length);
    expect(root.attributes['adfunnel.auction.winners']).toBeGreaterThanOrEqual(answer.ads.length);
    expect(answer.ads.length).toBeGreaterThan(0);
    for (const [service, pattern] of STAGES) {
      for (const span of spans.filter((s) => s.name === pattern)) {
        expect({ service: span.service, kind: span.kind, attributes: span.attributes }).toEqual({
          service: span.service,
          kind: span.kind,
          attributes: {
            'messaging.system': 'nats',
            'messaging.destination.name': `${funnel.runId}.${pattern}`,
            'rpc.method': pattern,
            'adfunnel.bus.outcome': 'ok',
          },
        });
      }
      expect(spans.filter((s) => s.name === pattern).map((s) => s.service)).toEqual(
        expect.arrayContaining(['gateway', service]),
      );
    }
    const values = spans.flatMap((s) => Object.values(s.attributes).flat());
    expect(values).not.toContain(AD_REQUEST.userId);
  });

  it('makes no span for /health and /metrics, on any service', async () => {
    receiver.clear();
    for (const app of ALL_APPS) {
      for (const path of ['/health', '/metrics']) {
        const res = await fetch(`${funnel.launcher.url(app)}${path}`);
        expect({ app, path, status: res.status }).toEqual({ app, path, status: 200 });
        await res.arrayBuffer();
      }
    }
    // Then spans each service does export (an ad request; logging: the impression it tracks):
    // a service's spans leave in the order they end, so the probes' would have come first.
    const requestId = `trace-${randomUUID()}`;
    const { answer } = await serve(requestId);
    expect(answer.ads.length).toBeGreaterThan(0);
    const impression = await fetch(answer.ads[0].tracking.impressionUrl);
    expect(impression.status).toBe(204);
    const isImpression = (s: ReceivedSpan) =>
      s.service === 'logging' && s.name === 'GET /v1/events/impression';
    const spans = await eventually(
      'the impression span',
      () => Promise.resolve(receiver.spans.slice()),
      (spans) => spans.some(isImpression),
      { timeoutMs: 15_000 },
    );

    const paths = spans.map((s) => s.attributes['url.path']).filter((p) => p !== undefined);
    expect(paths.sort()).toEqual(['/v1/ads', '/v1/events/impression']);
    const adTrace = rootOf(spans, requestId)!.traceId;
    const impressionSpan = spans.find(isImpression)!;
    // The impression comes later, from the user's device: a trace of its own.
    expect(impressionSpan.traceId).not.toBe(adTrace);
    expect(impressionSpan.parentSpanId).toBeUndefined();
    expect(spans.filter((s) => s.traceId !== adTrace)).toEqual([impressionSpan]);
  });

  it('gives each ad request a trace of its own', async () => {
    receiver.clear();
    const first = `trace-${randomUUID()}`;
    const second = `trace-${randomUUID()}`;
    await serve(first);
    const { spans } = await serve(second);

    const firstTrace = wholeTrace(spans, first)!;
    const secondTrace = wholeTrace(spans, second)!;
    expect(firstTrace[0].traceId).not.toBe(secondTrace[0].traceId);
    expect(firstTrace).toHaveLength(8);
    expect(secondTrace).toHaveLength(8);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);
  });

  it('continues the trace a client sends in traceparent', async () => {
    receiver.clear();
    const traceId = randomUUID().replaceAll('-', '');
    const requestId = `trace-${randomUUID()}`;
    const { spans } = await serve(requestId, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });

    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    expect(rootOf(spans, requestId)!.parentSpanId).toBe('00f067aa0ba902b7');
  });
});
