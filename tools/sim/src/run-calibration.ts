import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/** Predicted / observed clicks of one surface, from logging's calibration monitor. */
export interface SurfaceCalibration {
  surface: string;
  impressions: number;
  clicks: number;
  /** The model's own pCTR, position accounted for (1 is calibrated); null without clicks. */
  model: number | null;
  /** pCTR as served (calibrated where ranking had a calibrator): what the auction priced with. */
  served: number | null;
  servedCi95: [number, number | null] | null;
  /** The impressions ranking calibrated, alone: the model against the stage on the same ones. */
  calibrated: { impressions: number; model: number | null; served: number | null };
}

/** The run's calibration as logging measured it on the run's own requests (`sim-<run id>-`). */
export interface RunCalibration {
  impressions: number;
  calibratedShare: number;
  bySurface: SurfaceCalibration[];
}

const Group = z.object({
  key: z.string(),
  impressions: z.number(),
  clicks: z.number(),
  ratio: z.number().nullable(),
  ci95: z.tuple([z.number(), z.number().nullable()]).nullable(),
});
/** The part of GET /v1/reports/calibration read here (apps/logging CalibrationMonitor). */
const MonitorSchema = z.object({
  window: z.object({ impressions: z.number(), calibratedShare: z.number() }),
  served: z.object({ bySurface: z.array(Group) }),
  model: z.object({ bySurface: z.array(Group) }),
});
type Monitor = z.infer<typeof MonitorSchema>;

export interface RunCalibrationOptions {
  loggingUrl: string;
  adminToken: string;
  requestIdPrefix: string;
  /** Impressions the driver fired: the report is read once logging holds them (or after `waitMs`). */
  impressions: number;
  waitMs?: number;
}

/** Reads the monitor for the run's requests: all of them, then only those ranking calibrated. */
export async function readRunCalibration(o: RunCalibrationOptions): Promise<RunCalibration> {
  const read = async (calibrated: boolean): Promise<Monitor> => {
    const query = new URLSearchParams({
      requestIdPrefix: o.requestIdPrefix,
      windowMs: String(30 * 86_400_000),
      limit: '500000',
      ...(calibrated ? { calibrated: 'true' } : {}),
    });
    const url = `${o.loggingUrl.replace(/\/+$/, '')}/v1/reports/calibration?${query.toString()}`;
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${o.adminToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) {
      throw new Error(`GET ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    }
    return MonitorSchema.parse(await response.json());
  };
  const deadline = Date.now() + (o.waitMs ?? 15_000);
  let all = await read(false);
  while (all.window.impressions < o.impressions && Date.now() < deadline) {
    await sleep(500);
    all = await read(false);
  }
  const calibrated = await read(true);
  const byKey = (groups: Monitor['served']['bySurface']) => new Map(groups.map((g) => [g.key, g]));
  const calibratedModel = byKey(calibrated.model.bySurface);
  const calibratedServed = byKey(calibrated.served.bySurface);
  const model = byKey(all.model.bySurface);
  return {
    impressions: all.window.impressions,
    calibratedShare: all.window.calibratedShare,
    bySurface: all.served.bySurface.map((g) => ({
      surface: g.key,
      impressions: g.impressions,
      clicks: g.clicks,
      model: model.get(g.key)?.ratio ?? null,
      served: g.ratio,
      servedCi95: g.ci95,
      calibrated: {
        impressions: calibratedServed.get(g.key)?.impressions ?? 0,
        model: calibratedModel.get(g.key)?.ratio ?? null,
        served: calibratedServed.get(g.key)?.ratio ?? null,
      },
    })),
  };
}

/** Table rows: per surface, model and served predicted / observed, and the same on calibrated impressions. */
export function calibrationRows(c: RunCalibration): [string, string][] {
  const ratio = (x: number | null) => (x === null ? '-' : x.toFixed(3));
  const rows: [string, string][] = [
    [
      'calibrated impressions',
      `${(100 * c.calibratedShare).toFixed(1)}% of ${c.impressions.toLocaleString('en-US')}`,
    ],
  ];
  for (const s of c.bySurface) {
    const ci = s.servedCi95 === null ? '' : ` [${ratio(s.servedCi95[0])}, ${ratio(s.servedCi95[1])}]`;
    rows.push([
      `${s.surface} predicted/observed`,
      `model ${ratio(s.model)}, served ${ratio(s.served)}${ci} (${s.clicks} clicks); ` +
        `calibrated only: model ${ratio(s.calibrated.model)}, served ${ratio(s.calibrated.served)}`,
    ]);
  }
  return rows;
}
