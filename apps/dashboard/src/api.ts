/** The dashboard's reads of /v1/dashboard, with the token the viewer signed in with. */

const TOKEN_KEY = 'adfunnel.dashboard.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** `path` under /v1/dashboard/, or an absolute path of the same service (`/v1/diagnostics/...`). */
export async function getJson<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const token = session.token();
  const query = new URLSearchParams(params).toString();
  const url = path.startsWith('/') ? path : `/v1/dashboard/${path}`;
  const res = await fetch(`${url}${query === '' ? '' : `?${query}`}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    cache: 'no-store',
  });
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new ApiError(res.status, body.message ?? `${path} answered ${res.status}`);
  return body as T;
}
