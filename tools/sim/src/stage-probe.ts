import {
  type CandidatesRequest,
  type CandidatesResponse,
  Rpc,
  type ScoreRequest,
  type ScoreResponse,
} from '@adfunnel/contracts';
import { BusClient } from '@adfunnel/platform';

/**
 * Direct calls to the funnel's stages for the oracle: the same bus messages the gateway sends, so
 * the driver sees the candidates and scores behind a request it made over HTTP.
 */
export interface StageProbe {
  candidates(request: CandidatesRequest): Promise<CandidatesResponse>;
  score(request: ScoreRequest): Promise<ScoreResponse>;
  close(): Promise<void>;
}

/** StageProbe over NATS with the platform's BusClient, used outside Nest (no module, same client). */
export class NatsStageProbe implements StageProbe {
  private constructor(private readonly bus: BusClient) {}

  static async connect(natsUrl: string, timeoutMs: number, namespace = ''): Promise<NatsStageProbe> {
    const bus = new BusClient({ natsUrl, timeoutMs, name: 'adfunnel-sim', namespace });
    await bus.onModuleInit();
    return new NatsStageProbe(bus);
  }

  candidates(request: CandidatesRequest): Promise<CandidatesResponse> {
    return this.bus.call(Rpc.retrievalCandidates, request);
  }

  score(request: ScoreRequest): Promise<ScoreResponse> {
    return this.bus.call(Rpc.rankingScore, request);
  }

  async close(): Promise<void> {
    await this.bus.onApplicationShutdown();
  }
}
