import { describe, expect, it } from '@jest/globals';
import { redactUrlCredentials } from './redact-url.js';

describe(redactUrlCredentials.name, () => {
  it('withholds a password but keeps the user', () => {
    expect(redactUrlCredentials('nats://ranking:s3cret@nats:4222')).toBe('nats://ranking:***@nats:4222');
  });

  it('withholds a token entirely', () => {
    expect(redactUrlCredentials('nats://s3cret@nats:4222')).toBe('nats://***@nats:4222');
  });

  it('withholds everything before the last @, even in a URL that does not parse', () => {
    expect(redactUrlCredentials('nats://u:pa/ss@wo@rd@host')).toBe('nats://u:***@host');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(redactUrlCredentials('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
    expect(redactUrlCredentials('var/adfunnel.sqlite')).toBe('var/adfunnel.sqlite');
  });
});
