import type {
  CampaignDiagnostics,
  DashboardCalibration,
  DashboardCampaignRow,
  DashboardCampaigns,
  DashboardFunnel,
  DashboardLatency,
  DashboardPacingCurve,
  DashboardViewer,
  DeliveryStages,
} from '@adfunnel/contracts';
import { ApiError, getJson, session } from './api.js';
import { barChart, timeChart } from './charts.js';

const COLORS = { light: '#b8c4d9', dark: '#2f5fb3', accent: '#d9822b', green: '#3c8d5a' };
/** The most campaigns the spend chart shows side by side. */
const SPEND_CHART_CAMPAIGNS = 12;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

function usd(micros: number): string {
  return `$${(micros / 1e6).toFixed(2)}`;
}

function num(n: number | null): string {
  return n === null ? 'unavailable' : n.toLocaleString('en-US');
}

function ratio(r: number | null): string {
  return r === null ? '–' : r.toFixed(2);
}

/** A table from a header row and body rows of text; every cell is set as text, never as HTML. */
function fillTable(table: HTMLTableElement, head: string[], rows: (string | number)[][]): void {
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const h of head) tr.appendChild(Object.assign(document.createElement('th'), { textContent: h }));
  thead.appendChild(tr);
  const tbody = document.createElement('tbody');
  for (const row of rows) {
    const r = document.createElement('tr');
    for (const cell of row)
      r.appendChild(Object.assign(document.createElement('td'), { textContent: String(cell) }));
    tbody.appendChild(r);
  }
  table.replaceChildren(thead, tbody);
}

/** Runs a panel's load; a failure shows in the panel, the others still load. */
async function panel(section: string, note: string | null, load: () => Promise<void>): Promise<void> {
  const el = byId(section);
  el.dataset['state'] = 'loading';
  try {
    await load();
    el.dataset['state'] = 'ready';
  } catch (error) {
    el.dataset['state'] = 'error';
    const message = error instanceof Error ? error.message : String(error);
    const target = note === null ? null : byId(note);
    if (target !== null) {
      target.textContent = message;
      target.classList.add('error');
    } else {
      el.appendChild(
        Object.assign(document.createElement('p'), { className: 'error', textContent: message }),
      );
    }
  }
}

async function loadFunnel(window: string): Promise<void> {
  const funnel = await getJson<DashboardFunnel>('funnel', { window });
  const down = funnel.services.filter((s) => !s.available).map((s) => s.service);
  const fromMetrics = funnel.stages.some((s) => s.source === 'metrics');
  byId('funnel-note').textContent =
    (fromMetrics ? "Requests to auctioned: the services' counters since they started; served" : 'Served') +
    ` to conversions: the event store, last ${window}.` +
    (down.length > 0 ? ` Unavailable: ${down.join(', ')}.` : '');
  barChart(
    byId('funnel-chart'),
    funnel.stages.map((s) => s.stage),
    [{ label: 'count', values: funnel.stages.map((s) => s.count), color: COLORS.dark, width: 0.7 }],
    'count (log)',
    { log: true },
  );
  fillTable(
    byId('funnel-table'),
    ['stage', 'count', 'from'],
    funnel.stages.map((s) => [s.stage, num(s.count), s.source === 'metrics' ? 'metrics' : 'event store']),
  );
}

async function loadCampaigns(): Promise<readonly DashboardCampaignRow[]> {
  const { campaigns } = await getJson<DashboardCampaigns>('campaigns');
  const top = campaigns.slice(0, SPEND_CHART_CAMPAIGNS);
  barChart(
    byId('spend-chart'),
    top.map((c) => `#${c.campaignId}`),
    [
      {
        label: 'daily budget $',
        values: top.map((c) => c.budgetMicros / 1e6),
        color: COLORS.light,
        width: 0.8,
      },
      { label: 'charged $', values: top.map((c) => c.spendMicros / 1e6), color: COLORS.dark, width: 0.4 },
    ],
    'USD',
  );
  fillTable(
    byId('campaign-table'),
    [
      'campaign',
      'advertiser',
      'status',
      'bid',
      'pacing',
      'day',
      'budget',
      'charged',
      'delivered %',
      'impr.',
      'clicks',
      'conv.',
      'pass-through',
    ],
    campaigns.map((c) => [
      `#${c.campaignId} ${c.name}`,
      c.advertiserId,
      c.status,
      c.bidType,
      c.pacing,
      c.billingDay,
      usd(c.budgetMicros),
      usd(c.spendMicros),
      c.budgetMicros > 0 ? ((100 * c.spendMicros) / c.budgetMicros).toFixed(1) : '0.0',
      c.impressions,
      c.clicks,
      c.conversions,
      c.passThroughRate === null ? '–' : c.passThroughRate.toFixed(2),
    ]),
  );
  const select = byId<HTMLSelectElement>('campaign');
  const previous = select.value;
  select.replaceChildren(
    ...campaigns.map((c) =>
      Object.assign(document.createElement('option'), {
        value: String(c.campaignId),
        textContent: `#${c.campaignId} ${c.name}`,
      }),
    ),
  );
  if (campaigns.some((c) => String(c.campaignId) === previous)) select.value = previous;
  return campaigns;
}

