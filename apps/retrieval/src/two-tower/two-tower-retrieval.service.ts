import { join, resolve } from 'node:path';
import type { AdIndex, CandidateSource as IndexSource } from '@adfunnel/ad-index';
import { CatalogSnapshotService, type CatalogSnapshot } from '@adfunnel/catalog';
import type { CandidatesRequest } from '@adfunnel/contracts';
import { encodeUserTowerInputs } from '@adfunnel/features';
import {
  CurrentPointerWatcher,
  type ResolvedTwoTowerModel,
  TwoTowerModel,
  resolveCurrentTwoTowerModel,
} from '@adfunnel/models';
import { InjectConfig } from '@adfunnel/platform';
import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type IndexLifecycleConfig, indexLifecycleSettings } from '../index/index-lifecycle.config.js';
import { IndexKeeper, type IndexStartup } from '../index/index-keeper.js';
import { IndexStore } from '../index/index-store.js';
import type { TwoTowerConfig } from './two-tower.config.js';
import { TowerEmbeddings, towerAds, towerEmbeddingVersion, towerIndexVersion } from './tower-index.js';

/** The personalized candidates of one request, from one model version end to end. */
export interface TowerAnswer {
  readonly adIds: number[];
  readonly scores: number[];
  readonly sources: IndexSource[];
  readonly eligible: number;
  /** The tower index searched: its version names the model version that built it. */
  readonly indexVersion: string;
  /** The catalog snapshot that index was built from. */
  readonly catalogVersion: string;
  readonly modelVersion: string;
  /** User tower and search, milliseconds. */
  readonly ms: number;
}

export interface TwoTowerStatus {
  mode: 'two-tower' | 'heuristic';
  model: string | null;
  indexVersion: string | null;
  catalogVersion: string | null;
  /** Why the heuristic serves, or the last failed load or rebuild (the previous state keeps serving). */
  problem: string | null;
  /** Old models still finishing requests that started on them. */
  retiring: number;
  /** The tower index: loaded at start (and from where) or built, its size and soft-deleted points. */
  index: {
    origin: IndexStartup | null;
    size: number;
    deleted: number;
    dir: string | null;
    /** Ads the ad tower embedded for this model since it was loaded (a loaded index's vectors are reused). */
    embedded: number;
  } | null;
}

/**
 * One model and its ad tower's index, swapped in and out together. The index follows the catalog in
 * place (its keeper's in-place changes) or is replaced (compaction, large changes): `snapshot` is the
 * catalog it was last brought to.
 */
interface Served {
  readonly model: TwoTowerModel;
  readonly index: AdIndex;
  readonly snapshot: CatalogSnapshot;
  readonly keeper: IndexKeeper<undefined>;
  /** Ads embedded with this model so far. */
  readonly embedded: () => number;
}

/**
 * The two-tower retrieval model in service (tools/training/train_two_tower.py): loads
 * MODELS_DIR/RETRIEVAL_MODEL/current at startup with the ad tower's index of that model version
 * saved in the IndexStore (`two-tower-<model>`; one of another version is rebuilt, never loaded), or
 * embeds every servable ad with the ad tower into a new one (the content index keeps serving the other
 * sources); re-embeds only new or changed ads when the catalog changes and applies them to the index
 * through an IndexKeeper (in place when few), and runs the user tower per request. A new `current` (watched, or
 * reload()) is loaded and its index built aside, then model and index swap in one assignment: a request
 * holds one `Served` from start to end, so its user vector and the ads it searches come from one
 * version; the old model closes once the requests on it have finished. With no model, or one that fails
 * to load, personalized() answers undefined and retrieval serves the activity heuristic.
 */
