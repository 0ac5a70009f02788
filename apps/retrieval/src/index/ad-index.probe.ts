import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { IndexLifecycleService } from './index-lifecycle.service.js';

/** Up once an index serves; a failed rebuild shows in the details while the previous index keeps serving. */
@Injectable()
@RegisterHealthProbe()
export class AdIndexProbe implements HealthProbe {
  readonly name = 'index';

  constructor(private readonly lifecycle: IndexLifecycleService) {}

  check(): Promise<Record<string, unknown>> {
    const { index, building, lastFailure } = this.lifecycle.status();
    if (index === undefined) {
      const reason = lastFailure === undefined ? 'not built yet' : `build failed: ${lastFailure.message}`;
      return Promise.reject(new Error(`ad index ${reason}`));
    }
    return Promise.resolve({
      version: index.version,
      catalogVersion: index.catalogVersion,
      size: index.size,
      buckets: index.buckets,
      buildMs: Math.round(index.buildMs),
      efSearch: index.efSearch,
      exactThreshold: index.exactThreshold,
      building,
      ...(lastFailure === undefined ? {} : { lastFailure }),
    });
  }
}
