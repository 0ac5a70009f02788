import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';

/**
 * A redis-server of the test's own on a free loopback port, in a scratch directory and without RDB
 * snapshots, started with `args` (its persistence, a renamed command), so a test can reconfigure it,
 * crash it or restart it on the same data without touching this machine's Redis.
 */
export class ScratchRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly args: readonly string[],
  ) {}

  static async start(args: readonly string[] = []): Promise<ScratchRedis> {
    const redis = new ScratchRedis(
      await freePort(),
      await mkdtemp(join(tmpdir(), 'adfunnel-scratch-redis-')),
      args,
    );
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.args],
      { stdio: 'ignore' },
    );
    await eventually(
      'redis to answer',
      () => Promise.resolve(this.ping()),
      (ok) => ok,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  }

  /** SHUTDOWN: Redis writes its append-only file out and exits, as a restart or an upgrade does. */
  async restart(): Promise<void> {
    const exited = this.exited();
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown']);
    await exited;
    await this.start();
  }

  /** kill -9: no shutdown; what the append-only file holds is all that comes back on start(). */
  async crash(): Promise<void> {
    const exited = this.exited();
    this.child?.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.crash();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async exited(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await once(child, 'exit');
  }

  private ping(): boolean {
    return (
      spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG'
    );
  }
}
