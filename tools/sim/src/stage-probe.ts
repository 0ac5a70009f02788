import {
  type CandidatesRequest,
  type CandidatesResponse,
  Rpc,
  type ScoreRequest,
  type ScoreResponse,
} from '@adfunnel/contracts';
import { BusClient, busSubject, redactUrlCredentials } from '@adfunnel/platform';

/** The stages the oracle asks directly. */
export type OracleStage = 'retrieval' | 'ranking';

/**
 * Direct calls to the funnel's stages for the oracle: the same bus messages the gateway sends, so
 * the driver sees the candidates and scores behind a request it made over HTTP.
 */
export interface StageProbe {
  candidates(request: CandidatesRequest): Promise<CandidatesResponse>;
  score(request: ScoreRequest): Promise<ScoreResponse>;
  /** Where the stage is asked, for a message that says why it did not answer. */
  route(stage: OracleStage): string;
  close(): Promise<void>;
}

/** StageProbe over NATS with the platform's BusClient, used outside Nest (no module, same client). */
export class NatsStageProbe implements StageProbe {
  private constructor(
    private readonly bus: BusClient,
    private readonly natsUrl: string,
    private readonly namespace: string,
  ) {}

  static async connect(natsUrl: string, timeoutMs: number, namespace = ''): Promise<NatsStageProbe> {
    const bus = new BusClient({ natsUrl, timeoutMs, name: 'adfunnel-sim', namespace });
    await bus.onModuleInit();
    return new NatsStageProbe(bus, natsUrl, namespace);
  }

  candidates(request: CandidatesRequest): Promise<CandidatesResponse> {
    return this.bus.call(Rpc.retrievalCandidates, request);
  }

  score(request: ScoreRequest): Promise<ScoreResponse> {
    return this.bus.call(Rpc.rankingScore, request);
  }

  route(stage: OracleStage): string {
    const pattern = stage === 'retrieval' ? Rpc.retrievalCandidates.pattern : Rpc.rankingScore.pattern;
    const namespace = this.namespace === '' ? 'no BUS_NAMESPACE' : `BUS_NAMESPACE ${this.namespace}`;
    return `subject ${busSubject(pattern, this.namespace)} on ${redactUrlCredentials(this.natsUrl)} (${namespace})`;
  }

  async close(): Promise<void> {
    await this.bus.onApplicationShutdown();
  }
}