async function loadPacing(campaignId: string): Promise<void> {
  const curve = await getJson<DashboardPacingCurve>(`campaigns/${campaignId}/pacing`);
  byId('pacing-note').textContent =
    `Campaign #${curve.campaignId}, billing day ${curve.day} (${curve.timezone}), budget ${usd(curve.budgetMicros)}: ` +
    `the target spend curve (libs/pacing, ${curve.learntTraffic ? 'traffic learnt from the last days' : 'flat traffic: no history yet'}) ` +
    `against the charged spend (ledger). Pass-through rate now: ${curve.passThroughRate === null ? 'none' : curve.passThroughRate.toFixed(2)}.`;
  timeChart(
    byId('pacing-chart'),
    curve.points.map((p) => p.t / 1000),
    [
      {
        label: 'target $',
        values: curve.points.map((p) => p.targetMicros / 1e6),
        color: COLORS.accent,
        dash: [6, 4],
      },
      {
        label: 'charged $',
        values: curve.points.map((p) => (p.spendMicros === null ? null : p.spendMicros / 1e6)),
        color: COLORS.dark,
      },
    ],
    'USD',
  );
}

const DELIVERY_STAGES: [string, (s: DeliveryStages) => number][] = [
  ['requests', (s) => s.requests],
  ['eligible', (s) => s.eligible],
  ['retrieved', (s) => s.retrieved],
  ['ranked', (s) => s.ranked],
  ['won', (s) => s.auction.won],
  ['served', (s) => s.served],
  ['impressions', (s) => s.impressions],
  ['clicks', (s) => s.clicks],
  ['conversions', (s) => s.conversions],
];

async function loadDelivery(campaignId: string): Promise<void> {
  const delivery = await getJson<CampaignDiagnostics>(`/v1/diagnostics/campaigns/${campaignId}`, {
    minutes: '60',
  });
  byId('delivery-note').textContent =
    `Campaign #${delivery.campaignId} over the last ${delivery.window.minutes} minutes, counted by the serving stages (GET /v1/diagnostics/campaigns/${delivery.campaignId}): ` +
    (delivery.serving ? 'serving.' : 'not serving.');
  barChart(
    byId('delivery-chart'),
    DELIVERY_STAGES.map(([name]) => name),
    [
      {
        label: 'requests',
        values: DELIVERY_STAGES.map(([, of]) => of(delivery.stages)),
        color: COLORS.green,
        width: 0.7,
      },
    ],
    'requests',
  );
  byId('delivery-diagnosis').replaceChildren(
    ...delivery.diagnosis.map((sentence) =>
      Object.assign(document.createElement('li'), { textContent: sentence }),
    ),
  );
  fillTable(
    byId('delivery-reasons'),
    ['top reason', 'requests', 'share'],
    delivery.topReasons.map((r) => [r.reason, r.count, `${(r.share * 100).toFixed(1)}%`]),
  );
}

async function loadCalibration(): Promise<void> {
  const report = await getJson<DashboardCalibration>('calibration', { windowMs: '3600000' });
  barChart(
    byId('calibration-chart'),
    report.surfaces.map((s) => s.surface),
    [
      {
        label: 'model ratio',
        values: report.surfaces.map((s) => s.modelRatio),
        color: COLORS.light,
        width: 0.8,
      },
      {
        label: 'served ratio',
        values: report.surfaces.map((s) => s.servedRatio),
        color: COLORS.accent,
        width: 0.4,
      },
    ],
    'predicted / observed',
  );
  fillTable(
    byId('calibration-table'),
    ['surface', 'impressions', 'clicks', 'expected clicks', 'served ratio', 'model ratio'],
    report.surfaces.map((s) => [
      s.surface,
      s.impressions,
      s.clicks,
      s.expectedClicks.toFixed(1),
      ratio(s.servedRatio),
      ratio(s.modelRatio),
    ]),
  );
}

