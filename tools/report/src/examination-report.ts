import { fitExamination, type ExaminationFit } from '@adfunnel/utility';
import type { SlotClickTotal } from './slot-click-totals.js';

/** One fitted curve: for a surface (all devices pooled) or one device of it. */
export interface ExaminationCurve {
  /** `search` or `search.mobile`: the key AUCTION_EXAMINATION_FILE and _BY_SURFACE read. */
  key: string;
  fit: ExaminationFit;
}

/** A curve per surface and per surface.device wherever slot 0 has enough impressions to fit one. */
export function examinationCurves(
  totals: readonly SlotClickTotal[],
  minImpressions: number,
): ExaminationCurve[] {
  const groups = new Map<string, SlotClickTotal[]>();
  const add = (key: string, row: SlotClickTotal) => groups.set(key, [...(groups.get(key) ?? []), row]);
  for (const row of totals) {
    add(row.surface, row);
    add(`${row.surface}.${row.device}`, row);
  }
  const curves: ExaminationCurve[] = [];
  for (const key of [...groups.keys()].sort()) {
    const fit = fitExamination(groups.get(key)!, { minImpressions });
    if (fit !== null) curves.push({ key, fit });
  }
  return curves;
}

/** The AUCTION_EXAMINATION_FILE contents: curves by key, rounded to 4 decimals. */
export function examinationFile(curves: readonly ExaminationCurve[]): Record<string, number[]> {
  return Object.fromEntries(curves.map((c) => [c.key, c.fit.examination.map(round4)]));
}

/** The same curves as one AUCTION_EXAMINATION_BY_SURFACE value. */
export function examinationEnv(curves: readonly ExaminationCurve[]): string {
  return curves.map((c) => `${c.key}:${c.fit.examination.map(round4).join('|')}`).join(',');
}

export function examinationTable(curves: readonly ExaminationCurve[]): string {
  if (curves.length === 0)
    return 'no surface has enough scored slot-0 impressions with clicks to fit a curve\n';
  const header = ['key', 'slot', 'impr', 'clicks', 'expected', 'ratio', 'examination'];
  const rows = curves.flatMap((c) =>
    c.fit.slots.map((s) => [
      c.key,
      String(s.slot),
      String(s.impressions),
      String(s.clicks),
      s.expectedClicks.toFixed(1),
      s.ratio.toFixed(3),
      s.examination.toFixed(3),
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
