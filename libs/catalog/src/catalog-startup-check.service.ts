import { AdfunnelError } from '@adfunnel/contracts';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { migrationsPending } from './catalog-data-source.js';
import { CATALOG_MODULE_OPTIONS } from './catalog-module-options.js';
import type { CatalogModuleOptions } from './database-config.js';
import { AdEntity } from './entities/ad.entity.js';

/** Refuses to let an app start on an unmigrated or (where ads are needed) empty catalog. */
@Injectable()
export class CatalogStartupCheck {
  private readonly logger = new Logger(CatalogStartupCheck.name);
  private checked: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CATALOG_MODULE_OPTIONS) private readonly options: Pick<CatalogModuleOptions, 'requireAds'>,
  ) {}

  /** Runs the check once per process; later calls return the same outcome. */
  assertReady(): Promise<void> {
    this.checked ??= this.check();
    return this.checked;
  }

  private async check(): Promise<void> {
    const pending = await migrationsPending(this.dataSource);
    if (pending.length > 0) {
      throw new AdfunnelError(
        'not_ready',
        `database has ${pending.length} pending migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}); ` +
          'run `npm run catalog -- migrate`',
      );
    }
    const ads = await this.dataSource.getRepository(AdEntity).count();
    if (ads === 0 && (this.options.requireAds ?? true)) {
      throw new AdfunnelError('not_ready', 'catalog is empty; run `npm run catalog -- seed`');
    }
    this.logger.log(`catalog schema up to date; ${ads} ads`);
  }
}
