import { Module } from '@nestjs/common';
import { AdIndexProbe } from './ad-index.probe.js';
import { IndexLifecycleService } from './index-lifecycle.service.js';

/** The live ad index: built from the catalog snapshot, rebuilt aside on every new catalog version. */
@Module({
  providers: [IndexLifecycleService, AdIndexProbe],
  exports: [IndexLifecycleService],
})
export class IndexLifecycleModule {}