@Injectable()
export class TwoTowerRetrievalService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TwoTowerRetrievalService.name);
  private served: Served | undefined;
  private problem: string | null = null;
  private work: Promise<void> = Promise.resolve();
  /** Requests running on each model; a retired model closes when its count falls to 0. */
  private readonly inFlight = new Map<TwoTowerModel, number>();
  private readonly retiring = new Set<TwoTowerModel>();
  private watcher: CurrentPointerWatcher | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    @InjectConfig() private readonly config: TwoTowerConfig & Partial<IndexLifecycleConfig>,
    @Optional() private readonly store?: IndexStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.RETRIEVAL_TWO_TOWER === 'off') {
      this.problem = 'RETRIEVAL_TWO_TOWER=off';
      return;
    }
    await this.reload();
    this.unsubscribe = this.catalog.onChange((snapshot) => {
      void this.enqueue(() => this.reindex(snapshot));
    });
    if (this.config.RETRIEVAL_MODEL_WATCH_MS > 0) {
      this.watcher = new CurrentPointerWatcher({
        modelRoot: join(resolve(this.config.MODELS_DIR), this.config.RETRIEVAL_MODEL),
        initialVersion: this.served?.model.version ?? '',
        pollMs: this.config.RETRIEVAL_MODEL_WATCH_MS,
        onChange: async () => {
          await this.reload();
        },
        onError: (err) => this.logger.error(`two-tower reload failed: ${err.message}`),
      });
      this.watcher.start();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.watcher?.stop();
    await this.work;
    await this.served?.keeper.stop();
    const all = [...this.retiring, ...(this.served ? [this.served.model] : [])];
    this.served = undefined;
    await Promise.all(all.map((model) => model.close()));
  }

  /** The version of the model in service; null while the heuristic serves. */
  modelVersion(): string | null {
    return this.served?.model.version ?? null;
  }

  status(): TwoTowerStatus {
    const s = this.served;
    return {
      mode: s ? 'two-tower' : 'heuristic',
      model: s ? `${s.model.name}@${s.model.version}` : null,
      indexVersion: s === undefined ? null : towerIndexVersion(s.index),
      catalogVersion: s?.index.catalogVersion ?? null,
      problem: this.problem,
      retiring: this.retiring.size,
      index:
        s === undefined
          ? null
          : {
              origin: s.keeper.status().startup ?? null,
              size: s.index.size,
              deleted: s.index.deleted,
              dir: s.keeper.status().dir ?? null,
              embedded: s.embedded(),
            },
    };
  }

  /**
   * Loads the version `current` names (unless it serves already) with an index of the current
   * catalog, and swaps both in; on any failure the previous state keeps serving (or the heuristic).
   */
  reload(): Promise<TwoTowerStatus> {
    return this.enqueue(async () => {
      let resolved: ResolvedTwoTowerModel;
      try {
        resolved = await resolveCurrentTwoTowerModel(
          resolve(this.config.MODELS_DIR),
          this.config.RETRIEVAL_MODEL,
        );
      } catch (err) {
        this.problem = (err as Error).message;
        if (this.served === undefined)
          this.logger.log(`no two-tower model, heuristic retrieval: ${this.problem}`);
        else
          this.logger.error(
            `two-tower reload refused, keeping ${this.served.model.version}: ${this.problem}`,
          );
        return;
      }
      if (resolved.version === this.served?.model.version) return;
      let model: TwoTowerModel | undefined;
      let keeper: IndexKeeper<undefined> | undefined;
      try {
        model = await TwoTowerModel.open(resolved, { logger: this.logger });
        const kept = this.keeperFor(model);
        keeper = kept.keeper;
        const snapshot = this.catalog.snapshot();
        const { index } = await keeper.start(snapshot);
        const previous = this.served;
        this.swap({ model, index, snapshot, keeper, embedded: kept.embedded });
        this.problem = null;
        // Saves the old model's unsaved changes; its index serves requests in flight until they end.
        await previous?.keeper.stop();
        const recall = resolved.manifest.metrics.recallAtK.model['100'];
        const startup = keeper.status().startup;
        this.logger.log(
          `two-tower ${resolved.name}@${resolved.version} in service (held-out recall@100 ` +
            `${recall?.toFixed(3) ?? 'n/a'}): index of ${index.size} ads ${startup?.how ?? 'built'} in ` +
            `${startup?.ms.toFixed(0) ?? '?'} ms, ${towerIndexVersion(index)}`,
        );
      } catch (err) {
        await keeper?.stop();
        await model?.close();
        this.problem = `cannot serve ${resolved.name}@${resolved.version}: ${(err as Error).message}`;
        this.logger.error(
          `${this.problem}; ${this.served ? `keeping ${this.served.model.version}` : 'heuristic retrieval'}`,
        );
      }
    }).then(() => this.status());
  }

  /**
   * The personalized candidates with the user tower, searched in the ad tower's index of the same
   * version, when that index was built from `catalogVersion` (the catalog the other sources search);
   * undefined otherwise, or when the tower fails (the caller serves the heuristic then).
   */
  async personalized(
    request: CandidatesRequest,
    catalogVersion: string,
    excludeCampaigns: ReadonlySet<number>,
    k: number,
  ): Promise<TowerAnswer | undefined> {
    const s = this.served;
    if (s === undefined || s.index.catalogVersion !== catalogVersion) return undefined;
    const started = performance.now();
    const model = s.model;
    this.inFlight.set(model, (this.inFlight.get(model) ?? 0) + 1);
    try {
      const byId = s.snapshot.byId;
      const inputs = encodeUserTowerInputs(
        [
          {
            activity: request.user.activity ?? null,
            device: request.user.device,
            country: request.user.country,
            surface: request.surface,
            query: request.query ?? null,
            contextAdId: request.contextAdId ?? null,
          },
        ],
        (adId) => byId.get(adId),
      );
      const vector = await model.embedUsers(inputs);
      const found = s.index.search({
        embedding: vector,
        country: request.user.country,
        device: request.user.device,
        k,
        excludeCampaigns,
      });
      // Read with the search, in one synchronous step: the index may have followed the catalog in
      // place while the user tower ran, and the answer must name the catalog it was searched at.
      return {
        adIds: found.adIds,
        scores: found.scores,
        sources: found.sources,
        eligible: found.eligible,
        indexVersion: towerIndexVersion(s.index),
        catalogVersion: s.index.catalogVersion,
        modelVersion: s.model.version,
        ms: performance.now() - started,
      };
    } catch (err) {
      this.logger.warn(
        `two-tower failed for request ${request.requestId}, heuristic: ${(err as Error).message}`,
      );
      return undefined;
    } finally {
      const left = this.inFlight.get(model)! - 1;
      if (left > 0) this.inFlight.set(model, left);
      else this.inFlight.delete(model);
      if (left === 0 && this.retiring.has(model)) this.close(model);
    }
  }

  /** A new catalog: the same model, the new and changed ads embedded and applied to its index. */
  private async reindex(snapshot: CatalogSnapshot): Promise<void> {
    const s = this.served;
    if (s === undefined || snapshot.version === s.index.catalogVersion) return;
    await s.keeper.follow(snapshot);
    const failure = s.keeper.status().lastFailure;
    if (failure?.catalogVersion === snapshot.version) {
      this.problem = `two-tower index for catalog ${snapshot.version} failed: ${failure.message}`;
    }
  }

  /**
   * The lifecycle of `model`'s tower index: saved under the store's `two-tower-<model>` with the model
   * version as its embedding version, its vectors reused from a loaded index (only ads whose tower
   * inputs changed are embedded again), changes installed into `served` while this model serves.
   */
  private keeperFor(model: TwoTowerModel): { keeper: IndexKeeper<undefined>; embedded: () => number } {
    const embeddings = new TowerEmbeddings(model.version);
    let embeddedTotal = 0;
    const keeper: IndexKeeper<undefined> = new IndexKeeper(
      {
        name: `two-tower ${model.name}@${model.version}`,
        index: { ...this.indexOptions(), dim: model.dim, embeddingVersion: towerEmbeddingVersion(model) },
        dir: this.store?.dirFor(`two-tower-${model.name}`),
        settings: indexLifecycleSettings(this.config),
        logger: this.logger,
      },
      {
        ads: async (snapshot) => {
          const { ads, embedded, ms } = await towerAds(model, snapshot, embeddings);
          embeddedTotal += embedded;
          if (embedded > 0)
            this.logger.log(`two-tower ${model.version}: ${embedded} ads embedded in ${ms.toFixed(0)} ms`);
          return ads;
        },
        loaded: (index) => {
          embeddings.seed(index, model);
        },
        companion: () => undefined,
        install: (index, _none, snapshot) => {
          const s = this.served;
          // Only while this model serves: a retired model's index is no one's to swap.
          if (s?.keeper === keeper) this.served = { ...s, index, snapshot };
        },
      },
    );
    return { keeper, embedded: () => embeddedTotal };
  }

  private swap(next: Served): void {
    const previous = this.served?.model;
    this.served = next;
    if (previous === undefined || previous === next.model) return;
    this.retiring.add(previous);
    if (!this.inFlight.has(previous)) this.close(previous);
  }

  private close(model: TwoTowerModel): void {
    void model.close().finally(() => this.retiring.delete(model));
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.work.then(() => (this.stopped ? undefined : task()));
    this.work = run.catch(() => undefined);
    return run;
  }

  private indexOptions() {
    return {
      efSearch: this.config.RETRIEVAL_EF_SEARCH,
      exactThreshold: this.config.RETRIEVAL_EXACT_THRESHOLD,
    };
  }
}
