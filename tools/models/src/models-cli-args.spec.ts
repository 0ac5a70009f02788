import { describe, expect, it } from '@jest/globals';
import { parseModelsCliArgs } from './models-cli-args.js';

describe(parseModelsCliArgs.name, () => {
  it('reads each command with its operands', () => {
    expect(parseModelsCliArgs(['status']).run).toEqual({ command: 'status' });
    expect(parseModelsCliArgs(['shadow', '20261126-97a0b56d', '--sample', '0.25']).run).toEqual({
      command: 'shadow',
      version: '20261126-97a0b56d',
      sample: 0.25,
    });
    expect(parseModelsCliArgs(['promote']).run).toEqual({ command: 'promote' });
    expect(parseModelsCliArgs(['promote', 'v2']).run).toEqual({ command: 'promote', version: 'v2' });
    expect(parseModelsCliArgs(['rollback']).run).toEqual({ command: 'rollback' });
    expect(parseModelsCliArgs(['report', '--shadow-version', 'v2', '--since', '1700000000000']).run).toEqual({
      command: 'report',
      shadowVersion: 'v2',
      since: '1700000000000',
    });
  });

  it('takes the service URLs as origins', () => {
    expect(parseModelsCliArgs(['status', '--ranking-url', 'http://10.0.0.5:3102/'])).toMatchObject({
      rankingUrl: 'http://10.0.0.5:3102',
      json: false,
    });
  });

  it('refuses bad usage, saying what was wrong', () => {
    expect(() => parseModelsCliArgs([])).toThrow('name a command');
    expect(() => parseModelsCliArgs(['deploy'])).toThrow('unknown command "deploy"');
    expect(() => parseModelsCliArgs(['shadow'])).toThrow('shadow needs a version');
    expect(() => parseModelsCliArgs(['shadow', 'v2', '--sample', '2'])).toThrow('--sample must be a number from 0 to 1');
    expect(() => parseModelsCliArgs(['promote', '../x'])).toThrow('"../x" is not a version directory name');
    expect(() => parseModelsCliArgs(['rollback', 'v1'])).toThrow('unexpected argument "v1"');
    expect(() => parseModelsCliArgs(['promote', '--sample', '0.5'])).toThrow('--sample goes with shadow only');
    expect(() => parseModelsCliArgs(['status', '--ranking-url', 'nope'])).toThrow('--ranking-url must be a URL');
  });
});