async function loadLatency(): Promise<void> {
  const latency = await getJson<DashboardLatency>('latency');
  byId('latency-services').replaceChildren(
    ...latency.services.map((s) =>
      Object.assign(document.createElement('li'), {
        className: s.available ? 'available' : 'unavailable',
        textContent: s.available
          ? `${s.service}: answering`
          : `${s.service}: unavailable (${s.error ?? 'no answer'})`,
      }),
    ),
  );
  // The chart: the gateway's phases and each stage's bus handlers, the request's path.
  const rows = latency.rows.filter((r) => r.kind !== 'http' || r.service === 'gateway');
  const label = (r: DashboardLatency['rows'][number]) =>
    r.kind === 'phase' ? r.stage : `${r.service} ${r.stage}`;
  barChart(
    byId('latency-chart'),
    rows.map(label),
    [
      { label: 'p99 ms', values: rows.map((r) => r.p99Ms), color: COLORS.light, width: 0.8 },
      { label: 'p90 ms', values: rows.map((r) => r.p90Ms), color: COLORS.accent, width: 0.55 },
      { label: 'p50 ms', values: rows.map((r) => r.p50Ms), color: COLORS.dark, width: 0.3 },
    ],
    'ms',
  );
  fillTable(
    byId('latency-table'),
    ['service', 'stage', 'count', 'p50 ms', 'p90 ms', 'p99 ms'],
    latency.rows.map((r) => [
      r.service,
      `${r.kind} ${r.stage}`,
      r.count,
      r.p50Ms ?? '–',
      r.p90Ms ?? '–',
      r.p99Ms ?? '–',
    ]),
  );
}

async function loadCampaign(campaignId: string): Promise<void> {
  await Promise.all([
    panel('pacing-panel', 'pacing-note', () => loadPacing(campaignId)),
    panel('delivery-panel', 'delivery-note', () => loadDelivery(campaignId)),
  ]);
}

async function loadAll(viewer: DashboardViewer): Promise<void> {
  document.body.dataset['loaded'] = 'false';
  const window = byId<HTMLSelectElement>('window').value;
  let campaigns: readonly DashboardCampaignRow[] = [];
  await Promise.all([
    panel('funnel-panel', 'funnel-note', () => loadFunnel(window)),
    panel('spend-panel', null, async () => {
      campaigns = await loadCampaigns();
    }),
    ...(viewer.role === 'operator'
      ? [panel('calibration-panel', null, loadCalibration), panel('latency-panel', null, loadLatency)]
      : []),
  ]);
  const selected = byId<HTMLSelectElement>('campaign').value;
  if (campaigns.length > 0 && selected !== '') await loadCampaign(selected);
  document.body.dataset['loaded'] = 'true';
}

async function signIn(): Promise<void> {
  let viewer: DashboardViewer;
  try {
    viewer = await getJson<DashboardViewer>('session');
  } catch (error) {
    session.clear();
    byId('login').hidden = false;
    byId('panels').hidden = true;
    byId('login-error').textContent =
      error instanceof ApiError
        ? error.message
        : `the dashboard could not reach the service: ${String(error)}`;
    return;
  }
  document.body.dataset['role'] = viewer.role;
  byId('login').hidden = true;
  byId('panels').hidden = false;
  byId('refresh').hidden = false;
  byId('sign-out').hidden = false;
  byId('viewer').textContent =
    viewer.role === 'operator' ? 'Operator: every advertiser' : `Advertiser ${viewer.advertiserId}`;
  for (const el of document.querySelectorAll<HTMLElement>('[data-operator]'))
    el.hidden = viewer.role !== 'operator';
  const reload = () => void loadAll(viewer);
  byId('refresh').onclick = reload;
  byId('window').onchange = reload;
  byId<HTMLSelectElement>('campaign').onchange = (event) =>
    void loadCampaign((event.target as HTMLSelectElement).value);
  await loadAll(viewer);
}

byId<HTMLFormElement>('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId<HTMLInputElement>('token').value.trim();
  if (token === '') return;
  session.save(token);
  byId<HTMLInputElement>('token').value = '';
  byId('login-error').textContent = '';
  void signIn();
});
byId('sign-out').addEventListener('click', () => {
  session.clear();
  location.reload();
});
if (session.token() !== null) void signIn();
