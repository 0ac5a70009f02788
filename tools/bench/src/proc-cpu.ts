import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * CPU time of the funnel's processes from Linux's /proc, so the bench can say how many milliseconds
 * of CPU one request costs in each process. `/proc/<pid>/stat` counts every thread of a process
 * (worker threads, libuv's pool, V8's GC helpers) in utime and stime, in clock ticks of
 * `getconf CLK_TCK` (100 per second on Linux, so 10 ms granularity per sample).
 */

/** The fields of one /proc/<pid>/stat line the bench reads. */
export interface ProcStat {
  pid: number;
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  comm: string;
  ppid: number;
  /** User-mode CPU of all threads, in clock ticks. */
  utime: number;
  /** Kernel-mode CPU of all threads, in clock ticks. */
  stime: number;
}

/**
 * Parses a /proc/<pid>/stat line. The name sits in parentheses and may itself contain spaces and
 * parentheses, so the fields are counted from the last ')': state is field 3, ppid 4, utime 14, stime 15.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: "${line.slice(0, 80)}"`);
  const pid = Number(line.slice(0, open).trim());
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const field = (n: number) => Number(rest[n - 3]);
  const stat = { pid, comm: line.slice(open + 1, close), ppid: field(4), utime: field(14), stime: field(15) };
  if (![stat.pid, stat.ppid, stat.utime, stat.stime].every(Number.isInteger)) {
    throw new Error(`not a /proc/<pid>/stat line: "${line.slice(0, 80)}"`);
  }
  return stat;
}

/** utime + stime of a process in clock ticks; undefined when it has exited (or /proc is absent). */
export function processTicks(pid: number): number | undefined {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat.utime + stat.stime;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second (`getconf CLK_TCK`); 100, Linux's value, when getconf is not there. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** One process whose CPU the bench samples, under the name it is reported by. */
export interface WatchedProcess {
  name: string;
  pid: number;
}

/** The five funnel services, as the funnel launcher starts them: `node apps/<name>/dist/main.js`. */
export const FUNNEL_SERVICES = ['gateway', 'retrieval', 'ranking', 'auction', 'logging'] as const;

/**
 * Which funnel service a command line runs, if any; services co-located in one process
 * (`node tools/funnel/dist/colocated-main.js retrieval ranking ...`) are named together, joined by +.
 */
export function serviceOfCommandLine(argv: readonly string[]): string | undefined {
  for (const [i, arg] of argv.entries()) {
    const m = /(?:^|\/)apps\/([a-z-]+)\/dist\/main\.js$/.exec(arg);
    if (m && (FUNNEL_SERVICES as readonly string[]).includes(m[1])) return m[1];
    if (/(?:^|\/)tools\/funnel\/dist\/colocated-main\.js$/.test(arg)) {
      const hosted = argv
        .slice(i + 1)
        .filter((name) => (FUNNEL_SERVICES as readonly string[]).includes(name));
      return hosted.length === 0 ? undefined : hosted.join('+');
    }
  }
  return undefined;
}

/**
 * Inodes of the sockets listening on `port` in a /proc/net/tcp or tcp6 table (state 0A is LISTEN;
 * local_address is hex ip:port).
 */
export function listeningInodes(table: string, port: number): number[] {
  const inodes: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const localPort = parseInt(cols[1].split(':').pop() ?? '', 16);
    if (cols[3] === '0A' && localPort === port) inodes.push(Number(cols[9]));
  }
  return inodes;
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** The process holding a listening socket on `port` (only processes of this user are visible). */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set(
    ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((t) => listeningInodes(readOr(t, ''), port)),
  );
  if (inodes.size === 0) return undefined;
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(Number(m[1]))) return pid;
    }
  }
  return undefined;
}

/** What findFunnelProcesses found, and what it could not. */
export interface FunnelProcesses {
  processes: WatchedProcess[];
  notes: string[];
}

