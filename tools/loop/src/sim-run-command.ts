import { join } from 'node:path';
import type { FunnelLauncher } from '@adfunnel/funnel';
import type { MarketplaceSpec } from '@adfunnel/simulator';
import type { LoopOptions } from './closed-loop.js';

export interface SimRunCommand {
  args: string[];
  env: Record<string, string>;
}

/**
 * The traffic driver's CLI against the loop's funnel. Its oracle asks retrieval and ranking over the
 * bus itself, so it gets the NATS and the bus namespace the launcher gave the services: without them
 * it asks subjects nobody listens on and every oracle figure is missing.
 */
export function simRunCommand(o: {
  root: string;
  launcher: FunnelLauncher;
  spec: MarketplaceSpec;
  traffic: LoopOptions['traffic'];
  jsonPath: string;
  /** The advertisers' API keys (catalog api-keys issue --out): the driver posts conversions with them. */
  apiKeysPath: string;
}): SimRunCommand {
  const t = o.traffic;
  const args = [
    join(o.root, 'tools', 'sim', 'dist', 'sim-cli.js'),
    'run',
    '--gateway',
    o.launcher.url('gateway'),
    '--logging',
    o.launcher.url('logging'),
    '--spec-seed',
    String(o.spec.seed),
    '--spec-advertisers',
    String(o.spec.advertisers),
    '--spec-ads',
    String(o.spec.ads),
    '--spec-users',
    String(o.spec.users),
    '--users',
    String(t.users),
    '--day-requests',
    String(t.dayRequests),
    '--requests',
    String(t.requests),
    '--slots',
    String(t.slots),
    '--rate',
    '0',
    '--concurrency',
    String(t.concurrency),
    '--seed',
    String(t.seed),
    '--oracle-sample',
    String(t.oracleSample),
    '--organic-per-visit',
    String(t.organicPerVisit),
    '--json',
    o.jsonPath,
    '--api-keys',
    o.apiKeysPath,
  ];
  // ADMIN_TOKEN (in the environment, not argv): the driver reads logging's calibration monitor after the run.
  // The activity keys: the oracle asks retrieval and ranking about each user as this funnel's gateway
  // builds them; without them it read the default prefix, another funnel's users or none.
  return {
    args,
    env: { ...o.launcher.busClientEnv(), ...o.launcher.activityEnv(), ...o.launcher.operatorEnv() },
  };
}
