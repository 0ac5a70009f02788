import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TrackingKeyring, trackingKeyId } from './tracking-keyring.js';

describe(TrackingKeyring.name, () => {
  it('derives each key id from its secret, as sha256sum would print it', () => {
    const secret = 'a-secret-of-some-length';
    expect(trackingKeyId(secret)).toBe(createHash('sha256').update(secret).digest('hex').slice(0, 8));
    expect(trackingKeyId(secret)).toMatch(/^[0-9a-f]{8}$/);
    expect(trackingKeyId('another-secret-of-length')).not.toBe(trackingKeyId(secret));
  });

  it('holds the current key first and finds every key by id', () => {
    const sut = new TrackingKeyring('the-current-secret-0', [
      'the-previous-secret-1',
      'the-previous-secret-2',
    ]);
    expect(sut.current).toEqual({
      id: trackingKeyId('the-current-secret-0'),
      secret: 'the-current-secret-0',
    });
    expect(sut.keys.map((k) => k.secret)).toEqual([
      'the-current-secret-0',
      'the-previous-secret-1',
      'the-previous-secret-2',
    ]);
    expect(sut.find(trackingKeyId('the-previous-secret-2'))?.secret).toBe('the-previous-secret-2');
    expect(sut.find('00000000')).toBeUndefined();
  });

  it('keeps one copy of a secret listed twice', () => {
    const sut = new TrackingKeyring('the-current-secret-0', ['the-current-secret-0']);
    expect(sut.keys).toHaveLength(1);
  });

  it('refuses a short secret, current or previous', () => {
    expect(() => new TrackingKeyring('short')).toThrow(/at least 16 chars/);
    expect(() => new TrackingKeyring('the-current-secret-0', ['short'])).toThrow(/at least 16 chars/);
  });
});
