import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { AppLogger, createAppLogger } from './create-app-logger.js';

function captureWrites(stream: NodeJS.WriteStream, lines: string[]) {
  return jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
}

describe(AppLogger.name, () => {
  let lines: string[];
  let stdout: ReturnType<typeof captureWrites>;
  let stderr: ReturnType<typeof captureWrites>;

  beforeEach(() => {
    lines = [];
    stdout = captureWrites(process.stdout, lines);
    stderr = captureWrites(process.stderr, lines);
  });

  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
  });

  it('writes one JSON object per line with the service name and the fields of a structured message', () => {
    const sut = createAppLogger({ name: 'gateway', format: 'json', level: 'log' });

    sut.log({ msg: 'served', requestId: 'req-1', ads: 3 }, 'AdsController');

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'log',
      message: 'served',
      requestId: 'req-1',
      ads: 3,
      context: 'AdsController',
      service: 'gateway',
    });
  });

  it('keeps the stack of an error in the same JSON line', () => {
    const sut = createAppLogger({ name: 'ranking', format: 'json', level: 'log' });

    sut.error('request r-9 failed: boom', 'Error: boom\n    at x', 'AllExceptionsFilter');

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'error',
      message: 'request r-9 failed: boom',
      stack: 'Error: boom\n    at x',
    });
  });

  it('prints a structured message as key=value in pretty format', () => {
    const sut = createAppLogger({ name: 'auction', format: 'pretty', level: 'log' });

    sut.log({ msg: 'auction done', requestId: 'req-2', winners: 2, mechanism: 'gsp' }, 'AuctionService');

    expect(lines[0]).toContain('[auction]');
    expect(lines[0]).toContain('auction done requestId=req-2 winners=2 mechanism=gsp');
  });

  it('drops levels more verbose than the configured one', () => {
    const sut = createAppLogger({ name: 'logging', format: 'json', level: 'warn' });

    sut.log('not shown');
    sut.debug?.('not shown');
    sut.warn('shown');

    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['shown']);
  });
});
