import { Module } from '@nestjs/common';
import { AdIndexProbe } from './ad-index.probe.js';
import { IndexLifecycleService } from './index-lifecycle.service.js';
import { IndexStore } from './index-store.js';

@Module({
  providers: [IndexStore, IndexLifecycleService, AdIndexProbe],
  exports: [IndexLifecycleService, IndexStore],
})
export class IndexLifecycleModule {}
