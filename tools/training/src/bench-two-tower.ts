#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type TwoTowerAd,
  type TwoTowerRequest,
  encodeAdTowerInputs,
  encodeUserTowerInputs,
} from '@adfunnel/features';
import { TwoTowerModel, resolveTwoTowerVersion } from '@adfunnel/models';

const USAGE = `Usage: node tools/training/dist/bench-two-tower.js --model <models>/retrieval/<version> --data <export dir>

Times a two-tower version the way retrieval runs it (libs/models TwoTowerModel, each tower in a worker
thread): the ad tower over every ad of the export's ads.jsonl (encoding included, as at index build),
then the user tower one request at a time over the export's served rows (encoding included, as per
request). --runs N user requests (default 2000).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      runs: { type: 'string', default: '2000' },
    },
  });
  if (values.model === undefined || values.data === undefined) throw new Error(USAGE);
  const dir = resolve(values.model);
  const resolved = await resolveTwoTowerVersion(dirname(dirname(dir)), basename(dirname(dir)), basename(dir));
  const lines = async (file: string) =>
    (await readFile(join(values.data!, file), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ads = (await lines('ads.jsonl')) as unknown as TwoTowerAd[];
  const served = await lines('served.jsonl');
  const byId = new Map(ads.map((ad) => [ad.id, ad]));
  const requests: TwoTowerRequest[] = served.map((r) => ({
    activity: (r['activity'] as TwoTowerRequest['activity']) ?? null,
    device: r['device'] as string,
    country: r['country'] as string,
    surface: r['surface'] as string,
    query: (r['query'] as string | null) ?? null,
    contextAdId: (r['contextAdId'] as number | null) ?? null,
  }));
  const model = await TwoTowerModel.open(resolved);
  try {
    await model.embedAds(encodeAdTowerInputs(ads.slice(0, 64)));
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const inputs = encodeAdTowerInputs(ads);
      const t1 = performance.now();
      await model.embedAds(inputs);
      const t2 = performance.now();
      process.stdout.write(
        `ad tower, ${ads.length} ads: ${(t2 - t0).toFixed(1)} ms (encode ${(t1 - t0).toFixed(1)}, towers ${(t2 - t1).toFixed(1)})\n`,
      );
    }
    const runs = Number(values.runs);
    const lookup = (id: number) => byId.get(id);
    for (let i = 0; i < 200; i++)
      await model.embedUsers(encodeUserTowerInputs([requests[i % requests.length]], lookup));
    const ms: number[] = [];
    let encodeMs = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const inputs = encodeUserTowerInputs([requests[i % requests.length]], lookup);
      encodeMs += performance.now() - t0;
      await model.embedUsers(inputs);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(3);
    const mean = ms.reduce((s, v) => s + v, 0) / ms.length;
    process.stdout.write(
      `user tower, one request at a time (${runs}): mean ${mean.toFixed(3)} ms (encode ${(encodeMs / runs).toFixed(3)}), ` +
        `p50 ${q(0.5)}, p90 ${q(0.9)}, p99 ${q(0.99)}\n`,
    );
  } finally {
    await model.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-two-tower: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
