import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/**
 * The part of the OTLP trace protocol (opentelemetry/proto collector/trace/v1, trace/v1, common/v1,
 * resource/v1; same field numbers) that a test reads: spans with their ids, kind, attributes and
 * status, grouped by the resource (service) that sent them.
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

const ExportTraceServiceRequest = protobuf
  .parse(OTLP_TRACE_PROTO, { keepCase: true })
  .root.lookupType('otlp.ExportTraceServiceRequest');

/** OTLP's SpanKind (the API's plus one: 0 is unspecified). */
export const OtlpSpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

export interface ReceivedSpan {
  /** The `service.name` of the resource that exported it. */
  service: string;
  traceId: string;
  spanId: string;
  /** Undefined for a root span. */
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

interface DecodedKeyValue {
  key: string;
  value?: DecodedAnyValue;
}
interface DecodedAnyValue {
  string_value?: string;
  bool_value?: boolean;
  int_value?: string;
  double_value?: number;
  array_value?: { values?: DecodedAnyValue[] };
}
interface DecodedRequest {
  resource_spans?: {
    resource?: { attributes?: DecodedKeyValue[] };
    scope_spans?: {
      spans?: {
        trace_id: Buffer;
        span_id: Buffer;
        parent_span_id?: Buffer;
        name: string;
        kind?: number;
        attributes?: DecodedKeyValue[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function valueOf(value: DecodedAnyValue | undefined): AttributeValue {
  if (value === undefined) return null;
  if (value.string_value !== undefined) return value.string_value;
  if (value.bool_value !== undefined) return value.bool_value;
  if (value.int_value !== undefined) return Number(value.int_value);
  if (value.double_value !== undefined) return value.double_value;
  if (value.array_value !== undefined) return (value.array_value.values ?? []).map(valueOf);
  return null;
}

function attributesOf(keyValues: DecodedKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((keyValues ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

/** Decodes one OTLP/HTTP protobuf export request body into its spans. */
export function decodeTraceExport(body: Uint8Array): ReceivedSpan[] {
  const request = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), {
    longs: String,
    bytes: Buffer,
    arrays: true,
  }) as DecodedRequest;
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resource_spans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
    for (const scope of resourceSpans.scope_spans ?? []) {
      for (const span of scope.spans ?? []) {
        const parent = span.parent_span_id;
        spans.push({
          service,
          traceId: span.trace_id.toString('hex'),
          spanId: span.span_id.toString('hex'),
          parentSpanId: parent === undefined || parent.length === 0 ? undefined : parent.toString('hex'),
          name: span.name,
          kind: span.kind ?? 0,
          attributes: attributesOf(span.attributes),
          statusCode: span.status?.code ?? 0,
        });
      }
    }
  }
  return spans;
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

/**
 * A collector for tests: an OTLP/HTTP receiver on 127.0.0.1 that takes `POST /v1/traces` with a
 * protobuf body, as a collector would, and keeps the spans in arrival order.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Anything that was not a decodable trace export (a wrong path, content type or body). */
  readonly rejected: string[] = [];
  private server: Server | undefined;

  async start(port = 0): Promise<string> {
    const server = createServer((request, response) => {
      void (async () => {
        const body = await bodyOf(request);
        if (request.method !== 'POST' || request.url !== '/v1/traces') {
          this.rejected.push(`${request.method} ${request.url}`);
          response.writeHead(404).end();
          return;
        }
        if (request.headers['content-type'] !== 'application/x-protobuf') {
          this.rejected.push(`content-type ${request.headers['content-type']}`);
          response.writeHead(415).end();
          return;
        }
        try {
          this.spans.push(...decodeTraceExport(body));
        } catch (err) {
          this.rejected.push(`undecodable body: ${(err as Error).message}`);
          response.writeHead(400).end();
          return;
        }
        // An empty ExportTraceServiceResponse: everything accepted.
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      })();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Forgets what has arrived so far. */
  clear(): void {
    this.spans.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
