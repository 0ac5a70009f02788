import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { FunnelLauncher } from './funnel-launcher.js';
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
});
