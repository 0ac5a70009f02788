import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@adfunnel/testing';
import { freePort } from './free-ports.js';

/**
 * A Redis of the test's own on a free loopback port, with the append-only file as production runs it
 * (docker/compose.yml: appendonly yes, appendfsync everysec), so a test can crash it and restart it
 * on the same data.
 */
export class AofRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<AofRedis> {
    const redis = new AofRedis(await freePort(), await mkdtemp(join(tmpdir(), 'adfunnel-aof-redis-')));
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
      ],
      { stdio: 'ignore' },
    );
    await eventually(
      'redis to answer',
      () => Promise.resolve(this.ping()),
      (ok) => ok,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  }

  /** SHUTDOWN: Redis writes the append-only file out and exits, as a restart or an upgrade does. */
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
