import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EventType, SURFACES } from '@adfunnel/contracts';
import {
  ServedAdEntity,
  TrackingEventEntity,
  migrateFunnelDatabase,
  openFunnelDatabase,
} from '@adfunnel/event-store';
import { FEATURE_SPEC } from '@adfunnel/features';
import { OnnxWorkerPool, rankingOutputsOf, resolveModelVersion } from '@adfunnel/models';
import { Rng } from '@adfunnel/simulator';
import type { DataSource } from 'typeorm';
import { type DatasetMeta } from './dataset-files.js';
import { exportServedDataset, requestHash } from './served-export.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DIM = FEATURE_SPEC.dim;
/** `npm test` exports the Python it checked can import torch and numpy (tools/scripts/ensure-python.sh). */
const TRAINING_PYTHON = process.env['PYTHON'] ?? '/usr/bin/python3';
const REQUESTS = 240;
const SLOTS = 3;

interface Shown {
  id: string;
  requestId: string;
  slot: number;
  surface: string;
  features: number[];
  impression: boolean;
  click: boolean;
  conversion: boolean;
  hidden: boolean;
}

/** A served row as logging stores it, features rounded to float32 as ranking computed them. */
function servedFactory(rng: Rng, requestId: string, slot: number, withFeatures: boolean): ServedAdEntity {
  const features = Array.from({ length: DIM }, () => Math.fround(rng.next()));
  return {
    id: `${requestId}:${slot}`,
    requestId,
    servedAt: Date.UTC(2026, 0, 1) + Number(requestId.split('-')[1]) * 1000,
    userId: 'u00001',
    surface: SURFACES[Number(requestId.split('-')[1]) % SURFACES.length],
    country: 'US',
    device: 'mobile',
    slot,
    adId: 100 + slot,
    campaignId: 7,
    advertiserId: 3,
    bidType: 'CPC',
    bid: 1,
    price: 0.5,
    pCtr: 0.05,
    pCtrRaw: null,
    pCvr: 0.1,
    pHide: null,
    modelVersion: 'cold',
    degraded: [],
    features: withFeatures ? features : null,
    featureDim: withFeatures ? DIM : null,
  };
}

function eventFactory(row: ServedAdEntity, type: EventType): TrackingEventEntity {
  return {
    eventId: `${row.id}:${type}`,
    type,
    requestId: row.requestId,
    userId: row.userId,
    adId: row.adId,
    campaignId: row.campaignId,
    advertiserId: row.advertiserId,
    slot: row.slot,
    bidType: row.bidType,
    price: row.price,
    cost: type === 'click' ? row.price : 0,
    billingDay: null,
    clickEventId: null,
    conversionId: null,
    budgetSlice: null,
    servedAt: row.servedAt,
    occurredAt: row.servedAt + 10,
    receivedAt: row.servedAt + 20,
  };
}

/**
 * The export and training round trip on a small log: served rows and tracking events in a real
 * SQLite catalog, exported by export-served, trained by train_ranker.py (one short run), and the
 * model loaded the way ranking loads it.
 */
