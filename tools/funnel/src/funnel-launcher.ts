import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';

/** The five services of the ad funnel, in start order: the gateway comes last, once its stages can answer. */
export const FUNNEL_APPS = ['logging', 'retrieval', 'ranking', 'auction', 'gateway'] as const;
/**
 * Every service the launcher runs, in start order: the funnel's five and the advertiser API (the
 * catalog's write side, off the serving and event paths), which `npm start` runs and tests of the
 * funnel start only when they ask for it (`apps`, or co-located with an app they start).
 */
export const SERVICE_APPS = ['logging', 'advertiser', 'retrieval', 'ranking', 'auction', 'gateway'] as const;
export type FunnelApp = (typeof SERVICE_APPS)[number];

export const DEFAULT_PORTS: Record<FunnelApp, number> = {
  gateway: 3100,
  retrieval: 3101,
  ranking: 3102,
  auction: 3103,
  logging: 3104,
  advertiser: 3105,
};

export const PORT_VARIABLE: Record<FunnelApp, string> = {
  gateway: 'GATEWAY_PORT',
  retrieval: 'RETRIEVAL_PORT',
  ranking: 'RANKING_PORT',
  auction: 'AUCTION_PORT',
  logging: 'LOGGING_PORT',
  advertiser: 'ADVERTISER_PORT',
};

/** Where an app's service options are built (`serviceFromEnv`), for a process that hosts several. */
export const SERVICE_MODULE = (app: FunnelApp): string => join('apps', app, 'dist', `${app}-service.js`);

/** The entry point of a process hosting several apps (tools/funnel/src/colocated-main.ts). */
const COLOCATED_MAIN = join('tools', 'funnel', 'dist', 'colocated-main.js');

/**
 * Parses `--colocate` / FUNNEL_COLOCATE: groups of apps that share one process, `+` within a group,
 * `,` between groups (`gateway+retrieval+ranking+auction,logging+advertiser`, or `all`: every
 * service in one); apps in no group get a process each. Throws naming what is wrong.
 */
export function parseColocation(spec: string): FunnelApp[][] {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  if (trimmed === 'all') return [[...SERVICE_APPS]];
  const seen = new Set<string>();
  return trimmed.split(',').map((group) => {
    const apps = group.split('+').map((name) => name.trim());
    for (const name of apps) {
      if (!(SERVICE_APPS as readonly string[]).includes(name)) {
        throw new Error(
          `colocate: unknown service "${name}" in "${spec}"; expected ${SERVICE_APPS.join(', ')} joined by + (groups by ,), or all`,
        );
      }
      if (seen.has(name)) throw new Error(`colocate: ${name} appears twice in "${spec}"`);
      seen.add(name);
    }
    return apps as FunnelApp[];
  });
}

export interface FunnelLauncherOptions {
  /** Repository root: apps are started as `node apps/<name>/dist/main.js` from here. */
  root: string;
  /** Environment for every app (ports default to DEFAULT_PORTS unless set here). */
  env: Record<string, string>;
  /** The apps start() starts; default the funnel's five (FUNNEL_APPS). */
  apps?: readonly FunnelApp[];
  onLine?: (app: FunnelApp, line: string) => void;
  readyTimeoutMs?: number;
  /**
   * Start an app again when it exits on its own (a crash, or an operator's SIGTERM to restart one
   * service), after this many ms; undefined: leave it stopped. Apps stopped through the launcher
   * stay stopped.
   */
  restartAfterMs?: number;
  /** Told about an app that exited on its own (before any restart). */
  onExit?: (app: FunnelApp, code: number | null, signal: string | null) => void;
  /**
   * Groups of apps that share one process (stage calls inside it skip NATS); the others run one
   * process each. Starting, stopping or restarting an app of a group does it to the whole group.
   */
  colocate?: readonly (readonly FunnelApp[])[];
}

interface Running {
  /** The apps the process hosts, joined by +. */
  label: string;
  child: ChildProcess;
  tail: string[];
  exited: Promise<number | null>;
}

