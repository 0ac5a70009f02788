import net from 'node:net';
import { TEST_REDIS_URL } from './test-infrastructure.js';

/** Which way the bytes a proxy holds back travel: from its client to the server, back, or both. */
export type DelayedDirection = 'to-server' | 'to-client' | 'both';

export interface DelayingProxyOptions {
  /** How long each chunk of a delayed connection is held before it is passed on. */
  delayMs: number;
  /**
   * Which client connections are delayed: every one (the default: a loaded machine, where every
   * command answers late), only the first one (a client's one backed-up connection, while a second
   * connection it opens later passes straight through), or those a function of their order of arrival
   * (0 for the first) picks.
   */
  connections?: 'all' | 'first' | ((index: number) => boolean);
  /** Which way a delayed connection's bytes are held; 'to-server' (the commands) unless told. */
  direction?: DelayedDirection;
  /** Where the proxy forwards to: this machine's Redis (TEST_REDIS_URL, 127.0.0.1:6379) unless told. */
  targetHost?: string;
  targetPort?: number;
}

export interface DelayingProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number;
  /** A redis:// URL of the proxy, for a client that should see the delay. */
  readonly url: string;
  /** Destroys every open connection (held chunks are dropped) and stops listening. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on a free loopback port that forwards to a target (this machine's Redis by default)
 * and holds what the chosen connections send each way for `delayMs`, so a test can make a client's
 * commands or replies arrive late over a real connection. Chunks keep their order: each is held the
 * same time from its arrival.
 */
export async function delayingProxy(options: DelayingProxyOptions): Promise<DelayingProxy> {
  const { delayMs, connections = 'all', direction = 'to-server' } = options;
  const testRedis = new URL(TEST_REDIS_URL);
  const targetHost = options.targetHost ?? testRedis.hostname;
  const targetPort = options.targetPort ?? Number(testRedis.port || 6379);
  if (!Number.isFinite(delayMs) || delayMs < 0) {
    throw new RangeError(`delayingProxy: delayMs must be a finite number >= 0, got ${delayMs}`);
  }
  const delays =
    connections === 'all' ? () => true : connections === 'first' ? (i: number) => i === 0 : connections;
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const held = new Set<NodeJS.Timeout>();

  /** Passes `from`'s bytes on to `to`, each chunk `delayMs` late when `delayed`. */
  const forward = (from: net.Socket, to: net.Socket, delayed: boolean) => {
    if (!delayed) {
      from.pipe(to);
      return;
    }
    from.on('data', (chunk: Buffer) => {
      const timer = setTimeout(() => {
        held.delete(timer);
        if (!to.destroyed) to.write(chunk);
      }, delayMs);
      held.add(timer);
    });
  };

  const server = net.createServer((client) => {
    const delayed = delays(accepted++);
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      // A reset from either side only ends this pair (the close handlers below), not the test.
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    forward(client, upstream, delayed && direction !== 'to-client');
    forward(upstream, client, delayed && direction !== 'to-server');
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        held.forEach((timer) => clearTimeout(timer));
        held.clear();
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
