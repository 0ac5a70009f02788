import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AdvertiserApiKeyService,
  type CatalogCounts,
  catalogCounts,
  migrationsPending,
  redact,
} from '@adfunnel/catalog';
import type { ApiKeysFile } from '@adfunnel/contracts';
import {
  type EventStoreCounts,
  eventStoreCounts,
  funnelMigrationsPending,
  migrateFunnelDatabase,
} from '@adfunnel/event-store';
import { readSeededSpec, seedCatalog } from '@adfunnel/catalog-seed';
import { DEMO_MARKETPLACE, type MarketplaceSpec } from '@adfunnel/simulator';
import type { DataSource } from 'typeorm';
import type { ApiKeysArgs, CatalogCliArgs } from './catalog-cli-args.js';

export interface CatalogStatus {
  database: string;
  pendingMigrations: string[];
  counts: (CatalogCounts & EventStoreCounts) | null;
  seededSpec: MarketplaceSpec | null;
}

/** The CLI's commands against an open DataSource; output goes through `print`, one line per call. */
export class CatalogCommands {
  constructor(
    private readonly ds: DataSource,
    private readonly print: (line: string) => void,
  ) {}

  async migrate(): Promise<void> {
    const applied = await migrateFunnelDatabase(this.ds);
    this.print(
      applied.length === 0
        ? `schema up to date on ${this.describeDatabase()}`
        : `applied ${applied.length} migration${applied.length === 1 ? '' : 's'} on ${this.describeDatabase()}: ${applied.join(', ')}`,
    );
  }

  async seed(args: Pick<CatalogCliArgs, 'ifEmpty' | 'overrides' | 'batchSize'>): Promise<void> {
    const spec: MarketplaceSpec = { ...DEMO_MARKETPLACE, ...args.overrides };
    if (args.ifEmpty) {
      const pending = await migrationsPending(this.ds);
      if (pending.length === 0) {
        const counts = await catalogCounts(this.ds);
        if (counts.ads > 0) {
          this.print(`catalog already has ${counts.ads} ads; --if-empty: not seeding`);
          return;
        }
      }
    }
    const report = await seedCatalog(
      this.ds,
      spec,
      args.batchSize === undefined ? {} : { batchSize: args.batchSize },
    );
    const t = report.tables;
    this.print(
      report.alreadySeeded
        ? `catalog already seeded from ${JSON.stringify(report.spec)}; nothing inserted`
        : `seeded ${JSON.stringify(report.spec)} on ${this.describeDatabase()} in ${(report.ms / 1000).toFixed(2)} s: ` +
            `${t.advertisers.inserted} advertisers, ${t.campaigns.inserted} campaigns, ${t.ads.inserted} ads, ` +
            `${t.userProfiles.inserted} user profiles inserted`,
    );
  }

