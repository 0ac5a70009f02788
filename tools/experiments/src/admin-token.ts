import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where `npm start` keeps the installation's secrets (tools/funnel writes it, this only reads it). */
export const SECRETS_FILE = join('var', 'secrets.json');

/** ADMIN_TOKEN from the environment, else the installation's `adminToken`, else a message saying where to set it. */
export async function adminToken(env: NodeJS.ProcessEnv, root: string): Promise<string> {
  const fromEnv = env['ADMIN_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const path = join(root, SECRETS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(
      `no admin token: set ADMIN_TOKEN, or run npm start once so that ${SECRETS_FILE} holds one`,
    );
  }
  let token: unknown;
  try {
    token = (JSON.parse(text) as Record<string, unknown>)['adminToken'];
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof token !== 'string' || token === '')
    throw new Error(`${path} holds no adminToken; set ADMIN_TOKEN`);
  return token;
}
