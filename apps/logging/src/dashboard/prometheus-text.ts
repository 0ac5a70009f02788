/** One sample of Prometheus' text exposition format: `name{label="value",...} value`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of a /metrics answer; comments, blank lines and lines that are not samples are skipped. */
export function parseMetricSamples(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = match[3] === '+Inf' ? Infinity : Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sumOf(
  samples: readonly MetricSample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const wanted = Object.entries(labels);
  let sum = 0;
  for (const s of samples) {
    if (s.name === name && wanted.every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

export interface HistogramSummary {
  /** The value of the `by` label this summary is for. */
  readonly key: string;
  readonly count: number;
  /** Seconds; null without observations. */
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly mean: number | null;
}

/**
 * Quantiles of histogram `name` (its `_bucket`, `_count`, `_sum` series) per value of the label `by`,
 * the other labels summed over, as Prometheus' histogram_quantile estimates them: linear within the
 * bucket the rank falls in, the upper bound of the last finite bucket when it falls in +Inf.
 */
export function histogramSummaries(
  samples: readonly MetricSample[],
  name: string,
  by: string,
  where: Readonly<Record<string, string>> = {},
): HistogramSummary[] {
  const wanted = Object.entries(where);
  const groups = new Map<string, { buckets: Map<number, number>; count: number; sum: number }>();
  const groupOf = (key: string) => {
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { buckets: new Map(), count: 0, sum: 0 }));
    return group;
  };
  for (const s of samples) {
    if (!s.name.startsWith(name) || !wanted.every(([k, v]) => s.labels[k] === v)) continue;
    const key = s.labels[by];
    if (key === undefined) continue;
    const suffix = s.name.slice(name.length);
    if (suffix === '_bucket') {
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      if (Number.isNaN(le)) continue;
      const buckets = groupOf(key).buckets;
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    } else if (suffix === '_count') {
      groupOf(key).count += s.value;
    } else if (suffix === '_sum') {
      groupOf(key).sum += s.value;
    }
  }
  return [...groups.entries()].map(([key, g]) => {
    const cumulative = [...g.buckets.entries()].sort((a, b) => a[0] - b[0]);
    return {
      key,
      count: g.count,
      p50: quantile(0.5, cumulative),
      p90: quantile(0.9, cumulative),
      p99: quantile(0.99, cumulative),
      mean: g.count > 0 ? g.sum / g.count : null,
    };
  });
}

/** `buckets`: [upper bound, cumulative count] in increasing bounds, the last +Inf. */
export function quantile(q: number, buckets: readonly (readonly [number, number])[]): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      if (count === lowerCount) return bound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
