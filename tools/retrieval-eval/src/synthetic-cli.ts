#!/usr/bin/env node
/**
 * Writes a synthetic interactions pair of files (pairs format) for timing retrieval-eval at scale:
 * users and items fall in `--clusters` groups, a user draws 70% of its items from its group and 30%
 * from all items, both by a Zipf-like popularity; each user's last 20% of draws go to the test file.
 *
 *   node tools/retrieval-eval/dist/synthetic-cli.js --out DIR [--users 30000] [--items 40000]
 *        [--interactions 1000000] [--clusters 50] [--seed 1]
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '@adfunnel/simulator';

function cumulative(weights: number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (out[i] = sum += w));
  return out;
}

function draw(cum: Float64Array, u: number): number {
  const target = u * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      users: { type: 'string', default: '30000' },
      items: { type: 'string', default: '40000' },
      interactions: { type: 'string', default: '1000000' },
      clusters: { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (values.out === undefined) throw new RangeError('--out DIR is required');
  const [users, items, total, clusters, seed] = [
    values.users,
    values.items,
    values.interactions,
    values.clusters,
    values.seed,
  ].map(Number) as [number, number, number, number, number];
  const rng = new Rng(seed);
  // Item i belongs to group i % clusters; popularity falls with a random rank.
  const rank = Array.from({ length: items }, (_, i) => i).sort(() => rng.next() - 0.5);
  const weight = rank.map((r) => 1 / (r + 10) ** 0.8);
  const global = cumulative(weight);
  const members = Array.from({ length: clusters }, (_, c) =>
    Array.from({ length: Math.ceil((items - c) / clusters) }, (_, j) => c + j * clusters),
  );
  const byCluster = members.map((m) => cumulative(m.map((i) => weight[i])));
  await mkdir(values.out, { recursive: true });
  const train = createWriteStream(join(values.out, 'train.tsv'));
  const test = createWriteStream(join(values.out, 'test.tsv'));
  const perUser = total / users;
  for (let u = 0; u < users; u++) {
    const c = u % clusters;
    const n = Math.max(5, Math.round(perUser * (0.25 + 1.5 * rng.next())));
    const seen = new Set<number>();
    const lines: string[] = [];
    for (let t = 0; seen.size < n && t < n * 4; t++) {
      const item = rng.next() < 0.7 ? members[c][draw(byCluster[c], rng.next())] : draw(global, rng.next());
      if (seen.has(item)) continue;
      seen.add(item);
      lines.push(`${u}\t${item}\t${t}\n`);
    }
    const cut = Math.round(lines.length * 0.8);
    if (!train.write(lines.slice(0, cut).join('')))
      await new Promise<void>((r) => train.once('drain', () => r()));
    if (!test.write(lines.slice(cut).join(''))) await new Promise<void>((r) => test.once('drain', () => r()));
  }
  await Promise.all([
    new Promise<void>((r) => train.end(() => r())),
    new Promise<void>((r) => test.end(() => r())),
  ]);
}

await main();
