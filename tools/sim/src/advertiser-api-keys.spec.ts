import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readAdvertiserApiKeys } from './advertiser-api-keys.js';

const key = (c: string) => `adf_live_${c.repeat(43)}`;

describe(readAdvertiserApiKeys.name, () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-api-keys-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maps each advertiser to its key', async () => {
    const path = join(dir, 'keys.json');
    await writeFile(
      path,
      JSON.stringify({
        label: 'demo',
        issuedAt: '2026-12-01T20:00:00.000Z',
        keys: [
          { advertiserId: 1, key: key('a'), keyHash: 'a'.repeat(64) },
          { advertiserId: 7, key: key('b'), keyHash: 'b'.repeat(64) },
        ],
      }),
    );
    expect(await readAdvertiserApiKeys(path)).toEqual(
      new Map([
        [1, key('a')],
        [7, key('b')],
      ]),
    );
  });

  it('says how to get keys when the file is missing', async () => {
    await expect(readAdvertiserApiKeys(join(dir, 'none.json'))).rejects.toThrow(
      /cannot read the advertisers' API keys from .*none\.json \(no such file\); npm start writes the demo keys there/,
    );
  });

  it('names what is wrong in a file that is not a keys file', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(
      path,
      JSON.stringify({
        label: 'demo',
        issuedAt: '2026-12-01T20:00:00.000Z',
        keys: [{ advertiserId: 1, key: 'secret', keyHash: 'a'.repeat(64) }],
      }),
    );
    await expect(readAdvertiserApiKeys(path)).rejects.toThrow(
      'is not an API keys file: keys.0.key: must be an adf_live_ key',
    );
    await writeFile(path, 'not json');
    await expect(readAdvertiserApiKeys(path)).rejects.toThrow(/bad\.json is not JSON/);
  });
});
