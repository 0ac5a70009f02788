import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';

/**
 * A private nats-server for one loop run. The funnel's queue groups are fixed names, so services of
 * another funnel on the same NATS would share this run's requests (and models): a server of its own
 * keeps the comparison clean.
 */
export class NatsServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(binary: string, port: number): Promise<NatsServerProcess> {
    const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const failed = once(child, 'error').then(([err]) => {
      throw new Error(`cannot start ${binary}: ${(err as Error).message}`);
    });
    const server = new NatsServerProcess(child, `nats://127.0.0.1:${port}`);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(`${binary} exited with code ${child.exitCode} (port ${port} taken?)`);
      if (await Promise.race([portOpen(port), failed])) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${binary} did not listen on 127.0.0.1:${port} within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
