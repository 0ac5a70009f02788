import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** A metric a service registers: its name, kind and label names (undefined: not written out literally). */
export interface RegisteredMetric {
  name: string;
  type: MetricType;
  labels: string[] | undefined;
  /** Where it is registered, relative to the repository root. */
  source: string;
}

const METRIC_METHODS = new Set<string>(['counter', 'gauge', 'histogram', 'summary']);

/**
 * The metrics the services register, read from the sources of apps/ and libs/ (specs and test code
 * left out): every `<metrics>.counter|gauge|histogram({ name: 'adfunnel_…', labelNames: [...] })`
 * call, as `Metrics` in libs/platform makes them.
 */
export function registeredMetrics(root: string): RegisteredMetric[] {
  const found: RegisteredMetric[] = [];
  for (const top of ['apps', 'libs']) {
    for (const file of sourceFiles(join(root, top))) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('adfunnel_')) continue;
      const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
      visit(source, (node) => {
        const metric = metricOf(node);
        if (metric !== undefined) found.push({ ...metric, source: relative(root, file) });
      });
    }
  }
  return found;
}

function metricOf(node: ts.Node): Omit<RegisteredMetric, 'source'> | undefined {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return undefined;
  const method = node.expression.name.text;
  if (!METRIC_METHODS.has(method)) return undefined;
  const [config] = node.arguments;
  if (config === undefined || !ts.isObjectLiteralExpression(config)) return undefined;
  let name: string | undefined;
  let labels: string[] | undefined = [];
  for (const property of config.properties) {
    if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) continue;
    if (property.name.text === 'name' && ts.isStringLiteralLike(property.initializer)) {
      name = property.initializer.text;
    }
    if (property.name.text === 'labelNames') {
      const list = property.initializer;
      labels =
        ts.isArrayLiteralExpression(list) && list.elements.every((e) => ts.isStringLiteralLike(e))
          ? list.elements.map((e) => (e as ts.StringLiteralLike).text)
          : undefined;
    }
  }
  if (name === undefined || !name.startsWith('adfunnel_')) return undefined;
  return { name, type: method as MetricType, labels };
}

function visit(node: ts.Node, each: (node: ts.Node) => void): void {
  each(node);
  node.forEachChild((child) => visit(child, each));
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'testing') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.d.ts') &&
      !/\.(int-)?spec\.ts$/.test(entry.name)
    ) {
      files.push(path);
    }
  }
  return files;
}

/** The series names a metric exports: a histogram's _bucket, _sum and _count, a summary's too. */
export function seriesNames(metric: Pick<RegisteredMetric, 'name' | 'type'>): string[] {
  switch (metric.type) {
    case 'histogram':
      return [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`];
    case 'summary':
      return [metric.name, `${metric.name}_sum`, `${metric.name}_count`];
    case 'counter':
    case 'gauge':
      return [metric.name];
  }
}