  async status(json: boolean): Promise<CatalogStatus> {
    const catalogMigrated = (await migrationsPending(this.ds)).length === 0;
    const pendingMigrations = await funnelMigrationsPending(this.ds);
    const migrated = pendingMigrations.length === 0;
    const status: CatalogStatus = {
      database: this.describeDatabase(),
      pendingMigrations,
      counts: migrated ? { ...(await catalogCounts(this.ds)), ...(await eventStoreCounts(this.ds)) } : null,
      seededSpec: catalogMigrated ? await readSeededSpec(this.ds) : null,
    };
    if (json) {
      this.print(JSON.stringify(status, null, 2));
      return status;
    }
    this.print(`database            ${status.database}`);
    this.print(
      `pending migrations  ${pendingMigrations.length === 0 ? 'none' : `${pendingMigrations.length} (${pendingMigrations.join(', ')}); run \`npm run catalog -- migrate\``}`,
    );
    if (status.counts !== null) {
      const c = status.counts;
      this.print(`advertisers         ${c.advertisers}`);
      this.print(`campaigns           ${c.campaigns}`);
      this.print(`ads                 ${c.ads}`);
      this.print(`user profiles       ${c.userProfiles}`);
      this.print(`tracking events     ${c.trackingEvents}`);
      this.print(`served ads          ${c.servedAds}`);
      this.print(`ledger entries      ${c.ledgerEntries} (${c.campaignDays} campaign-days)`);
    }
    this.print(
      `seeded from         ${status.seededSpec === null ? '(not seeded)' : JSON.stringify(status.seededSpec)}`,
    );
    return status;
  }

  /**
   * Issues, lists or revokes advertiser API keys; an issued key is printed (or written to --out)
   * once, never stored, and a list shows what is kept of a key: its hash, label and dates.
   */
  async apiKeys(args: ApiKeysArgs): Promise<ApiKeysFile | null> {
    const keys = new AdvertiserApiKeyService(this.ds);
    if (args.action === 'list') {
      const known = await keys.advertiserIds();
      const ids = args.advertisers === 'all' ? known : args.advertisers;
      const missing = ids.filter((id) => !known.includes(id));
      if (missing.length > 0) throw new Error(`no advertiser ${missing.join(', ')} in the catalog`);
      for (const id of ids) {
        const listed = await keys.keysOf(id);
        if (listed.length === 0) this.print(`advertiser ${id}  no API keys`);
        for (const k of listed) {
          const state = k.revokedAt === null ? 'active' : `revoked ${new Date(k.revokedAt).toISOString()}`;
          this.print(
            `advertiser ${id}  sha256 ${k.keyHash}  ${JSON.stringify(k.label)}  issued ${new Date(k.createdAt).toISOString()}  ${state}`,
          );
        }
      }
      return null;
    }
    if (args.action === 'revoke') {
      const outcome = await keys.revoke(args.keyHash);
      if (outcome === 'unknown') throw new Error(`no API key with hash ${args.keyHash}`);
      this.print(
        outcome === 'revoked'
          ? `API key ${args.keyHash} revoked; conversions posted with it are refused from now on`
          : `API key ${args.keyHash} was already revoked`,
      );
      return null;
    }
    // Opened before issuing, so a file that exists or cannot be written costs no keys.
    const out = args.out === undefined ? undefined : await createSecretFile(args.out);
    try {
      const ids = args.advertisers === 'all' ? await keys.advertiserIds() : args.advertisers;
      if (ids.length === 0) throw new Error('the catalog has no advertisers; run `npm run catalog -- seed`');
      const issued = await keys.issue(ids, args.label);
      const file: ApiKeysFile = {
        label: args.label,
        issuedAt: new Date(issued[0].createdAt).toISOString(),
        keys: issued.map(({ advertiserId, key, keyHash }) => ({ advertiserId, key, keyHash })),
      };
      const count = `${issued.length} API key${issued.length === 1 ? '' : 's'} labelled "${args.label}"`;
      if (out !== undefined) {
        await out.handle.writeFile(`${JSON.stringify(file, null, 2)}\n`, 'utf8');
        this.print(`issued ${count}; wrote them to ${out.path} (mode 600). Only their SHA-256 is stored.`);
      } else {
        this.print(`issued ${count}. Each key is shown only now; only its SHA-256 is stored:`);
        for (const k of issued) this.print(`advertiser ${k.advertiserId}  ${k.key}  sha256 ${k.keyHash}`);
      }
      return file;
    } catch (error) {
      if (out !== undefined) await rm(out.path, { force: true });
      throw error;
    } finally {
      await out?.handle.close();
    }
  }

  private describeDatabase(): string {
    const options = this.ds.options;
    if (options.type === 'postgres') {
      const schema = options.schema === undefined ? '' : ` (schema ${options.schema})`;
      return `PostgreSQL ${redact(options.url ?? '')}${schema}`;
    }
    return `SQLite ${String(options.database)}`;
  }
}

/** A new file only its owner can read; refuses to replace an existing one (it may hold the only copy of live keys). */
async function createSecretFile(path: string): Promise<{ path: string; handle: FileHandle }> {
  await mkdir(dirname(path), { recursive: true });
  try {
    return { path, handle: await open(path, 'wx', 0o600) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new Error(
        `${path} already exists; choose another --out, or move it away first (it may hold live keys)`,
        { cause: error },
      );
    }
    throw error;
  }
}
