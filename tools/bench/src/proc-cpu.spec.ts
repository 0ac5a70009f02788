import { describe, expect, it } from '@jest/globals';
import { cpuPerRequest, listeningInodes, parseProcStat, serviceOfCommandLine } from './proc-cpu.js';

// A real line of /proc/<pid>/stat (node), fields 1 to 24.
const NODE_STAT =
  '13159 (node) S 13029 13029 12300 0 -1 4194304 21480 0 0 0 812 133 0 0 20 0 11 0 61234 1250000000 30000';

describe(parseProcStat.name, () => {
  it('reads pid, name, parent and the user and system ticks', () => {
    expect(parseProcStat(NODE_STAT)).toEqual({
      pid: 13159,
      comm: 'node',
      ppid: 13029,
      utime: 812,
      stime: 133,
    });
  });

  it('counts fields from the last parenthesis, as a name may hold spaces and parentheses', () => {
    const line = '42 (my (odd) name) R 7 42 42 0 -1 0 0 0 0 0 15 4 0 0 20 0 1 0 100 0 0';
    expect(parseProcStat(line)).toMatchObject({
      pid: 42,
      comm: 'my (odd) name',
      ppid: 7,
      utime: 15,
      stime: 4,
    });
  });

  it('refuses a line that is not one, saying what it got', () => {
    expect(() => parseProcStat('hello')).toThrow(/not a \/proc\/<pid>\/stat line: "hello"/);
    expect(() => parseProcStat('1 (x) S 0')).toThrow(/not a \/proc/);
  });
});

describe(listeningInodes.name, () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:10CC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4023 1 0 100 0 0 10 0',
    '   1: 0100007F:10CC 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5120 1 0 20 4 30 10 -1',
    '   2: 0100007F:10CD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4024 1 0 100 0 0 10 0',
  ].join('\n');

  it('finds the listening socket of a port (hex 10CC = 4300), not its connections', () => {
    expect(listeningInodes(table, 4300)).toEqual([4023]);
    expect(listeningInodes(table, 4301)).toEqual([4024]);
    expect(listeningInodes(table, 4302)).toEqual([]);
  });
});

describe(serviceOfCommandLine.name, () => {
  it('names the funnel service a node command line runs', () => {
    expect(serviceOfCommandLine(['/usr/bin/node', '/work/main/apps/ranking/dist/main.js'])).toBe('ranking');
    expect(serviceOfCommandLine(['node', 'apps/gateway/dist/main.js'])).toBe('gateway');
    expect(
      serviceOfCommandLine(['node', '/repo/tools/funnel/dist/colocated-main.js', 'retrieval', 'gateway']),
    ).toBe('retrieval+gateway');
    expect(serviceOfCommandLine(['node', 'tools/funnel/dist/colocated-main.js'])).toBeUndefined();
  });

  it('ignores other programs and apps that are not services', () => {
    expect(serviceOfCommandLine(['node', 'tools/funnel/dist/funnel-cli.js', 'start'])).toBeUndefined();
    expect(serviceOfCommandLine(['node', 'apps/funnel-e2e/dist/main.js'])).toBeUndefined();
    expect(serviceOfCommandLine(['node', 'apps/ranking/dist/main.js.map'])).toBeUndefined();
  });
});

describe(cpuPerRequest.name, () => {
  const processes = [
    { name: 'gateway', pid: 10 },
    { name: 'ranking', pid: 11 },
    { name: 'redis-server', pid: 20 },
    { name: 'redis-server', pid: 21 },
  ];

  it('turns tick deltas into ms per request, by name (same names summed) and in total', () => {
    const before = new Map([
      [10, 100],
      [11, 500],
      [20, 7],
      [21, 0],
    ]);
    const after = new Map([
      [10, 300],
      [11, 900],
      [20, 17],
      [21, 10],
    ]);
    // 100 ticks/s: a tick is 10 ms; 1000 requests.
    const sut = cpuPerRequest(processes, before, after, 1000, 100);
    expect(sut.byProcess).toEqual({ gateway: 2, ranking: 4, 'redis-server': 0.2 });
    expect(sut.ticks).toBe(620);
    expect(sut.total).toBeCloseTo(6.2, 12);
    expect(sut.lost).toEqual([]);
  });

  it('leaves out a process that exited or whose pid came back as a new process', () => {
    const before = new Map<number, number | undefined>([
      [10, 100],
      [11, 500],
      [20, 50],
      [21, 0],
    ]);
    const after = new Map<number, number | undefined>([
      [10, 200],
      [11, undefined],
      [20, 3],
      [21, 0],
    ]);
    const sut = cpuPerRequest(processes, before, after, 100, 100);
    expect(sut.byProcess).toEqual({ gateway: 10, 'redis-server': 0 });
    expect(sut.lost).toEqual(['ranking (pid 11)', 'redis-server (pid 20)']);
    expect(sut.total).toBe(10);
  });

  it('gives no figure for a window without requests', () => {
    const sample = new Map([[10, 5]]);
    const sut = cpuPerRequest([{ name: 'gateway', pid: 10 }], sample, sample, 0, 100);
    expect(sut.total).toBeNaN();
    expect(sut.byProcess['gateway']).toBeNaN();
  });
});