describe('served-ad export and training round trip', () => {
  let dir: string;
  let ds: DataSource;
  const shown: Shown[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adfunnel-export-'));
    ds = await openFunnelDatabase({ sqlitePath: join(dir, 'catalog.sqlite') });
    await migrateFunnelDatabase(ds);
    const rng = new Rng(5);
    const served: ServedAdEntity[] = [];
    const events: TrackingEventEntity[] = [];
    for (let r = 0; r < REQUESTS; r++) {
      const requestId = `req-${r}`;
      const ranked = r % 20 !== 19; // one answer in 20 unranked: no features, nothing to learn from
      for (let slot = 0; slot < SLOTS; slot++) {
        const row = servedFactory(rng, requestId, slot, ranked);
        served.push(row);
        const impression = !(r % 10 === 3 && slot === 2); // an ad the client never rendered
        // Clicks follow the first feature, so a model can learn something.
        const click = impression && rng.next() < 0.05 + 0.5 * (row.features?.[0] ?? 0) ** 2;
        const conversion = click && rng.next() < 0.3;
        // Hides follow the second feature; one client also sends a hide after a click, which stays a click.
        const hideSent = impression && (click ? r % 7 === 0 : rng.next() < 0.4 * (row.features?.[1] ?? 0));
        if (impression) events.push(eventFactory(row, 'impression'));
        if (click) events.push(eventFactory(row, 'click'));
        if (conversion) events.push(eventFactory(row, 'conversion'));
        if (hideSent) events.push(eventFactory(row, 'hide'));
        if (ranked && impression) {
          shown.push({
            id: row.id,
            requestId,
            slot,
            surface: row.surface,
            features: row.features!,
            impression,
            click,
            conversion,
            hidden: hideSent && !click,
          });
        }
      }
    }
    await ds.getRepository(ServedAdEntity).save(served, { chunk: 100 });
    await ds.getRepository(TrackingEventEntity).save(events, { chunk: 100 });
  });

  afterAll(async () => {
    await ds?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('writes every shown, ranked ad once with the exact features and its labels, split by request', async () => {
    const out = join(dir, 'data');
    const report = await exportServedDataset(ds, { out, validationFraction: 0.25, batchSize: 64 });

    expect(report.read).toBe(shown.length);
    expect(report.train.rows + report.validation.rows).toBe(shown.length);
    expect(report.modelVersions).toEqual({ cold: shown.length });
    const byId = [...shown].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const expected = {
      train: byId.filter((s) => requestHash(s.requestId) >= 0.25),
      validation: byId.filter((s) => requestHash(s.requestId) < 0.25),
    };
    for (const split of ['train', 'validation'] as const) {
      const meta = JSON.parse(await readFile(join(out, split, 'meta.json'), 'utf8')) as DatasetMeta;
      const rows = expected[split];
      expect(meta).toMatchObject({
        format: 'adfunnel-ranking-clicks',
        formatVersion: 1,
        split,
        rows: rows.length,
      });
      expect(meta.source).toMatchObject({ kind: 'served-log', validationFraction: 0.25 });
      const features = new Float32Array((await readFile(join(out, split, 'features.f32'))).buffer.slice(0));
      const labels = new Float32Array((await readFile(join(out, split, 'labels.f32'))).buffer.slice(0));
      const context = new Int32Array((await readFile(join(out, split, 'context.i32'))).buffer.slice(0));
      expect(features).toHaveLength(rows.length * DIM);
      rows.forEach((s, i) => {
        expect(Array.from(features.subarray(i * DIM, (i + 1) * DIM))).toEqual(s.features);
        const [click, conversion, trueCtr, trueCvr, hidden, trueHide] = labels.subarray(i * 6, (i + 1) * 6);
        expect([click, conversion, hidden]).toEqual([
          s.click ? 1 : 0,
          s.conversion ? 1 : 0,
          s.hidden ? 1 : 0,
        ]);
        expect([trueCtr, trueCvr, trueHide].every(Number.isNaN)).toBe(true);
        expect([context[i * 2], meta.columns.context!.surfaces[context[i * 2 + 1]]]).toEqual([
          s.slot,
          s.surface,
        ]);
      });
      expect(meta.columns.labels.names).toContain('hidden');
      expect(meta.summary.clicks).toBe(rows.filter((s) => s.click).length);
      expect(meta.summary.hides).toBe(rows.filter((s) => s.hidden).length);
      expect(meta.summary.hides).toBeGreaterThan(0);
    }
  });

  it('honours the time window and the model version filter', async () => {
    const since = Date.UTC(2026, 0, 1) + 100 * 1000;
    const report = await exportServedDataset(ds, { out: join(dir, 'window'), since, validationFraction: 0 });
    expect(report.read).toBe(shown.filter((s) => Number(s.requestId.split('-')[1]) >= 100).length);

    const none = await exportServedDataset(ds, { out: join(dir, 'none'), modelVersion: 'other' });
    expect(none.read).toBe(0);
  });

  it('trains on the export and gives a model ranking can load and score with', async () => {
    const data = join(dir, 'data');
    const models = join(dir, 'models');
    const output = execFileSync(
      TRAINING_PYTHON,
      [
        join(REPO, 'tools/training/train_ranker.py'),
        '--data',
        data,
        '--out-root',
        join(models, 'ranking'),
        '--epochs',
        '3',
        '--batch-size',
        '64',
        '--hidden',
        '16',
        '--head',
        '8',
        '--parity-rows',
        '4',
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(output).toMatch(/bayes floor n\/a/);
    expect(output).toMatch(/P\(examine \| slot, surface\) learnt/);
    const [version] = (await readdir(join(models, 'ranking'))).filter((f) => f !== 'current');
    const model = await resolveModelVersion(models, 'ranking', version);
    expect(model.manifest.metrics['ctr']).toMatchObject({ bayesLogloss: null });
    expect(output).toMatch(/validation hide: auc/);
    expect(model.manifest.outputs.map((o) => o.name)).toEqual(['p_ctr', 'p_cvr', 'p_hide']);
    expect(model.manifest.metrics['hide']).toMatchObject({ bayesLogloss: null });
    expect(model.manifest.trainingData).toMatchObject({ source: { kind: 'served-log' } });

    const parity = JSON.parse(await readFile(join(model.dir, 'parity.json'), 'utf8')) as {
      rows: number;
      features: number[][];
      pCtr: number[];
      pHide: number[];
    };
    const pool = await OnnxWorkerPool.open({
      modelPath: model.modelPath,
      dim: DIM,
      workers: 1,
      outputNames: rankingOutputsOf(model.manifest),
    });
    try {
      const scores = await pool.run(Float32Array.from(parity.features.flat()), parity.rows, DIM);
      parity.pCtr.forEach((p, i) => expect(scores.pCtr[i]).toBeCloseTo(p, 5));
      parity.pHide.forEach((p, i) => expect(scores.pHide![i]).toBeCloseTo(p, 5));
      for (const p of scores.pCtr) expect(p > 0 && p < 1).toBe(true);
    } finally {
      await pool.close();
    }
  }, 120_000);
});
