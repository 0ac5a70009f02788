import { fitReserve, type ReserveFit } from '@adfunnel/utility';
import type { TopSlotAuction } from './served-top-auctions.js';

/** One fitted reserve: for a surface (every bid type pooled) or `surface.BIDTYPE` (its winners only). */
export interface FittedReserve {
  key: string;
  fit: ReserveFit;
}

/**
 * A reserve per surface, and per surface and winner's bid type, wherever the log has at least
 * `minAuctions` top-slot auctions. `currentCpm` is the reserve the log was served under (USD CPM):
 * competing bids below it were logged as it, so no lower reserve is considered.
 */
export function fitReserves(
  auctions: readonly TopSlotAuction[],
  currentCpm: number,
  minAuctions: number,
): FittedReserve[] {
  const groups = new Map<string, TopSlotAuction[]>();
  const add = (key: string, a: TopSlotAuction) => groups.set(key, [...(groups.get(key) ?? []), a]);
  for (const a of auctions) {
    add(a.surface, a);
    add(`${a.surface}.${a.bidType}`, a);
  }
  const fitted: FittedReserve[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    if (group.length < minAuctions) continue;
    const fit = fitReserve(group, currentCpm / 1000);
    if (fit !== null) fitted.push({ key, fit });
  }
  return fitted;
}

/** The AUCTION_RESERVE_CPM_BY_SURFACE value: the surface-level fits (the auction has no per-bid-type reserve). */
export function reserveEnv(fitted: readonly FittedReserve[]): string {
  return fitted
    .filter((f) => !f.key.includes('.'))
    .map((f) => `${f.key}:${cpm(f.fit.reservePerImpression)}`)
    .join(',');
}

export function reserveTable(fitted: readonly FittedReserve[], currentCpm: number): string {
  if (fitted.length === 0) return 'no surface has enough scored top-slot auctions to fit a reserve\n';
  const header = ['key', 'auctions', 'reserve CPM', 'revenue CPM now', 'at reserve', 'change', 'unfilled'];
  const rows = fitted.map(({ key, fit }) => [
    key,
    String(fit.auctions),
    cpm(fit.reservePerImpression),
    (fit.revenueAtCurrent * 1000).toFixed(4),
    (fit.revenueAtFitted * 1000).toFixed(4),
    fit.revenueAtCurrent > 0
      ? `${(100 * (fit.revenueAtFitted / fit.revenueAtCurrent - 1)).toFixed(1)}%`
      : '-',
    `${(100 * fit.unfilledShare).toFixed(1)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return (
    [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') +
    `\n\nrevenue: mean USD per 1000 top-slot auctions, replayed on the logged competing bids; ` +
    `served under a ${currentCpm} CPM reserve, so none lower is considered\n`
  );
}

/** USD CPM, to the micro-dollar per impression the auction prices in. */
function cpm(perImpression: number): string {
  return String(Math.round(perImpression * 1e6) / 1e3);
}
