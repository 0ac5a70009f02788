/** What nats.js connects with: the server, and the credentials NATS_URL carried, if any. */
export interface NatsConnectionOptions {
  servers: string;
  user?: string;
  pass?: string;
  token?: string;
}

/**
 * Splits NATS_URL into the server and its credentials: `nats://user:password@host:4222` logs in as a
 * user, `nats://token@host:4222` with a token, `nats://host:4222` anonymously. nats.js ignores
 * credentials in a server URL, so they are handed to it as options; percent-encoded characters are
 * decoded. NATS_URL is validated at startup (CommonEnv), so a URL that does not parse is a bug here.
 */
export function natsConnectionOptions(natsUrl: string): NatsConnectionOptions {
  const url = new URL(natsUrl);
  const servers = `${url.protocol}//${url.host}`;
  const userinfo = userinfoOf(natsUrl);
  if (userinfo === undefined) return { servers };
  const user = decodeURIComponent(url.username);
  if (!userinfo.includes(':')) return { servers, token: user };
  return { servers, user, pass: decodeURIComponent(url.password) };
}

/** Why NATS_URL cannot be used, or undefined. Never repeats the URL, which may hold a password. */
export function natsUrlProblem(natsUrl: string): string | undefined {
  if (!natsUrl.startsWith('nats://')) return 'must start with nats://';
  let url: URL;
  try {
    url = new URL(natsUrl);
  } catch {
    return 'expected nats://[user:password@ or token@]host[:port] (percent-encode @ : / in a password)';
  }
  if (url.hostname === '') return 'expected a host after nats://';
  if (url.pathname !== '' && url.pathname !== '/') return 'expected nothing after the host and port';
  const userinfo = userinfoOf(natsUrl);
  if (userinfo !== undefined && url.username === '') {
    return 'expected a user before the password (nats://user:password@host) or a token (nats://token@host)';
  }
  return undefined;
}

/** What precedes the last `@` of the authority (the URL parser reads an unencoded `@` as part of it). */
function userinfoOf(url: string): string | undefined {
  const start = url.indexOf('//');
  if (start === -1) return undefined;
  const rest = url.slice(start + 2);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  return at === -1 ? undefined : authority.slice(0, at);
}
