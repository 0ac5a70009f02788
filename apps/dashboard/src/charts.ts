import uPlot from 'uplot';

export interface BarSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Share of a category's width, so that narrower series stand in front of wider ones. */
  width: number;
}

const charts = new Map<HTMLElement, uPlot>();

function widthOf(el: HTMLElement): number {
  return Math.max(320, el.clientWidth || el.parentElement?.clientWidth || 600);
}

/** Replaces the chart in `el`; `el.dataset.points` says how many values it drew, for a reader or a test. */
function mount(el: HTMLElement, opts: uPlot.Options, data: uPlot.AlignedData): void {
  charts.get(el)?.destroy();
  el.replaceChildren();
  charts.set(el, new uPlot(opts, data, el));
  let points = 0;
  for (const series of data.slice(1)) {
    for (const v of series as Iterable<number | null | undefined>)
      if (v !== null && v !== undefined) points++;
  }
  el.dataset['points'] = String(points);
}

/** Categories along x, one bar per series in each, overlaid from the widest (behind) to the narrowest. */
export function barChart(
  el: HTMLElement,
  categories: string[],
  series: BarSeries[],
  yLabel: string,
  { log = false }: { log?: boolean } = {},
): void {
  const xs = categories.map((_, i) => i);
  const ordered = [...series].sort((a, b) => b.width - a.width);
  mount(
    el,
    {
      width: widthOf(el),
      height: 260,
      scales: {
        x: { time: false, range: [-0.5, Math.max(0.5, categories.length - 0.5)] },
        // A log scale for counts that fall by orders of magnitude along a funnel; 0 has no place on it.
        y: log
          ? { distr: 3, range: (_u, _min, max) => [1, Math.max(10, max * 2)] }
          : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? (categories[t] ?? '') : '')),
          space: 10,
          rotate: categories.length > 6 ? -30 : 0,
          size: categories.length > 6 ? 70 : 40,
        },
        { label: yLabel, size: 60 },
      ],
      series: [
        // The legend names the category under the cursor instead of its index.
        { label: '', value: (_u: uPlot, x: number | null) => (x === null ? '--' : (categories[x] ?? '')) },
        ...ordered.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.color,
          width: 0,
          points: { show: false },
          paths: uPlot.paths.bars?.({ size: [s.width, Infinity], align: 0 }),
        })),
      ],
      legend: { show: true },
      cursor: { points: { show: false } },
    },
    [xs, ...ordered.map((s) => (log ? s.values.map((v) => (v !== null && v > 0 ? v : null)) : s.values))],
  );
}

export interface LineSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

/** Lines over time (x in epoch seconds). */
export function timeChart(el: HTMLElement, times: number[], series: LineSeries[], yLabel: string): void {
  mount(
    el,
    {
      width: widthOf(el),
      height: 260,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      axes: [{}, { label: yLabel, size: 60 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(s.dash ? { dash: s.dash } : {}),
          spanGaps: false,
        })),
      ],
    },
    [times, ...series.map((s) => s.values)],
  );
}
