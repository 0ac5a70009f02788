/** What a PromQL expression reads: the series it selects (with their matcher labels) and its grouping labels. */
export interface PromqlReferences {
  selectors: { metric: string; labels: string[] }[];
  groupingLabels: string[];
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * The metric names and labels a PromQL expression refers to, enough to check a dashboard against the
 * metrics the services register: strings, ranges and Grafana's `$variables` are taken out, grouping
 * clauses (`by (...)`, `on (...)`) give labels, `name{label="..."}` a selector with its labels, and
 * any other identifier not followed by `(` is a metric name. A selector without a name (`{__name__=...}`)
 * is refused: it could not be checked.
 */
export function promqlReferences(expr: string): PromqlReferences {
  let text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const groupingLabels: string[] = [];
  text = text.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_m, _k, labels: string) => {
      groupingLabels.push(...labelList(labels));
      return ' ';
    },
  );
  const selectors: PromqlReferences['selectors'] = [];
  text = text.replace(
    /([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}/g,
    (_m, metric: string | undefined, matchers: string) => {
      if (metric === undefined) throw new Error(`a selector without a metric name in: ${expr}`);
      const labels = [...matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)].map((m) => m[1]);
      selectors.push({ metric, labels });
      return ' ';
    },
  );
  for (const match of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const after = text.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(name.toLowerCase())) continue;
    const before = text.slice(0, match.index ?? 0);
    if (/[0-9.]$/.test(before)) continue; // the exponent or unit of a number (1e3)
    selectors.push({ metric: name, labels: [] });
  }
  return { selectors, groupingLabels };
}

function labelList(labels: string): string[] {
  return labels
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== '');
}
