import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  INSTALLATION_SECRETS_FILE,
  applyInstallationSecrets,
  installationSecrets,
} from './installation-secrets.js';

describe(installationSecrets.name, () => {
  let root: string;
  const file = () => join(root, INSTALLATION_SECRETS_FILE);
  const stored = () => JSON.parse(readFileSync(file(), 'utf8')) as Record<string, string>;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'adfunnel-secrets-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('generates random secrets once, into a file only its owner can read', () => {
    const first = installationSecrets(root);
    expect(first.generated).toEqual(['trackingSecret', 'adminToken']);
    expect(first.secrets.trackingSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.secrets.adminToken).not.toBe(first.secrets.trackingSecret);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(stored()).toEqual(first.secrets);

    expect(installationSecrets(root)).toEqual({ secrets: first.secrets, generated: [] });
    expect(installationSecrets(mkdtempSync(join(tmpdir(), 'adfunnel-secrets-'))).secrets).not.toEqual(
      first.secrets,
    );
  });

  it('fills in a missing secret and keeps the one already there', () => {
    mkdirSync(join(root, 'var'));
    const trackingSecret = 'k'.repeat(40);
    writeFileSync(file(), JSON.stringify({ trackingSecret }), { mode: 0o644 });
    const sut = installationSecrets(root);
    expect(sut.generated).toEqual(['adminToken']);
    expect(stored()).toEqual({ trackingSecret, adminToken: sut.secrets.adminToken });
    expect(statSync(file()).mode & 0o777).toBe(0o600);
  });

  it('refuses a file it cannot read rather than replace the secrets in it', () => {
    mkdirSync(join(root, 'var'));
    writeFileSync(file(), '{ not json');
    expect(() => installationSecrets(root)).toThrow(
      /^var\/secrets.json is not JSON .*; fix it, or delete it to generate new secrets$/,
    );
    writeFileSync(file(), JSON.stringify({ trackingSecret: 'short' }));
    expect(() => installationSecrets(root)).toThrow(
      'var/secrets.json is not valid (trackingSecret: must be at least 32 characters); fix it, or delete it to generate new secrets',
    );
    expect(readFileSync(file(), 'utf8')).toBe(JSON.stringify({ trackingSecret: 'short' }));
  });
});

describe(applyInstallationSecrets.name, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'adfunnel-secrets-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("fills the funnel's env from the file and says where each secret is kept", () => {
    const env: Record<string, string> = {};
    expect(applyInstallationSecrets(root, env)).toBe(
      'TRACKING_SECRET: var/secrets.json (trackingSecret), new this start\n' +
        'ADMIN_TOKEN: var/secrets.json (adminToken), new this start\n',
    );
    const { secrets } = installationSecrets(root);
    expect(env).toEqual({ TRACKING_SECRET: secrets.trackingSecret, ADMIN_TOKEN: secrets.adminToken });
    expect(applyInstallationSecrets(root, {})).toBe(
      'TRACKING_SECRET: var/secrets.json (trackingSecret)\nADMIN_TOKEN: var/secrets.json (adminToken)\n',
    );
  });

  it('lets a secret set in the environment win', () => {
    const env = { TRACKING_SECRET: 'an-operator-chosen-secret', ADMIN_TOKEN: '' };
    expect(applyInstallationSecrets(root, env)).toBe(
      'TRACKING_SECRET: from the environment\nADMIN_TOKEN: var/secrets.json (adminToken), new this start\n',
    );
    expect(env.TRACKING_SECRET).toBe('an-operator-chosen-secret');
    expect(env.ADMIN_TOKEN).toBe(installationSecrets(root).secrets.adminToken);
  });

  it('touches no file when both come from the environment', () => {
    const env = {
      TRACKING_SECRET: 'an-operator-chosen-secret',
      ADMIN_TOKEN: 'an-operator-chosen-admin-token',
    };
    expect(applyInstallationSecrets(root, env)).toBe('TRACKING_SECRET, ADMIN_TOKEN: from the environment\n');
    expect(() => statSync(join(root, INSTALLATION_SECRETS_FILE))).toThrow(/ENOENT/);
  });
});
