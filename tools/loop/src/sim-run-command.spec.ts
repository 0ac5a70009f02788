import { describe, expect, it } from '@jest/globals';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { simRunCommand } from './sim-run-command.js';

const traffic = {
  requests: 600,
  concurrency: 8,
  seed: 1,
  users: 2000,
  dayRequests: 8000,
  slots: 3,
  oracleSample: 0.2,
  organicPerVisit: 2,
};
const spec = { seed: 42, advertisers: 60, campaignsPerAdvertiser: 3, ads: 3000, users: 2000 };

describe(simRunCommand.name, () => {
  it("runs the simulator on the funnel's NATS, bus namespace and user activity keys, so its oracle is answered about the funnel's users", () => {
    const env: Record<string, string> = {
      ...isolatedFunnelEnv({ runId: 'loop_x_1', basePort: 4300, deadlineMs: 2000, stageTimeoutMs: 1000 }),
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
    const launcher = new FunnelLauncher({ root: '/repo', env });

    const sut = simRunCommand({
      root: '/repo',
      launcher,
      spec,
      traffic,
      jsonPath: '/tmp/sim.json',
      apiKeysPath: '/tmp/api-keys.json',
    });

    // ADMIN_TOKEN opens logging's calibration monitor, which the driver reads after the run.
    expect(sut.env).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      BUS_NAMESPACE: 'loop_x_1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      USER_ACTIVITY_KEY_PREFIX: 'loop_x_1',
      ADMIN_TOKEN: env['ADMIN_TOKEN'],
    });
    expect(sut.args.slice(0, 4)).toEqual([
      '/repo/tools/sim/dist/sim-cli.js',
      'run',
      '--gateway',
      'http://127.0.0.1:4300',
    ]);
    expect(sut.args).not.toContain('--nats');
    const flag = (name: string) => sut.args[sut.args.indexOf(name) + 1];
    expect([flag('--oracle-sample'), flag('--requests'), flag('--spec-ads'), flag('--json')]).toEqual([
      '0.2',
      '600',
      '3000',
      '/tmp/sim.json',
    ]);
    // The loop's own catalog has keys of its own: the demo keys of npm start would be refused.
    expect(flag('--api-keys')).toBe('/tmp/api-keys.json');
    expect(flag('--logging')).toBe('http://127.0.0.1:4304');
  });
});
