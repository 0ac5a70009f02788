import {
  type CandidatesRequest,
  type CandidatesResponse,
  Rpc,
  type ScoreRequest,
  type ScoreResponse,
  type UserContext,
} from '@adfunnel/contracts';
import { BusClient, busSubject, redactUrlCredentials } from '@adfunnel/platform';
import { type DeclaredUser, UserActivityStore, userContextOf } from '@adfunnel/user-activity';
import { Redis } from 'ioredis';

/** The stages the oracle asks directly. */
export type OracleStage = 'retrieval' | 'ranking';

/**
 * Direct calls to the funnel's stages for the oracle: the same bus messages the gateway sends, so
 * the driver sees the candidates and scores behind a request it made over HTTP.
 */
export interface StageProbe {
  candidates(request: CandidatesRequest): Promise<CandidatesResponse>;
  score(request: ScoreRequest): Promise<ScoreResponse>;
  /**
   * The user context the gateway builds for the user at this moment, from the activity logging
   * keeps (libs/user-activity); absent: probes ask about the user as a cold-start one.
   */
  userContext?(declared: DeclaredUser): Promise<UserContext>;
  /** Where the stage is asked, for a message that says why it did not answer. */
  route(stage: OracleStage): string;
  close(): Promise<void>;
}

/** Where the funnel keeps users' activity: the gateway's REDIS_URL, USER_ACTIVITY_* values. */
export interface ActivitySource {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly halfLifeMs: number;
}

/** StageProbe over NATS with the platform's BusClient, used outside Nest (no module, same client). */
export class NatsStageProbe implements StageProbe {
  private constructor(
    private readonly bus: BusClient,
    private readonly natsUrl: string,
    private readonly namespace: string,
    private readonly activity: { redis: Redis; store: UserActivityStore; halfLifeMs: number } | null,
  ) {}

  static async connect(
    natsUrl: string,
    timeoutMs: number,
    namespace = '',
    activity?: ActivitySource,
  ): Promise<NatsStageProbe> {
    const bus = new BusClient({ natsUrl, timeoutMs, name: 'adfunnel-sim', namespace });
    await bus.onModuleInit();
    if (activity === undefined) return new NatsStageProbe(bus, natsUrl, namespace, null);
    const redis = new Redis(activity.redisUrl, { commandTimeout: timeoutMs, connectionName: 'adfunnel-sim' });
    const store = new UserActivityStore(redis, { prefix: activity.prefix, halfLifeMs: activity.halfLifeMs });
    return new NatsStageProbe(bus, natsUrl, namespace, { redis, store, halfLifeMs: activity.halfLifeMs });
  }

  async userContext(declared: DeclaredUser): Promise<UserContext> {
    const a = this.activity;
    const activity = a === null ? null : await a.store.read(declared.userId);
    return userContextOf(declared, activity, Date.now(), a?.halfLifeMs);
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
    await this.activity?.redis.quit();
    await this.bus.onApplicationShutdown();
  }
}
