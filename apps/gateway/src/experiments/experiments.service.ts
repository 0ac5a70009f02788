import { stat } from 'node:fs/promises';
import { AdfunnelError } from '@adfunnel/contracts';
import { type Assignment, type AssignmentUnit, assign } from '@adfunnel/experiments';
import { ConfigError, InjectConfig } from '@adfunnel/platform';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import type { GatewayConfig } from '../config.js';
import { EXPERIMENTS_VARIABLE, type LoadedExperiments, loadExperimentsFile } from './experiments-file.js';

/** The file as validated before the module was built (gatewayServiceOptions), so a bad one stops the start. */
export const INITIAL_EXPERIMENTS = Symbol('INITIAL_EXPERIMENTS');

export type ReloadTrigger = 'endpoint' | 'SIGHUP' | 'file change';

export interface ExperimentsReloadOutcome {
  outcome: 'reloaded' | 'unchanged';
  previousHash: string;
  hash: string;
}

/** What GET /admin/experiments shows. */
export type ExperimentsView =
  | { enabled: false }
  | {
      enabled: true;
      path: string;
      hash: string;
      loadedAt: string;
      holdout: { share: number } | null;
      launches: { name: string; overrides: object }[];
      layers: {
        name: string;
        unit: string;
        experiments: { name: string; arms: { name: string; share: number; overrides: object }[] }[];
      }[];
      lastReloadError: string | null;
    };

/**
 * The experiments the gateway assigns requests to (EXPERIMENTS_CONFIG). Unset: none, and nothing
 * about a request changes. A reload (SIGHUP, POST /admin/experiments/reload, the file changing)
 * swaps in the new file only when it validates; a bad one keeps the previous config and says why.
 */
@Injectable()
export class ExperimentsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ExperimentsService.name);
  private current: LoadedExperiments | undefined;
  private lastReloadError: string | null = null;
  private watchTimer: NodeJS.Timeout | undefined;
  private watched: string | undefined;
  private readonly onSighup = () => {
    this.logger.log(`SIGHUP: re-reading ${EXPERIMENTS_VARIABLE}`);
    this.reloadQuietly('SIGHUP');
  };

  constructor(
    @InjectConfig() private readonly config: GatewayConfig,
    @Optional() @Inject(INITIAL_EXPERIMENTS) initial?: LoadedExperiments,
  ) {
    this.current = initial;
  }

  get enabled(): boolean {
    return this.current !== undefined;
  }

  /** The arm per layer and the merged overrides; undefined when no experiments are configured. */
  assign(unit: AssignmentUnit): Assignment | undefined {
    return this.current === undefined ? undefined : assign(this.current.config, unit);
  }

  async onModuleInit(): Promise<void> {
    if (this.config.EXPERIMENTS_CONFIG === undefined) return;
    // A gateway started without the file validated first (a test building the module itself).
    this.current ??= loadExperimentsFile(this.config.EXPERIMENTS_CONFIG);
    this.logger.log(
      `experiments from ${this.current.path} (sha256 ${this.current.hash}): ${this.current.config.layers.length} layers`,
    );
    process.on('SIGHUP', this.onSighup);
    if (this.config.EXPERIMENTS_WATCH_MS > 0) {
      this.watched = await fileVersion(this.current.path);
      this.watchTimer = setInterval(() => void this.checkFile(), this.config.EXPERIMENTS_WATCH_MS);
      this.watchTimer.unref();
    }
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onSighup);
    if (this.watchTimer !== undefined) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }

  /**
   * Re-reads the file. A file that does not validate leaves the serving config as it was and throws
   * (400 at the endpoint) with every problem; the same bytes again are `unchanged`.
   */
  reload(trigger: ReloadTrigger = 'endpoint'): ExperimentsReloadOutcome {
    const previous = this.current;
    if (previous === undefined || this.config.EXPERIMENTS_CONFIG === undefined) {
      throw new AdfunnelError(
        'conflict',
        `no experiments to reload: the gateway was started without ${EXPERIMENTS_VARIABLE}`,
        'experiments_off',
      );
    }
    let next: LoadedExperiments;
    try {
      next = loadExperimentsFile(this.config.EXPERIMENTS_CONFIG);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.lastReloadError = message;
      this.logger.error(
        `${trigger}: ${EXPERIMENTS_VARIABLE} not reloaded, still serving sha256 ${previous.hash}: ${message}`,
      );
      if (err instanceof ConfigError) {
        throw new AdfunnelError(
          'invalid_request',
          `not reloaded, still serving sha256 ${previous.hash}: ${message}`,
          'invalid_experiments_config',
        );
      }
      throw err;
    }
    this.lastReloadError = null;
    if (next.hash === previous.hash)
      return { outcome: 'unchanged', previousHash: previous.hash, hash: next.hash };
    this.current = next;
    this.logger.log(
      `${trigger}: experiments reloaded from ${next.path}: sha256 ${previous.hash} -> ${next.hash}, ${next.config.layers.length} layers`,
    );
    return { outcome: 'reloaded', previousHash: previous.hash, hash: next.hash };
  }

  view(): ExperimentsView {
    const loaded = this.current;
    if (loaded === undefined) return { enabled: false };
    const { config } = loaded;
    return {
      enabled: true,
      path: loaded.path,
      hash: loaded.hash,
      loadedAt: new Date(loaded.loadedAt).toISOString(),
      holdout: config.holdout ? { share: config.holdout.share } : null,
      launches: config.launches.map((l) => ({ name: l.name, overrides: l.overrides })),
      layers: config.layers.map((layer) => ({
        name: layer.name,
        unit: layer.unit,
        experiments: layer.experiments.map((e) => ({
          name: e.name,
          arms: e.arms.map((a) => ({ name: a.name, share: a.share, overrides: a.overrides })),
        })),
      })),
      lastReloadError: this.lastReloadError,
    };
  }

  /** Errors are logged by reload; a signal or a watch has no one else to tell. */
  private reloadQuietly(trigger: ReloadTrigger): void {
    try {
      this.reload(trigger);
    } catch {
      // logged
    }
  }

  private async checkFile(): Promise<void> {
    const path = this.current?.path;
    if (path === undefined) return;
    const version = await fileVersion(path);
    if (version === this.watched) return;
    this.watched = version;
    this.reloadQuietly('file change');
  }
}

/** Changes when the file is rewritten or replaced (a rename over it, as editors and deploys do). */
async function fileVersion(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
