import { Global, Module } from '@nestjs/common';
import { IndexLifecycleService } from './index-lifecycle.service.js';

/** Global so that the health module's index probe can reach the live index. */
@Global()
@Module({
  providers: [IndexLifecycleService],
  exports: [IndexLifecycleService],
})
export class IndexLifecycleModule {}