/**
 * The processes of the funnel whose gateway listens on `gatewayPort`: the gateway itself, the
 * services started by the same parent (the funnel launcher), so another funnel on the same machine
 * is left out, and nats-server and redis-server by their executable's name (shared with every
 * other user of them on the machine).
 */
export function findFunnelProcesses(gatewayPort: number): FunnelProcesses {
  const notes: string[] = [];
  const processes: WatchedProcess[] = [];
  const gateway = pidListeningOn(gatewayPort);
  if (gateway === undefined) {
    notes.push(`no process of this user listens on port ${gatewayPort}: the funnel's CPU is not sampled`);
  } else {
    const parent = readOr(`/proc/${gateway}/stat`, '');
    const ppid = parent === '' ? undefined : parseProcStat(parent).ppid;
    for (const pid of pids()) {
      const service = serviceOfCommandLine(commandLine(pid));
      if (service === undefined) continue;
      const stat = readOr(`/proc/${pid}/stat`, '');
      if (pid === gateway || (stat !== '' && parseProcStat(stat).ppid === ppid)) {
        processes.push({ name: service, pid });
      }
    }
    const found = new Set(processes.flatMap((p) => p.name.split('+')));
    const missing = FUNNEL_SERVICES.filter((s) => !found.has(s));
    if (missing.length > 0)
      notes.push(`no ${missing.join(', ')} process beside the gateway (pid ${gateway})`);
  }
  for (const pid of pids()) {
    const comm = readOr(`/proc/${pid}/comm`, '').trim();
    if (comm === 'nats-server' || comm === 'redis-server') processes.push({ name: comm, pid });
  }
  processes.sort((a, b) => order(a.name) - order(b.name) || a.pid - b.pid);
  return { processes, notes };
}

function order(name: string): number {
  const i = [...FUNNEL_SERVICES, 'nats-server', 'redis-server'].indexOf(name.split('+')[0]);
  return i < 0 ? 99 : i;
}

/** Clock ticks of each watched process at one instant (undefined: it had exited). */
export type CpuSample = ReadonlyMap<number, number | undefined>;

export function sampleCpu(processes: readonly WatchedProcess[]): CpuSample {
  return new Map(processes.map((p) => [p.pid, processTicks(p.pid)]));
}

/** CPU per request over one window, per reported name (processes of one name summed) and in total. */
export interface CpuPerRequest {
  /** Milliseconds of CPU per request, by process name. */
  byProcess: Record<string, number>;
  /** Every sampled process together. */
  total: number;
  /** Ticks counted in the window, all processes together (each tick is 1000 / ticksPerSecond ms). */
  ticks: number;
  /** Processes that exited or restarted during the window: left out of the figures. */
  lost: string[];
}

/**
 * (after - before) ticks per process, in ms of CPU per request. A process missing from either
 * sample, or whose count went down (a new process under a reused pid), is left out and named in `lost`.
 */
export function cpuPerRequest(
  processes: readonly WatchedProcess[],
  before: CpuSample,
  after: CpuSample,
  requests: number,
  ticksPerSecond: number,
): CpuPerRequest {
  const msPerTick = 1000 / ticksPerSecond;
  const byProcess: Record<string, number> = {};
  const lost: string[] = [];
  let ticks = 0;
  for (const { name, pid } of processes) {
    const b = before.get(pid);
    const a = after.get(pid);
    if (b === undefined || a === undefined || a < b) {
      lost.push(`${name} (pid ${pid})`);
      continue;
    }
    ticks += a - b;
    byProcess[name] = (byProcess[name] ?? 0) + (a - b);
  }
  // No requests: no figure rather than Infinity.
  const perRequest = (t: number) => (requests > 0 ? (t * msPerTick) / requests : NaN);
  for (const name of Object.keys(byProcess)) byProcess[name] = perRequest(byProcess[name]);
  const total = perRequest(ticks);
  return { byProcess, total, ticks, lost };
}
