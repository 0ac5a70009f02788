import { describe, expect, it } from '@jest/globals';
import { TimeZoneTransformer, isIanaTimeZone } from './time-zone.transformer.js';

describe(isIanaTimeZone.name, () => {
  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata', 'Etc/GMT+5'])(
    'accepts %s',
    (name) => {
      expect(isIanaTimeZone(name)).toBe(true);
    },
  );

  it.each(['', 'Mars/Olympus', '+01:00', 'Europe/Paris ', 'Europe/../Paris', 'x'.repeat(65)])(
    'refuses %j',
    (name) => {
      expect(isIanaTimeZone(name)).toBe(false);
    },
  );
});

describe(TimeZoneTransformer.name, () => {
  const sut = new TimeZoneTransformer();

  it('writes a known time zone as it is and refuses an unknown one, naming it', () => {
    expect(sut.to('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(sut.to(undefined)).toBeUndefined();
    expect(() => sut.to('Europe/Atlantis')).toThrow(
      'time zone "Europe/Atlantis" is not an IANA time zone name such as UTC or Europe/Paris',
    );
  });
});
