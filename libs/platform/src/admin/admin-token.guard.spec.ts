import { AdfunnelError } from '@adfunnel/contracts';
import { describe, expect, it, jest } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard.js';

const TOKEN = 'a'.repeat(16) + 'admin-token-of-the-test';

function contextWith(authorization: string | undefined) {
  const header = jest.fn();
  const context = {
    switchToHttp: () => ({
      getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }),
      getResponse: () => ({ header }),
    }),
  } as unknown as ExecutionContext;
  return { context, header };
}

function errorOf(fn: () => unknown): AdfunnelError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AdfunnelError) return err;
    throw err;
  }
  throw new Error('expected an AdfunnelError');
}

describe(AdminTokenGuard.name, () => {
  const sut = new AdminTokenGuard({ ADMIN_TOKEN: TOKEN });

  it('lets a request bearing ADMIN_TOKEN through', () => {
    expect(sut.canActivate(contextWith(`Bearer ${TOKEN}`).context)).toBe(true);
    expect(sut.canActivate(contextWith(`bearer   ${TOKEN} `).context)).toBe(true);
  });

  it('answers 401 asking for the header when there is no token', () => {
    const { context, header } = contextWith(undefined);

    const err = errorOf(() => sut.canActivate(context));

    expect(err).toMatchObject({ code: 'unauthenticated', reason: 'missing_credentials' });
    expect(err.message).toBe('no admin token: send the header "Authorization: Bearer <ADMIN_TOKEN>"');
    expect(header).toHaveBeenCalledWith('www-authenticate', 'Bearer realm="admin"');
  });

  it('answers 401 saying the token does not match', () => {
    const err = errorOf(() => sut.canActivate(contextWith(`Bearer ${TOKEN}x`).context));

    expect(err).toMatchObject({ code: 'unauthenticated', reason: 'invalid_credentials' });
    expect(err.message).toBe("the admin token does not match this service's ADMIN_TOKEN");
  });

  it('answers 401 naming the expected form of a malformed header', () => {
    const err = errorOf(() => sut.canActivate(contextWith(`Basic ${TOKEN}`).context));

    expect(err).toMatchObject({ code: 'unauthenticated', reason: 'invalid_credentials' });
    expect(err.message).toBe('the Authorization header must be "Bearer <ADMIN_TOKEN>"');
  });

  it('answers 403 saying to set ADMIN_TOKEN when the service has none, whatever is sent', () => {
    const off = new AdminTokenGuard({});

    for (const authorization of [undefined, `Bearer ${TOKEN}`]) {
      const err = errorOf(() => off.canActivate(contextWith(authorization).context));
      expect(err).toMatchObject({ code: 'forbidden', reason: 'admin_disabled' });
      expect(err.message).toMatch(/^admin endpoints are off: start the service with ADMIN_TOKEN set/);
    }
  });
});
