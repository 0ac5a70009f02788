import { Redis } from 'ioredis';

export interface BudgetRedisOptions {
  /** Shown by CLIENT LIST, e.g. `adfunnel-auction-budget`. */
  readonly name: string;
  /** A command that has not answered by then fails instead of holding up a request. */
  readonly commandTimeoutMs: number;
  /** Connection errors (ioredis keeps reconnecting in the background). */
  readonly onError?: (message: string) => void;
}

/**
 * The Redis connection of the serving path. While Redis is away commands fail at once instead of
 * queueing until it is back: a request must not wait on a reconnect. `onApplicationShutdown` lets a
 * Nest app close it when the class is a provider.
 */
export class BudgetRedis {
  readonly client: Redis;
  private lastError: string | undefined;

  constructor(url: string, options: BudgetRedisOptions) {
    this.client = new Redis(url, {
      connectionName: options.name,
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    // Without a listener ioredis reports every failed reconnect as an unhandled error event.
    this.client.on('error', (error: Error) => {
      if (error.message === this.lastError) return;
      this.lastError = error.message;
      options.onError?.(error.message);
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
    });
  }

  /** The latest connection error, until the connection is ready again. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** A command's failure in words: while disconnected, why the connection is down rather than ioredis's "Stream isn't writeable". */
  explain(error: unknown): string {
    if (this.client.status !== 'ready' && this.lastError !== undefined)
      return `Redis unreachable: ${this.lastError}`;
    return error instanceof Error ? error.message : String(error);
  }

  /** Resolves true once connected, false if that takes longer than `timeoutMs` (it keeps trying). */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.client.once('ready', onReady);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
