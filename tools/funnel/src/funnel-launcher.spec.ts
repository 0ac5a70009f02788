import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { FunnelLauncher, parseColocation } from './funnel-launcher.js';
import { isolatedFunnelEnv } from './isolated-funnel-env.js';

describe(FunnelLauncher.name, () => {
  describe('busClientEnv', () => {
    it("gives a bus client the apps' NATS and bus namespace", () => {
      const sut = new FunnelLauncher({
        root: '/repo',
        env: {
          ...isolatedFunnelEnv({ runId: 'run_1', basePort: 4300, deadlineMs: 2000, stageTimeoutMs: 1000 }),
          NATS_URL: 'nats://127.0.0.1:4322',
        },
      });
      expect(sut.busClientEnv()).toEqual({ NATS_URL: 'nats://127.0.0.1:4322', BUS_NAMESPACE: 'run_1' });
    });

    it('leaves NATS_URL to the default the apps also use, and the namespace empty, when they got none', () => {
      const sut = new FunnelLauncher({ root: '/repo', env: {} });
      expect(sut.busClientEnv()).toEqual({ BUS_NAMESPACE: '' });
    });
  });

  describe('startApp', () => {
    it('refuses to start an app on a port something else already answers on', async () => {
      const other = createServer();
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const address = other.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      try {
        const sut = new FunnelLauncher({ root: '/repo', env: { LOGGING_PORT: String(port) } });
        await expect(sut.startApp('logging')).rejects.toThrow(
          `logging: port ${port} is already in use (another funnel or test?); set LOGGING_PORT to a free port`,
        );
        expect(sut.isRunning('logging')).toBe(false);
      } finally {
        other.close();
      }
    });
  });

  describe('restart', () => {
    /** A stand-in for a service: answers GET /health on LOGGING_PORT, as the real ones do. */
    const HEALTHY_APP = `import { createServer } from 'node:http';
createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end()).listen(
  Number(process.env.LOGGING_PORT),
  '127.0.0.1',
);
process.on('SIGTERM', () => process.exit(0));
`;

    it('starts an app that exited on its own again, and leaves one the launcher stopped alone', async () => {
      const root = await mkdtemp(join(tmpdir(), 'funnel-launcher-'));
      await mkdir(join(root, 'apps', 'logging', 'dist'), { recursive: true });
      await writeFile(join(root, 'apps', 'logging', 'dist', 'main.js'), HEALTHY_APP);
      const exits: string[] = [];
      const sut = new FunnelLauncher({
        root,
        env: { LOGGING_PORT: String(await freePort()) },
        apps: ['logging'],
        restartAfterMs: 50,
        onExit: (app, code, signal) => exits.push(`${app} ${signal ?? code}`),
      });
      try {
        await sut.start();
        const first = sut.pid('logging')!;

        process.kill(first, 'SIGTERM');
        const until = Date.now() + 20_000;
        let restarted = false;
        while (!restarted && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const pid = sut.pid('logging');
          restarted =
            pid !== undefined &&
            pid !== first &&
            (await fetch(`${sut.url('logging')}/health`).catch(() => undefined))?.status === 200;
        }
        expect(restarted).toBe(true);
        expect(exits).toEqual(['logging 0']);

        await sut.stop('logging');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(sut.isRunning('logging')).toBe(false);
        expect(exits).toEqual(['logging 0']);
      } finally {
        await sut.stopAll();
        await rm(root, { recursive: true, force: true });
      }
    });

    it.each(['SIGKILL', 'SIGTERM'] as const)(
      'stops one app with %s and answers once a new process of it is healthy on the same port',
      async (signal) => {
        const root = await mkdtemp(join(tmpdir(), 'funnel-launcher-'));
        await mkdir(join(root, 'apps', 'logging', 'dist'), { recursive: true });
        await writeFile(join(root, 'apps', 'logging', 'dist', 'main.js'), HEALTHY_APP);
        const sut = new FunnelLauncher({
          root,
          env: { LOGGING_PORT: String(await freePort()) },
          apps: ['logging'],
        });
        try {
          await sut.start();
          const before = sut.pid('logging');

          await sut.restart('logging', signal);

          expect(sut.pid('logging')).not.toBe(before);
          expect((await fetch(`${sut.url('logging')}/health`)).status).toBe(200);
        } finally {
          await sut.stopAll();
          await rm(root, { recursive: true, force: true });
        }
      },
    );
  });

  describe('parseColocation', () => {
    it('reads groups joined by + and separated by commas; all and none', () => {
      expect(parseColocation('gateway+retrieval+ranking+auction')).toEqual([
        ['gateway', 'retrieval', 'ranking', 'auction'],
      ]);
      expect(parseColocation(' ranking+auction , gateway+retrieval ')).toEqual([
        ['ranking', 'auction'],
        ['gateway', 'retrieval'],
      ]);
      expect(parseColocation('all')).toEqual([
        ['logging', 'advertiser', 'retrieval', 'ranking', 'auction', 'gateway'],
      ]);
      expect(parseColocation('gateway+retrieval+ranking+auction,logging+advertiser')).toEqual([
        ['gateway', 'retrieval', 'ranking', 'auction'],
        ['logging', 'advertiser'],
      ]);
      expect(parseColocation('')).toEqual([]);
      expect(parseColocation('none')).toEqual([]);
    });

    it('names an unknown service and one listed twice', () => {
      expect(() => parseColocation('gateway+ranker')).toThrow(
        'colocate: unknown service "ranker" in "gateway+ranker"; expected logging, advertiser, retrieval, ranking, auction, gateway joined by + (groups by ,), or all',
      );
      expect(() => parseColocation('gateway+ranking,ranking+auction')).toThrow(
        'colocate: ranking appears twice in "gateway+ranking,ranking+auction"',
      );
    });
  });

  describe('co-located apps', () => {
    /** A stand-in for colocated-main.js: answers GET /health on the port of every app it is given. */
    const COLOCATED_APP = `import { createServer } from 'node:http';
const ports = { ranking: 'RANKING_PORT', auction: 'AUCTION_PORT', logging: 'LOGGING_PORT', advertiser: 'ADVERTISER_PORT' };
for (const app of process.argv.slice(2)) {
  createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end()).listen(
    Number(process.env[ports[app]]),
    '127.0.0.1',
  );
}
process.on('SIGTERM', () => process.exit(0));
`;

    it('starts a group as one process, and stops or restarts it whole through any of its apps', async () => {
      const root = await mkdtemp(join(tmpdir(), 'funnel-launcher-'));
      await mkdir(join(root, 'tools', 'funnel', 'dist'), { recursive: true });
      await writeFile(join(root, 'tools', 'funnel', 'dist', 'colocated-main.js'), COLOCATED_APP);
      const sut = new FunnelLauncher({
        root,
        env: { RANKING_PORT: String(await freePort()), AUCTION_PORT: String(await freePort()) },
        apps: ['ranking', 'auction'],
        colocate: [['auction', 'ranking']],
      });
      try {
        await sut.start();
        const pid = sut.pid('ranking');
        expect(pid).toEqual(expect.any(Number));
        expect(sut.pid('auction')).toBe(pid);
        expect(sut.processOf('auction')).toEqual(['ranking', 'auction']);
        expect((await fetch(`${sut.url('auction')}/health`)).status).toBe(200);

        await sut.restart('auction');
        expect(sut.pid('ranking')).not.toBe(pid);
        expect(sut.pid('auction')).toBe(sut.pid('ranking'));
        expect((await fetch(`${sut.url('ranking')}/health`)).status).toBe(200);

        await sut.stop('ranking');
        expect(sut.isRunning('ranking')).toBe(false);
        expect(sut.isRunning('auction')).toBe(false);
        await expect(fetch(`${sut.url('auction')}/health`)).rejects.toThrow();
      } finally {
        await sut.stopAll();
        await rm(root, { recursive: true, force: true });
      }
    });

    it('starts the advertiser API with logging when they share a process, as npm start does', async () => {
      const root = await mkdtemp(join(tmpdir(), 'funnel-launcher-'));
      await mkdir(join(root, 'tools', 'funnel', 'dist'), { recursive: true });
      await writeFile(join(root, 'tools', 'funnel', 'dist', 'colocated-main.js'), COLOCATED_APP);
      const sut = new FunnelLauncher({
        root,
        env: { LOGGING_PORT: String(await freePort()), ADVERTISER_PORT: String(await freePort()) },
        apps: ['logging'],
        colocate: parseColocation('gateway+retrieval+ranking+auction,logging+advertiser'),
      });
      try {
        await sut.start();
        expect(sut.processOf('advertiser')).toEqual(['logging', 'advertiser']);
        expect(sut.pid('advertiser')).toBe(sut.pid('logging'));
        expect((await fetch(`${sut.url('advertiser')}/health`)).status).toBe(200);
      } finally {
        await sut.stopAll();
        await rm(root, { recursive: true, force: true });
      }
    });
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}
