import { describe, expect, it } from '@jest/globals';
import { natsConnectionOptions, natsUrlProblem } from './nats-connection.js';

describe(natsConnectionOptions.name, () => {
  it('connects anonymously to a URL without credentials', () => {
    expect(natsConnectionOptions('nats://127.0.0.1:4222')).toEqual({ servers: 'nats://127.0.0.1:4222' });
  });

  it('hands a user and password to nats.js apart from the server, decoded', () => {
    expect(natsConnectionOptions('nats://ranking:p%40ss%3Aw0rd@nats:4222')).toEqual({
      servers: 'nats://nats:4222',
      user: 'ranking',
      pass: 'p@ss:w0rd',
    });
  });

  it('reads a lone userinfo as a token', () => {
    expect(natsConnectionOptions('nats://s3cr3t-token@nats')).toEqual({
      servers: 'nats://nats',
      token: 's3cr3t-token',
    });
  });

  it('keeps an empty password a password', () => {
    expect(natsConnectionOptions('nats://guest:@nats:4222')).toEqual({
      servers: 'nats://nats:4222',
      user: 'guest',
      pass: '',
    });
  });
});

describe(natsUrlProblem.name, () => {
  it('accepts the URLs a service can connect with', () => {
    for (const url of ['nats://127.0.0.1:4222', 'nats://a:b@nats:4222', 'nats://token@nats', 'nats://h/']) {
      expect(natsUrlProblem(url)).toBeUndefined();
    }
  });

  it('says what is wrong without repeating the URL', () => {
    expect(natsUrlProblem('redis://127.0.0.1')).toBe('must start with nats://');
    expect(natsUrlProblem('nats://')).toBe('expected a host after nats://');
    expect(natsUrlProblem('nats://host:4222/x')).toBe('expected nothing after the host and port');
    expect(natsUrlProblem('nats://:s3cret@host')).toMatch(/^expected a user before the password/);
    expect(natsUrlProblem('nats://u:pa/ss@host')).toMatch(/percent-encode/);
    expect(natsUrlProblem('nats://u:pa/ss@host')).not.toContain('pa/ss');
  });
});
