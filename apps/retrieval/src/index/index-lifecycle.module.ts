import { Module } from '@nestjs/common';
import { AdIndexProbe } from './ad-index.probe.js';
import { IndexLifecycleService } from './index-lifecycle.service.js';

@Module({
  providers: [IndexLifecycleService, AdIndexProbe],
  exports: [IndexLifecycleService],
})
export class IndexLifecycleModule {}
