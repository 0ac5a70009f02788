import { spawn } from 'node:child_process';
import { access, cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedCatalog } from '@adfunnel/catalog-seed';
import {
  ServedAdEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import { FunnelLauncher, isolatedFunnelEnv } from '@adfunnel/funnel';
import { type ResolvedModel, resolveModelVersion } from '@adfunnel/models';
import { type MarketplaceSpec, userAt } from '@adfunnel/simulator';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { type HeldOutComparison, compareOnHeldOut } from './heldout-comparison.js';
import { simRunCommand } from './sim-run-command.js';
import type { SimSummary } from './sim-summary.js';

export interface LoopOptions {
  /** Repository root (built apps and tools are run from here). */
  root: string;
  spec: MarketplaceSpec;
  traffic: {
    requests: number;
    concurrency: number;
    seed: number;
    users: number;
    dayRequests: number;
    slots: number;
    oracleSample: number;
    /** Mean organic engagements per visit the simulated users report (tools/sim --organic-per-visit). */
    organicPerVisit: number;
  };
  epochs: number;
  /**
   * `scratch`: the ranking model is trained from random weights; `serving`: fine-tuned from the weights
   * of the version that served the first run (train_ranker.py --init-from; from scratch, saying so,
   * when that version has no model.pt).
   */
  rankingInit: 'serving' | 'scratch';
  /** Learning rate and epochs of the fine-tuning (rankingInit serving); `epochs` is the scratch training's. */
  fineTune: { lr: number; epochs: number };
  /** Epochs of the two-tower retrieval model (train_two_tower.py). */
  twoTowerEpochs: number;
  /**
   * `better`: the towers serve the second run only when their held-out recall@100 beats the no-model
   * heuristic's (a model that loses offline is not deployed); `always`: they serve regardless.
   */
  deployTowers: 'better' | 'always';
  reloadCycles: number;
  basePort: number;
  /** Shared with other funnels: this run's services and simulator talk in a bus namespace of their own. */
  natsUrl: string;
  redisUrl: string;
  python: string;
  keep: boolean;
  /** Extra variables for the funnel's services (--funnel-env); the run's isolation variables win. */
  funnelEnv: Record<string, string>;
  /** The pointer under models/ranking whose version serves the first run (--start-model). */
  startModel: string;
  log: (line: string) => void;
}

export interface RetrievalTraining {
  export: { rows: number; clicks: number; withActivity: number; ads: number; columns: string[] };
  version: string;
  seconds: number;
  /** Held-out recall@K (the latest clicks in time): the model, the most popular ads, the no-model heuristic. */
  recallAtK: Record<string, Record<string, number | null>>;
  heldOutClicks: number;
  /** Null when the towers were not deployed (they lost to the heuristic offline): `skipped` says why. */
  deploy: { ms: number; indexVersion: string | null } | null;
  skipped?: string;
}

export interface ReloadMemorySample {
  cycle: number;
  version: string;
  reloadMs: number;
  rssMb: number;
}

export interface LoopResult {
  workDir: string;
  spec: MarketplaceSpec;
  traffic: LoopOptions['traffic'];
  /** The models/ranking pointer the first run served (cold-start unless --start-model said otherwise). */
  startModel: string;
  coldStart: string;
  trained: string;
  before: SimSummary;
  after: SimSummary;
  export: {
    read: number;
    train: { rows: number; clicks: number };
    validation: { rows: number; clicks: number };
  };
  training: {
    seconds: number;
    output: string[];
    /** The version whose weights the training started from; null: random weights (`scratchReason` says why). */
    initFrom: string | null;
    scratchReason?: string;
  };
  deploy: { ms: number; servedAfter: string };
  /** The two-tower retrieval model trained on the same logs and served by retrieval in the second run. */
  retrieval: RetrievalTraining;
  heldOut: HeldOutComparison;
  reloadMemory: { baselineRssMb: number; samples: ReloadMemorySample[] } | null;
  wallSeconds: number;
}

/**
 * The closed loop, end to end on a funnel of its own: the cold-start model serves simulated traffic;
 * the served-ad log is exported and a model trained on it; the new model is deployed to the running
 * ranking service (hot reload); the same traffic runs again.
 */
export class ClosedLoop {
  private readonly started = performance.now();
  private readonly runId = `loop_${Date.now().toString(36)}_${process.pid}`;
  /**
   * The funnel's own bus namespace, prefixes, ports and secrets; its ADMIN_TOKEN also opens ranking's
   * /admin endpoints to the deploys and model checks.
   */
  private readonly funnelEnv: Record<string, string>;
  private readonly serviceLines: string[] = [];

  constructor(private readonly o: LoopOptions) {
    // Both runs should see the same (undegraded) funnel on a busy 2-core machine.
    this.funnelEnv = {
      ...isolatedFunnelEnv({
        runId: this.runId,
        basePort: o.basePort,
        deadlineMs: 2000,
        stageTimeoutMs: 1000,
      }),
      // A phase lasts about half a minute: refit the calibrators often enough to serve them in it.
      RANKING_CALIBRATION_REFRESH_MS: '5000',
    };
  }

  async run(): Promise<LoopResult> {
    const work = await mkdtemp(join(tmpdir(), 'adfunnel-loop-'));
    const modelsDir = join(work, 'models');
    const sqlitePath = join(work, 'catalog.sqlite');
    let launcher: FunnelLauncher | undefined;
    let ds: DataSource | undefined;
    try {
      this.step(`working in ${work}`);
      await cp(join(this.o.root, 'models', 'ranking'), join(modelsDir, 'ranking'), { recursive: true });
      const coldStart = await this.pointer(modelsDir, this.o.startModel);
      await this.point(modelsDir, 'current', coldStart);
      this.step(`models copied; current = ${this.o.startModel} ranking@${coldStart}`);

      ds = await openFunnelDatabase({ sqlitePath });
      await migrateFunnelDatabase(ds);
      const seeded = await seedCatalog(ds, this.o.spec);
      this.step(
        `catalog seeded (SQLite): ${seeded.tables.ads.expected} ads, ${seeded.tables.userProfiles.expected} users`,
      );
      const apiKeysPath = join(work, 'api-keys.json');
      await this.exec(
        process.execPath,
        [
          join(this.o.root, 'tools', 'catalog', 'dist', 'catalog-cli.js'),
          ...['api-keys', 'issue', '--advertiser', 'all', '--label', 'loop', '--out', apiKeysPath],
        ],
        { env: { SQLITE_PATH: sqlitePath }, quiet: true },
      );
      this.step('advertisers given API keys: the simulator posts their conversions with them');

      launcher = this.launcher(sqlitePath, modelsDir);
      await launcher.start();
      this.step(
        `funnel up: gateway ${launcher.url('gateway')}, ranking ${launcher.url('ranking')}, ` +
          `NATS ${new URL(this.o.natsUrl).host} in bus namespace ${this.runId}`,
      );

      const before = await this.drive('before', launcher, work, apiKeysPath);
      await this.waitForLogs(ds, before);

      const dataDir = join(work, 'data');
      const exported = await this.exportLogs(dataDir, sqlitePath);
      const training = await this.train(dataDir, modelsDir, coldStart);
      const trained = training.version;
      const towers = await this.trainTowers(join(work, 'retrieval-data'), sqlitePath, modelsDir);

      const deploy = await this.deploy(launcher, modelsDir, trained);
      const retrieval = await this.maybeDeployTowers(launcher, modelsDir, towers);
      const after = await this.drive('after', launcher, work, apiKeysPath);

      const cold = await this.resolveVersion(modelsDir, coldStart);
      const fresh = await this.resolveVersion(modelsDir, trained);
      const heldOut = await compareOnHeldOut(join(dataDir, 'validation'), cold, fresh);
      this.step(
        `held-out logs (${heldOut.rows} rows): logloss ${heldOut.before.logloss.toFixed(5)} -> ${heldOut.after.logloss.toFixed(5)}`,
      );

      const reloadMemory =
        this.o.reloadCycles > 0
          ? await this.reloadMemory(launcher, modelsDir, [coldStart, trained], this.o.reloadCycles)
          : null;

      return {
        workDir: work,
        spec: this.o.spec,
        traffic: this.o.traffic,
        startModel: this.o.startModel,
        coldStart,
        trained,
        before,
        after,
        export: exported,
        training: {
          seconds: training.seconds,
          output: training.output,
          initFrom: training.initFrom,
          ...(training.scratchReason ? { scratchReason: training.scratchReason } : {}),
        },
        deploy,
        retrieval,
        heldOut,
        reloadMemory,
        wallSeconds: this.elapsed(),
      };
    } catch (err) {
      const tail = this.serviceLines.slice(-40).join('\n');
      throw new Error(`${(err as Error).message}${tail ? `\n--- last service output ---\n${tail}` : ''}`, {
        cause: err,
      });
    } finally {
      this.step('stopping the funnel and cleaning up');
      await launcher?.stopAll();
      await ds?.destroy();
      await this.cleanRedis().catch((err: unknown) =>
        this.o.log(`  redis cleanup: ${(err as Error).message}`),
      );
      if (!this.o.keep) await rm(work, { recursive: true, force: true });
    }
  }

  private launcher(sqlitePath: string, modelsDir: string): FunnelLauncher {
    return new FunnelLauncher({
      root: this.o.root,
      env: {
        // A run lasts minutes of wall clock at whatever hour it starts: even pacing against the day's
        // target curve would hold campaigns back by the hour it ran at, and the second phase, which
        // follows the first one's spend, more than the first. `sim day` measures pacing on a clock
        // of its own; --funnel-env PACING=on turns it back on here.
        PACING: 'off',
        // The same compression: a served CPC or CPA ad holds its expected cost until its click is
        // charged or the reservation lapses (15 min by default), so a day's traffic driven in a
        // minute piles up a day's reservations and the auction drops winners whose campaign cannot
        // hold one more. The simulated users click at once, so 10 s of wall clock covers them.
        BUDGET_RESERVATION_MS: '10000',
        ...this.o.funnelEnv,
        ...this.funnelEnv,
        SQLITE_PATH: sqlitePath,
        MODELS_DIR: modelsDir,
        REDIS_URL: this.o.redisUrl,
        NATS_URL: this.o.natsUrl,
        // Deploys go through POST /admin/model/reload (and /admin/retrieval-model/reload), so the loop
        // knows when the swap happened.
        RANKING_MODEL_WATCH_MS: '0',
        RETRIEVAL_MODEL_WATCH_MS: '0',
      },
      onLine: (app, line) => {
        this.serviceLines.push(`${app}: ${line}`);
        if (this.serviceLines.length > 200) this.serviceLines.shift();
      },
      readyTimeoutMs: 120_000,
    });
  }

  private async drive(
    phase: string,
    launcher: FunnelLauncher,
    work: string,
    apiKeysPath: string,
  ): Promise<SimSummary> {
    const t = this.o.traffic;
    const jsonPath = join(work, `sim-${phase}.json`);
    this.step(`driving ${t.requests} requests (${phase}, seed ${t.seed})`);
    const { args, env } = simRunCommand({
      root: this.o.root,
      launcher,
      spec: this.o.spec,
      traffic: t,
      jsonPath,
      apiKeysPath,
    });
    await this.exec(process.execPath, args, { env, prefix: `sim ${phase}` });
    const summary = JSON.parse(await readFile(jsonPath, 'utf8')) as SimSummary;
    this.step(
      `${phase}: ${summary.requests} requests (${summary.errors} errors) in ${summary.run.wallSeconds.toFixed(1)} s, ` +
        `ctr ${pct(summary.ctr)}, revenue $${summary.revenue.total.toFixed(2)}`,
    );
    return summary;
  }

  /** Logging persists through queues after the answer: wait until the store holds what the driver counted. */
  private async waitForLogs(ds: DataSource, summary: SimSummary): Promise<void> {
    const events = summary.impressions + summary.clicks + summary.conversions;
    const deadline = Date.now() + 120_000;
    let served = 0;
    let stored = 0;
    while (Date.now() < deadline) {
      [served, stored] = await Promise.all([
        ds.getRepository(ServedAdEntity).count(),
        ds.getRepository(TrackingEventEntity).count(),
      ]);
      if (served >= summary.adsReturned && stored >= events) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    this.step(
      `logs persisted: ${served}/${summary.adsReturned} served ads, ${stored}/${events} tracking events`,
    );
  }

  private async exportLogs(dataDir: string, sqlitePath: string): Promise<LoopResult['export']> {
    this.step('exporting the served-ad log with its labels');
    const { stdout } = await this.exec(
      process.execPath,
      [join(this.o.root, 'tools', 'training', 'dist', 'export-served.js'), '--out', dataDir, '--json'],
      { env: { SQLITE_PATH: sqlitePath }, quiet: true },
    );
    const report = JSON.parse(stdout) as LoopResult['export'];
    this.step(
      `exported ${report.read} rows: train ${report.train.rows} (${report.train.clicks} clicks), ` +
        `validation ${report.validation.rows} (${report.validation.clicks} clicks)`,
    );
    return report;
  }

  private async train(
    dataDir: string,
    modelsDir: string,
    serving: string,
  ): Promise<LoopResult['training'] & { version: string }> {
    const init = await this.rankingInit(modelsDir, serving);
    // From scratch, train_ranker.py's own learning rate.
    const schedule = init.from === null ? { lr: undefined, epochs: this.o.epochs } : this.o.fineTune;
    this.step(
      init.from === null
        ? `training on the exported logs from scratch (${schedule.epochs} epochs)` +
            (init.scratchReason ? `: ${init.scratchReason}` : '')
        : `fine-tuning ranking@${init.from} on the exported logs (lr ${schedule.lr}, ${schedule.epochs} epochs)`,
    );
    const started = performance.now();
    const { stdout } = await this.exec(
      this.o.python,
      [
        join(this.o.root, 'tools', 'training', 'train_ranker.py'),
        '--data',
        dataDir,
        '--out-root',
        join(modelsDir, 'ranking'),
        ...['--epochs', String(schedule.epochs), '--batch-size', '256'],
        ...(schedule.lr === undefined ? [] : ['--lr', String(schedule.lr)]),
        ...(init.from === null ? [] : ['--init-from', join(modelsDir, 'ranking', init.from)]),
        '--no-current',
        '--description',
        `closed loop ${this.runId}: ` +
          (init.from === null ? 'trained' : `fine-tuned from ranking@${init.from}`) +
          ` on served-ad logs of ranking@${serving}`,
      ],
      { prefix: 'train' },
    );
    const match = /wrote ranking@(\S+)/.exec(stdout);
    if (!match) throw new Error(`train_ranker.py did not say which version it wrote:\n${stdout}`);
    return {
      version: match[1],
      seconds: Math.round((performance.now() - started) / 100) / 10,
      output: stdout
        .split('\n')
        .filter(
          (l) => l.startsWith('validation') || l.startsWith('P(examine') || l.startsWith('starting from'),
        ),
      initFrom: init.from,
      ...(init.scratchReason ? { scratchReason: init.scratchReason } : {}),
    };
  }

  /** The version the retraining starts from: the serving one, when asked for and it kept its weights. */
  private async rankingInit(
    modelsDir: string,
    serving: string,
  ): Promise<{ from: string | null; scratchReason?: string }> {
    if (this.o.rankingInit === 'scratch') return { from: null };
    try {
      await access(join(modelsDir, 'ranking', serving, 'model.pt'));
      return { from: serving };
    } catch {
      return {
        from: null,
        scratchReason: `ranking@${serving} has no model.pt (PyTorch weights) to fine-tune from`,
      };
    }
  }

  /**
   * The two-tower retrieval model from the same phase's logs: the retrieval export (served ads with the
   * query, context ad and activity they were served with, and the catalog's ad fields), then
   * train_two_tower.py into models/retrieval (no current yet: deployTowers points it).
   */
  private async trainTowers(
    dataDir: string,
    sqlitePath: string,
    modelsDir: string,
  ): Promise<Omit<RetrievalTraining, 'deploy'>> {
    this.step('exporting the served-ad log for the two-tower retrieval model');
    const { stdout: exported } = await this.exec(
      process.execPath,
      [join(this.o.root, 'tools', 'training', 'dist', 'export-retrieval.js'), '--out', dataDir, '--json'],
      { env: { SQLITE_PATH: sqlitePath }, quiet: true },
    );
    const report = JSON.parse(exported) as RetrievalTraining['export'];
    this.step(
      `exported ${report.rows} served ads (${report.clicks} clicks, ${report.withActivity} with activity) ` +
        `and ${report.ads} catalog ads; training both towers (${this.o.twoTowerEpochs} epochs)`,
    );
    const started = performance.now();
    const root = join(modelsDir, 'retrieval');
    const { stdout } = await this.exec(
      this.o.python,
      [
        join(this.o.root, 'tools', 'training', 'train_two_tower.py'),
        ...['--data', dataDir, '--out-root', root, '--epochs', String(this.o.twoTowerEpochs), '--no-current'],
        ...['--description', `closed loop ${this.runId}: trained on the served-ad logs of the first run`],
      ],
      { prefix: 'two-tower' },
    );
    const match = /wrote retrieval@(\S+)/.exec(stdout);
    if (!match) throw new Error(`train_two_tower.py did not say which version it wrote:\n${stdout}`);
    const manifest = JSON.parse(await readFile(join(root, match[1], 'manifest.json'), 'utf8')) as {
      metrics: { recallAtK: RetrievalTraining['recallAtK']; heldOutClicks: number };
    };
    return {
      export: report,
      version: match[1],
      seconds: Math.round((performance.now() - started) / 100) / 10,
      recallAtK: manifest.metrics.recallAtK,
      heldOutClicks: manifest.metrics.heldOutClicks,
    };
  }

  /** Deploys the towers when they beat the heuristic offline (or `deployTowers` is `always`). */
  private async maybeDeployTowers(
    launcher: FunnelLauncher,
    modelsDir: string,
    towers: Omit<RetrievalTraining, 'deploy'>,
  ): Promise<RetrievalTraining> {
    const model = towers.recallAtK['model']?.['100'];
    const heuristic = towers.recallAtK['heuristic']?.['100'];
    if (this.o.deployTowers === 'better' && model != null && heuristic != null && model <= heuristic) {
      const skipped =
        `held-out recall@100 ${model.toFixed(3)} is not above the heuristic's ${heuristic.toFixed(3)}: ` +
        'the second run keeps the heuristic (--deploy-towers always deploys anyway)';
      this.step(`not deploying retrieval@${towers.version}: ${skipped}`);
      return { ...towers, deploy: null, skipped };
    }
    return { ...towers, deploy: await this.deployTowers(launcher, modelsDir, towers.version) };
  }

  /** Points models/retrieval/current at the towers and has the running retrieval service swap them in. */
  private async deployTowers(
    launcher: FunnelLauncher,
    modelsDir: string,
    version: string,
  ): Promise<NonNullable<RetrievalTraining['deploy']>> {
    this.step(
      `deploying retrieval@${version} to the running retrieval service (both towers and their index)`,
    );
    const started = performance.now();
    await this.point(modelsDir, 'current', version, 'retrieval');
    const res = await fetch(`${launcher.url('retrieval')}/admin/retrieval-model/reload`, {
      method: 'POST',
      headers: this.asAdmin(),
    });
    const body = (await res.json()) as {
      model: string | null;
      indexVersion: string | null;
      problem: string | null;
    };
    if (res.status !== 200 || body.model !== `retrieval@${version}`) {
      throw new Error(
        `retrieval did not take retrieval@${version} (HTTP ${res.status}, serving ${body.model ?? 'the heuristic'}): ` +
          `${body.problem ?? JSON.stringify(body)}`,
      );
    }
    const ms = Math.round(performance.now() - started);
    this.step(`retrieval now serves ${body.model} with index ${body.indexVersion} (swap took ${ms} ms)`);
    return { ms, indexVersion: body.indexVersion };
  }

  private async deploy(
    launcher: FunnelLauncher,
    modelsDir: string,
    version: string,
  ): Promise<LoopResult['deploy']> {
    this.step(`deploying ranking@${version} to the running ranking service (hot reload)`);
    const outcome = await this.reload(launcher, modelsDir, version);
    const served = await this.servedVersion(launcher);
    if (served !== version) throw new Error(`ranking serves ${served} after the reload, expected ${version}`);
    this.step(`ranking now serves ${served} (swap took ${outcome.ms} ms, no restart)`);
    return { ms: outcome.ms, servedAfter: served };
  }

  private async reload(
    launcher: FunnelLauncher,
    modelsDir: string,
    version: string,
  ): Promise<{ outcome: string; ms: number }> {
    await this.point(modelsDir, 'current', version);
    const res = await fetch(`${launcher.url('ranking')}/admin/model/reload`, {
      method: 'POST',
      headers: this.asAdmin(),
    });
    const body = (await res.json()) as { outcome: string; ms: number; message?: string };
    if (res.status !== 200) throw new Error(`reload of ${version} answered ${res.status}: ${body.message}`);
    return body;
  }

  private async servedVersion(launcher: FunnelLauncher): Promise<string> {
    const res = await fetch(`${launcher.url('ranking')}/admin/model`, { headers: this.asAdmin() });
    return ((await res.json()) as { version: string }).version;
  }

  /**
   * Reloads alternating versions and reads the ranking process's resident memory after each, once
   * the old pool has closed, with a little traffic in between so the sessions are exercised.
   */
  private async reloadMemory(
    launcher: FunnelLauncher,
    modelsDir: string,
    versions: [string, string],
    cycles: number,
  ): Promise<NonNullable<LoopResult['reloadMemory']>> {
    const pid = launcher.pid('ranking');
    if (pid === undefined) throw new Error('ranking is not running');
    this.step(`measuring ranking memory (pid ${pid}) across ${cycles} reloads`);
    await this.traffic(launcher, 40);
    const baselineRssMb = await rssMb(pid);
    this.o.log(`  before the reloads: RSS ${baselineRssMb.toFixed(1)} MB`);
    const samples: ReloadMemorySample[] = [];
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const version = versions[(cycle - 1) % 2];
      const { ms } = await this.reload(launcher, modelsDir, version);
      await this.traffic(launcher, 40);
      await this.retired(launcher);
      const rss = await rssMb(pid);
      samples.push({ cycle, version, reloadMs: ms, rssMb: rss });
      this.o.log(`  reload ${cycle}: ${version} in ${ms} ms, RSS ${rss.toFixed(1)} MB`);
    }
    return { baselineRssMb, samples };
  }

  private async traffic(launcher: FunnelLauncher, requests: number): Promise<void> {
    const user = userAt(this.o.spec, 0);
    for (let i = 0; i < requests; i++) {
      const res = await fetch(`${launcher.url('gateway')}/v1/ads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: user.id,
          surface: 'home_feed',
          country: user.country,
          device: user.device,
          slots: 3,
        }),
      });
      await res.arrayBuffer();
    }
  }

  private async retired(launcher: FunnelLauncher): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const res = await fetch(`${launcher.url('ranking')}/admin/model`, { headers: this.asAdmin() });
      if (((await res.json()) as { retiring: number }).retiring === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the old model pool did not close within 30 s of a reload');
  }

  private asAdmin(): Record<string, string> {
    return { authorization: `Bearer ${this.funnelEnv.ADMIN_TOKEN}` };
  }

  private resolveVersion(modelsDir: string, version: string): Promise<ResolvedModel> {
    return resolveModelVersion(modelsDir, 'ranking', version);
  }

  private async pointer(modelsDir: string, name: string): Promise<string> {
    const path = join(modelsDir, 'ranking', name);
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch {
      throw new Error(
        `${join(this.o.root, 'models', 'ranking', name)} is missing; train the cold-start model with ` +
          'TRAINING_COLD_START=1 npm run train',
      );
    }
  }

  /** Write beside and rename: a reader never sees half a version name. */
  private async point(modelsDir: string, name: string, version: string, model = 'ranking'): Promise<void> {
    const path = join(modelsDir, model, name);
    await writeFile(`${path}.tmp`, `${version}\n`);
    await rename(`${path}.tmp`, path);
  }

  private exec(
    command: string,
    args: string[],
    options: { env?: Record<string, string>; prefix?: string; quiet?: boolean },
  ): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: this.o.root,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...options.env },
      });
      let stdout = '';
      let stderr = '';
      const relay = (chunk: Buffer, sink: 'out' | 'err') => {
        const text = chunk.toString('utf8');
        if (sink === 'out') stdout += text;
        else stderr += text;
        if (options.quiet || !options.prefix) return;
        // The driver's table goes to the JSON file; show its progress and the trainer's epochs.
        if (options.prefix.startsWith('sim') && sink === 'out') return;
        for (const line of text.split('\n'))
          if (line.trim() !== '') this.o.log(`  ${options.prefix}: ${line.trim()}`);
      };
      child.stdout.on('data', (c: Buffer) => relay(c, 'out'));
      child.stderr.on('data', (c: Buffer) => relay(c, 'err'));
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code === 0) resolve({ stdout, stderr });
        else
          reject(
            new Error(
              `${command} ${args.slice(0, 2).join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`,
            ),
          );
      });
    });
  }

  private async cleanRedis(): Promise<void> {
    const redis = new Redis(this.o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.runId}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }

  private step(message: string): void {
    this.o.log(`[${this.elapsed().toFixed(0).padStart(4)} s] ${message}`);
  }

  private elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

function pct(p: number | null): string {
  return p === null ? 'n/a' : `${(p * 100).toFixed(2)}%`;
}