/**
 * Starts the funnel's apps as separate processes, waits until each answers GET /health, and stops
 * them (SIGTERM, then SIGKILL after a grace period). Used by `npm start` and by integration tests.
 */
export class FunnelLauncher {
  private readonly running = new Map<FunnelApp, Running>();
  /** Apps started and not since stopped through the launcher: only these are restarted. */
  private readonly wanted = new Set<FunnelApp>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: FunnelLauncherOptions) {}

  port(app: FunnelApp): number {
    const configured = this.options.env[PORT_VARIABLE[app]];
    return configured === undefined ? DEFAULT_PORTS[app] : Number(configured);
  }

  url(app: FunnelApp): string {
    return `http://127.0.0.1:${this.port(app)}`;
  }

  /**
   * What a process that calls these apps' stages itself (the simulator's oracle) needs from their
   * environment to reach them and no others: the same NATS and the same bus namespace.
   */
  busClientEnv(): Record<string, string> {
    const { NATS_URL, BUS_NAMESPACE } = this.options.env;
    return { ...(NATS_URL === undefined ? {} : { NATS_URL }), BUS_NAMESPACE: BUS_NAMESPACE ?? '' };
  }

  /**
   * Where the funnel keeps its users' activity (Redis, key prefix, half-life): what a process that
   * builds a user's context as the gateway does (the simulator's oracle probe) must read, or it reads
   * another funnel's users, or none.
   */
  activityEnv(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of ['REDIS_URL', 'USER_ACTIVITY_KEY_PREFIX', 'USER_ACTIVITY_HALF_LIFE_MS'] as const) {
      const value = this.options.env[name];
      if (value !== undefined) out[name] = value;
    }
    return out;
  }

  /** What a process that reads the operators' endpoints (the simulator's calibration report) needs. */
  operatorEnv(): Record<string, string> {
    const { ADMIN_TOKEN } = this.options.env;
    return ADMIN_TOKEN === undefined ? {} : { ADMIN_TOKEN };
  }

  async start(): Promise<void> {
    // A co-located app came up with the first app of its group.
    for (const app of this.options.apps ?? FUNNEL_APPS) if (!this.running.has(app)) await this.startApp(app);
  }

  /** The apps that share a process with this one (itself included), in start order. */
  processOf(app: FunnelApp): readonly FunnelApp[] {
    const group = this.options.colocate?.find((apps) => apps.includes(app));
    return group === undefined ? [app] : SERVICE_APPS.filter((name) => group.includes(name));
  }

  /** Starts the app's process (with every app co-located with it); resolves once each is healthy. */
  async startApp(app: FunnelApp): Promise<void> {
    const group = this.processOf(app);
    const label = group.join('+');
    for (const member of group) {
      if (this.running.has(member)) throw new Error(`${member} is already running`);
    }
    for (const member of group) this.wanted.add(member);
    for (const member of group) {
      // Otherwise another funnel's service on that port would answer the health check for ours.
      if (await portAnswers(this.port(member))) {
        throw new Error(
          `${member}: port ${this.port(member)} is already in use (another funnel or test?); set ${PORT_VARIABLE[member]} to a free port`,
        );
      }
    }
    const env: Record<string, string> = { ...pathEnv(), ...this.options.env };
    for (const member of group) env[PORT_VARIABLE[member]] = String(this.port(member));
    const entry =
      group.length === 1
        ? [join(this.options.root, 'apps', app, 'dist', 'main.js')]
        : [join(this.options.root, COLOCATED_MAIN), ...group];
    const child = spawn(process.execPath, entry, {
      cwd: this.options.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        this.options.onLine?.(app, line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const running: Running = { child, tail, exited, label };
    for (const member of group) this.running.set(member, running);
    try {
      for (const member of group) await this.waitHealthy(member);
    } catch (err) {
      // One co-located app not ready leaves the process half-started: drop it whole.
      if (group.length > 1) await this.abandon(app);
      throw err;
    }
    void exited.then((code) => this.exitedOnItsOwn(group, running, code));
  }

  /** An app's process that stopped without the launcher asking (still registered as running). */
  private exitedOnItsOwn(group: readonly FunnelApp[], entry: Running, code: number | null): void {
    if (group.some((app) => this.running.get(app) !== entry)) return;
    for (const app of group) {
      this.running.delete(app);
      this.options.onExit?.(app, code, entry.child.signalCode);
    }
    if (this.options.restartAfterMs !== undefined) this.restartLater(group[0], this.options.restartAfterMs);
  }

  /** Retries with a doubling delay (at most 30 s) until the app is healthy again or stopAll runs. */
  private restartLater(app: FunnelApp, delayMs: number): void {
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.running.has(app) || !this.wanted.has(app)) return;
      this.startApp(app).catch(async (err: unknown) => {
        if (!this.wanted.has(app)) return;
        // Not healthy in time but still alive: a process of its own would block every later attempt.
        await this.abandon(app);
        this.options.onLine?.(app, `restart failed, trying again: ${(err as Error).message.split('\n')[0]}`);
        this.restartLater(app, Math.min(delayMs * 2, 30_000));
      });
    }, delayMs);
    this.restartTimers.add(timer);
  }

  /** Drops an app's process (SIGKILL) without changing whether the launcher wants it running. */
  private async abandon(app: FunnelApp): Promise<void> {
    const running = this.running.get(app);
    if (!running) return;
    for (const member of this.processOf(app)) this.running.delete(member);
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /** Graceful stop: SIGTERM, then SIGKILL if the app has not exited within graceMs. */
  async stop(app: FunnelApp, graceMs = 10_000): Promise<void> {
    const group = this.processOf(app);
    for (const member of group) this.wanted.delete(member);
    const running = this.running.get(app);
    if (!running) return;
    for (const member of group) this.running.delete(member);
    if (running.child.exitCode !== null || running.child.signalCode !== null) return;
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), graceMs);
    await running.exited;
    clearTimeout(timer);
  }

  /** Abrupt death, as in a crash: no graceful shutdown. */
  async kill(app: FunnelApp): Promise<void> {
    for (const member of this.processOf(app)) this.wanted.delete(member);
    await this.abandon(app);
  }

  /**
   * Stops one app, gracefully (SIGTERM) or as in a crash (SIGKILL), and starts it again on the same
   * port; resolves once it answers GET /health. The other apps keep running, except those
   * co-located with it, which share its process.
   */
  async restart(app: FunnelApp, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (signal === 'SIGKILL') await this.kill(app);
    else await this.stop(app);
    await this.startApp(app);
  }

  async stopAll(): Promise<void> {
    this.wanted.clear();
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    // One stop per process: the first app of each co-located group stands for the group.
    const apps = [...this.running.keys()].reverse().filter((app) => this.processOf(app)[0] === app);
    await Promise.all(apps.map((app) => this.stop(app)));
  }

  pid(app: FunnelApp): number | undefined {
    return this.running.get(app)?.child.pid;
  }

  isRunning(app: FunnelApp): boolean {
    return this.running.has(app);
  }

  private async waitHealthy(app: FunnelApp): Promise<void> {
    const running = this.running.get(app)!;
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 60_000);
    let lastProblem = 'no answer yet';
    let exitCode: number | null | undefined;
    void running.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        for (const member of this.processOf(app)) this.running.delete(member);
        throw new Error(
          `${running.label} exited with code ${exitCode} while starting:\n${running.tail.join('\n')}`,
        );
      }
      try {
        const res = await fetch(`${this.url(app)}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
        lastProblem = `GET /health answered ${res.status}: ${(await res.text()).slice(0, 300)}`;
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `${app} was not healthy within the timeout (${lastProblem}):\n${running.tail.join('\n')}`,
    );
  }
}

function pathEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];
  const env: Record<string, string> = {};
  for (const key of keep) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
