import type pg from 'pg';
import type { ChaosLoad } from './chaos-load.js';

/** One kind of record: what clients were told was taken, against what the database holds. */
export interface Tally {
  acknowledged: number;
  /** Rows of acknowledged records. */
  stored: number;
  /** Acknowledged, and no row (or a row that says something else). */
  lost: number;
  /** Rows beyond one per record. */
  duplicated: number;
  /** Rows of records no client was told were taken (the answer or the callback never came back). */
  unacknowledgedStored: number;
}

export interface Reconciliation {
  requests: {
    sent: number;
    acknowledged: number;
    failed: Map<string, number>;
    degraded: Map<string, number>;
  };
  servedAds: Tally;
  impressions: Tally;
  clicks: Tally;
  /** Billable acknowledged events (CPM impressions, CPC clicks) against ledger entries. */
  ledger: Tally & { chargedMicros: number; costMicros: number };
  callbacks: { sent: number; unacknowledged: number };
}

/**
 * Counts what the load was told against what the funnel stored, by request id: served_ads rows for
 * the ads of every 200 answer, tracking_events rows for every callback answered 204 / 302, and a
 * ledger entry for every billable one. Polls until nothing acknowledged is missing or timeoutMs has
 * passed (the workers are asynchronous, and a killed worker's jobs wait for their locks to expire).
 */
export async function reconcile(
  db: pg.Client,
  load: ChaosLoad,
  prefix: string,
  timeoutMs: number,
): Promise<Reconciliation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await reconcileOnce(db, load, prefix);
    const missing = result.servedAds.lost + result.impressions.lost + result.clicks.lost + result.ledger.lost;
    if (missing === 0 || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function reconcileOnce(db: pg.Client, load: ChaosLoad, prefix: string): Promise<Reconciliation> {
  const ofRun = `left(request_id, ${prefix.length + 1}) = $1`;
  const params = [`${prefix}-`];
  const served = await db.query<{ request_id: string; slot: number; ad_id: number }>(
    `SELECT request_id, slot, ad_id FROM served_ads WHERE ${ofRun}`,
    params,
  );
  const events = await db.query<{ event_id: string; type: string }>(
    `SELECT event_id, type FROM tracking_events WHERE ${ofRun}`,
    params,
  );
  const ledger = await db.query<{ entry_id: string; charged_micros: string; cost_micros: string }>(
    `SELECT entry_id, charged_micros, cost_micros FROM ledger_entries WHERE ${ofRun}`,
    params,
  );

  const answered = new Map(load.ads.map((ad) => [`${ad.requestId}:${ad.slot}`, ad.adId]));
  const servedRows = groupCount(served.rows.map((row) => `${row.request_id}:${row.slot}`));
  const servedAdIds = new Map(served.rows.map((row) => [`${row.request_id}:${row.slot}`, Number(row.ad_id)]));
  const servedAds = tally(
    [...answered.keys()],
    servedRows,
    (key) => servedAdIds.get(key) === answered.get(key),
  );

  const callbacks = [...load.callbacks.values()];
  const ofType = (type: string) =>
    tally(
      callbacks.filter((c) => c.type === type && c.acknowledged).map((c) => c.eventId),
      groupCount(events.rows.filter((row) => row.type === type).map((row) => row.event_id)),
    );

  const billable = callbacks.filter(
    (c) => c.acknowledged && (c.type === 'impression' ? c.bidType === 'CPM' : c.bidType === 'CPC'),
  );
  const ledgerRows = groupCount(ledger.rows.map((row) => row.entry_id));
  const billed = new Set(billable.map((c) => c.eventId));
  const sum = (column: 'charged_micros' | 'cost_micros') =>
    ledger.rows
      .filter((row) => billed.has(row.entry_id))
      .reduce((total, row) => total + Number(row[column]), 0);

  return {
    requests: {
      sent: load.requestsSent,
      acknowledged: load.acknowledgedRequests,
      failed: load.failed,
      degraded: load.degraded,
    },
    servedAds,
    impressions: ofType('impression'),
    clicks: ofType('click'),
    ledger: {
      ...tally(
        billable.map((c) => c.eventId),
        ledgerRows,
      ),
      chargedMicros: sum('charged_micros'),
      costMicros: sum('cost_micros'),
    },
    callbacks: { sent: load.callbacksSent, unacknowledged: callbacks.filter((c) => !c.acknowledged).length },
  };
}

function tally(
  acknowledged: readonly string[],
  rows: Map<string, number>,
  matches: (key: string) => boolean = () => true,
): Tally {
  const owed = new Set(acknowledged);
  let stored = 0;
  let lost = 0;
  for (const key of owed) {
    if ((rows.get(key) ?? 0) > 0 && matches(key)) stored += 1;
    else lost += 1;
  }
  let duplicated = 0;
  let unacknowledgedStored = 0;
  for (const [key, n] of rows) {
    duplicated += n - 1;
    if (!owed.has(key)) unacknowledgedStored += 1;
  }
  return { acknowledged: owed.size, stored, lost, duplicated, unacknowledgedStored };
}

function groupCount(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** The counts of one scenario as a table, for the test output. */
export function formatReconciliation(title: string, r: Reconciliation): string {
  const failed = [...r.requests.failed].map(([why, n]) => `${why} ${n}`).join(', ') || 'none';
  const degraded = [...r.requests.degraded].map(([why, n]) => `${why} ${n}`).join(', ');
  const header = ['', 'acknowledged', 'in database', 'lost', 'duplicated', 'stored, not acknowledged'];
  const row = (name: string, t: Tally) => [
    name,
    String(t.acknowledged),
    String(t.stored),
    String(t.lost),
    String(t.duplicated),
    String(t.unacknowledgedStored),
  ];
  const rows = [
    header,
    row('served ads', r.servedAds),
    row('impressions', r.impressions),
    row('clicks', r.clicks),
    row('ledger entries', r.ledger),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((cells) => cells[i].length)));
  const lines = rows.map((cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '),
  );
  return [
    `chaos: ${title}`,
    `  requests: ${r.requests.sent} sent, ${r.requests.acknowledged} answered 200 (degraded: ${degraded}), not acknowledged: ${failed}`,
    `  callbacks: ${r.callbacks.sent} sent with retries and replays, ${r.callbacks.unacknowledged} never acknowledged`,
    ...lines.map((line) => `  ${line}`),
    `  billed ${r.ledger.chargedMicros} of ${r.ledger.costMicros} micros`,
    '',
  ].join('\n');
}
