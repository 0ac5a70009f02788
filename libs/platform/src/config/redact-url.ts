/**
 * A URL as it may appear in logs and messages: `nats://ranking:***@nats:4222`, `nats://***@host`
 * for a token. Everything up to the last `@` counts as credentials, so even a URL that does not
 * parse keeps its password.
 */
export function redactUrlCredentials(url: string): string {
  const start = url.indexOf('//');
  const at = url.lastIndexOf('@');
  if (start === -1 || at < start) return url;
  const userinfo = url.slice(start + 2, at);
  const colon = userinfo.indexOf(':');
  const shown = colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`;
  return `${url.slice(0, start + 2)}${shown}${url.slice(at)}`;
}

/** A URL with its whole user part hidden (`redis://***@host:6379`), for dependency problems and health. */
export function redactUrlUserinfo(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
