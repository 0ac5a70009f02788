import { type HealthProbe, RegisterHealthProbe } from '@adfunnel/platform';
import { Injectable } from '@nestjs/common';
import { IndexLifecycleService } from './index-lifecycle.service.js';

/**
 * Up once an index serves. Details: which index (version, catalog version, embedding version), its
 * size and soft-deleted points, whether it was loaded at start or built and how long that took,
 * the last change, save and failure (a failed change keeps the previous state serving).
 */
@Injectable()
@RegisterHealthProbe()
export class AdIndexProbe implements HealthProbe {
  readonly name = 'index';

  constructor(private readonly lifecycle: IndexLifecycleService) {}

  check(): Promise<Record<string, unknown>> {
    const { index, building, lastFailure, lifecycle } = this.lifecycle.status();
    if (index === undefined) {
      const reason = lastFailure === undefined ? 'not built yet' : `build failed: ${lastFailure.message}`;
      return Promise.reject(new Error(`ad index ${reason}`));
    }
    const startup = lifecycle.startup;
    return Promise.resolve({
      version: index.version,
      catalogVersion: index.catalogVersion,
      embeddingVersion: index.embeddingVersion,
      size: index.size,
      deleted: index.deleted,
      deletedShare: Math.round(index.deletedShare * 1000) / 1000,
      buckets: index.buckets,
      buildMs: Math.round(index.buildMs),
      efSearch: index.efSearch,
      exactThreshold: index.exactThreshold,
      building,
      origin: startup?.how ?? index.origin.kind,
      startMs: startup === undefined ? undefined : Math.round(startup.ms),
      ...(startup?.loadMs === undefined ? {} : { loadMs: Math.round(startup.loadMs) }),
      ...(startup?.why === undefined ? {} : { builtBecause: startup.why }),
      ...(startup?.applied === undefined ? {} : { appliedAtStart: startup.applied }),
      changedSinceBuild: index.changedSinceBuild,
      dir: lifecycle.dir ?? null,
      ...(lifecycle.lastChange === undefined ? {} : { lastChange: lifecycle.lastChange }),
      ...(lifecycle.lastSave === undefined ? {} : { lastSave: lifecycle.lastSave }),
      ...(lifecycle.saveFailure === undefined ? {} : { saveFailure: lifecycle.saveFailure }),
      ...(lastFailure === undefined ? {} : { lastFailure }),
    });
  }
}
