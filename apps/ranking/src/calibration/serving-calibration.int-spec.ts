import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { migrateFunnelDatabase, openFunnelDatabase } from '@adfunnel/event-store';
import { SystemClock } from '@adfunnel/platform';
import { FakeCatalogSnapshots, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { RankingConfigSchema } from '../config.js';
import { ServingCalibration } from './serving-calibration.service.js';

const MODELS_DIR = fileURLToPath(new URL('../../../../models', import.meta.url));

/** The refresh against a real event store (a migrated SQLite file): what it logs, and when. */
describe(`${ServingCalibration.name} on the event store`, () => {
  let dir: string;
  let db: DataSource;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dir = await mkdtemp(path.join(tmpdir(), 'adfunnel-serving-calibration-'));
    db = await openFunnelDatabase({ sqlitePath: path.join(dir, 'funnel.sqlite') });
    await migrateFunnelDatabase(db);
  });

  afterAll(async () => {
    if (db?.isInitialized) await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('refits at debug every refresh, warns when a refit fails and logs when one works again', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const sut = new ServingCalibration(
      RankingConfigSchema.parse({ MODELS_DIR }),
      db,
      new FakeCatalogSnapshots(catalogSnapshot('cat-test')).asService(),
      new SystemClock(),
    );

    await sut.refresh();
    await sut.refresh();
    expect(log).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
    expect(debug.mock.calls.map(([message]) => (message as { msg: string }).msg)).toEqual([
      'calibrators refitted',
      'calibrators refitted',
    ]);

    await db.destroy();
    await sut.refresh();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatchObject({ msg: 'calibration refresh failed' });
    expect(sut.status().lastError).not.toBeNull();

    await db.initialize();
    await sut.refresh();
    expect(log.mock.calls).toEqual([[{ msg: 'calibration refresh works again' }]]);
    expect(sut.status().lastError).toBeNull();
    expect(debug).toHaveBeenCalledTimes(3);
  });
});
