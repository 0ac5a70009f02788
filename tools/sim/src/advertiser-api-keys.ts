import { readFile } from 'node:fs/promises';
import { ApiKeysFileSchema } from '@adfunnel/contracts';

const HOW_TO_ISSUE =
  'npm start writes the demo keys there; for another catalog run `npm run catalog -- api-keys issue --advertiser all --out FILE` and pass --api-keys FILE';

/** The advertisers' API keys by advertiser id, from a file `api-keys issue --out` wrote. */
export async function readAdvertiserApiKeys(path: string): Promise<Map<number, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`cannot read the advertisers' API keys from ${path} (${reason}); ${HOW_TO_ISSUE}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON; ${HOW_TO_ISSUE}`, { cause: error });
  }
  const parsed = ApiKeysFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path} is not an API keys file: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return new Map(parsed.data.keys.map((k) => [k.advertiserId, k.key]));
}
