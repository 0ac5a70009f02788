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
});
