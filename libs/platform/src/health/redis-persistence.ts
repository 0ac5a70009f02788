import type { Redis } from 'ioredis';

/**
 * How Redis keeps what it was sent: AOF with its fsync policy (`aof` when CONFIG is disabled and only
 * INFO says AOF is on), RDB snapshots only, nothing, or `rdb-or-none` when INFO shows no AOF and
 * CONFIG, disabled, cannot say whether snapshots are configured.
 */
export type RedisPersistence =
  'aof-always' | 'aof-everysec' | 'aof-no-fsync' | 'aof' | 'rdb' | 'none' | 'rdb-or-none';

/** What Redis said about its persistence; a field is undefined when the source cannot tell it. */
export interface RedisPersistenceSettings {
  source: 'config' | 'info';
  appendonly: boolean;
  appendfsync?: string | undefined;
  /** The `save` points ('' when snapshots are off). */
  save?: string | undefined;
  maxmemoryPolicy?: string | undefined;
}

export interface RedisPersistenceReport {
  persistence: RedisPersistence;
  /** `maxmemory-policy`, or 'unknown' when Redis does not say. */
  evictionPolicy: string;
  source: 'config' | 'info';
  /** Whether an acknowledged write survives a Redis crash (AOF is on). */
  persists: boolean;
  /** Whether Redis may drop keys (queued jobs, budget counters) when it reaches maxmemory. */
  canEvict: boolean;
  /** One line per risk, with what is lost; empty when Redis persists and cannot evict. */
  warnings: string[];
  /** The commands that remove the risks, for a Redis this process may reconfigure. */
  fixes: string[];
}

const FSYNC: Record<string, RedisPersistence> = {
  always: 'aof-always',
  everysec: 'aof-everysec',
  no: 'aof-no-fsync',
};

const aofFix = (cli: string): string[] => [
  `${cli} config set appendonly yes`,
  `${cli} config set appendfsync always`,
  `${cli} config rewrite   (keeps both across restarts when Redis runs from a config file)`,
  'or start Redis with: redis-server --appendonly yes --appendfsync always --maxmemory-policy noeviction',
];
const WAITING = 'every queued event and served record waiting in Redis, and the budget counters';

/**
 * Classifies what Redis reported; pure, so every rule is tested without a Redis. `redisCli` is how
 * the fixes address this Redis (`redis-cli -p 6380`).
 */
export function classifyRedisPersistence(
  settings: RedisPersistenceSettings,
  redisCli = 'redis-cli',
): RedisPersistenceReport {
  const persistence = persistenceOf(settings);
  const evictionPolicy = settings.maxmemoryPolicy ?? 'unknown';
  const canEvict = evictionPolicy !== 'noeviction';
  const warnings: string[] = [];
  const fixes: string[] = [];
  const persists = settings.appendonly;
  switch (persistence) {
    case 'aof-always':
    case 'aof':
      break;
    case 'aof-everysec':
      // Redis postpones the AOF write while a background fsync is slow (up to 2 s) and replies anyway.
      warnings.push(
        'Redis fsyncs its AOF every second (appendfsync everysec): while the disk is slow it postpones the ' +
          'write and still acknowledges, so a crash of Redis can lose up to the last ~2 s of acknowledged ' +
          'events and served records',
      );
      fixes.push(`${redisCli} config set appendfsync always`);
      break;
    case 'aof-no-fsync':
      warnings.push(
        'Redis writes its AOF but leaves fsync to the OS (appendfsync no): a crash of the machine loses ' +
          'the writes of the last ~30 s',
      );
      fixes.push(`${redisCli} config set appendfsync always`);
      break;
    case 'rdb':
      warnings.push(
        `Redis keeps only RDB snapshots (appendonly no, save "${settings.save ?? ''}"): a crash loses ${WAITING} ` +
          'written since the last snapshot',
      );
      fixes.push(...aofFix(redisCli));
      break;
    case 'none':
      warnings.push(
        `Redis does not persist (appendonly no, no RDB snapshots): a crash or restart loses ${WAITING} ` +
          'since their last rebuild',
      );
      fixes.push(...aofFix(redisCli));
      break;
    case 'rdb-or-none':
      warnings.push(
        `Redis has no AOF (aof_enabled:0; CONFIG is disabled, so its snapshots are unknown): a crash loses ${WAITING} ` +
          'written since the last snapshot, if any',
      );
      fixes.push("turn AOF on (appendonly yes, appendfsync always) in the Redis provider's settings");
      break;
    default:
      persistence satisfies never;
  }
  if (canEvict) {
    warnings.push(
      `Redis maxmemory-policy is ${evictionPolicy}, not noeviction: at maxmemory it may evict queued jobs and ` +
        'budget counters',
    );
    fixes.push(
      settings.source === 'config'
        ? `${redisCli} config set maxmemory-policy noeviction`
        : "set maxmemory-policy noeviction in the Redis provider's settings",
    );
  }
  return { persistence, evictionPolicy, source: settings.source, persists, canEvict, warnings, fixes };
}

function persistenceOf(settings: RedisPersistenceSettings): RedisPersistence {
  if (settings.appendonly) {
    if (settings.appendfsync === undefined) return 'aof';
    return FSYNC[settings.appendfsync] ?? 'aof';
  }
  if (settings.save === undefined) return 'rdb-or-none';
  return settings.save.trim() === '' ? 'none' : 'rdb';
}

/** `key:value` lines of an INFO reply, section headers and blank lines left out. */
export function parseRedisInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Reads the persistence settings with CONFIG GET, or from INFO persistence and INFO memory when
 * Redis refuses CONFIG (managed Redis renames or forbids it). A connection failure is thrown as is.
 */
export async function readRedisPersistence(redis: Redis, redisCli?: string): Promise<RedisPersistenceReport> {
  return classifyRedisPersistence(await readSettings(redis), redisCli);
}

/** `redis-cli` with the host and port of `redisUrl` when they are not the defaults (never the password). */
export function redisCliFor(redisUrl: string): string {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    return 'redis-cli';
  }
  const host =
    url.hostname === '' || url.hostname === '127.0.0.1' || url.hostname === 'localhost'
      ? []
      : [`-h ${url.hostname}`];
  const port = url.port === '' || url.port === '6379' ? [] : [`-p ${url.port}`];
  const tls = url.protocol === 'rediss:' ? ['--tls'] : [];
  return ['redis-cli', ...host, ...port, ...tls].join(' ');
}

async function readSettings(redis: Redis): Promise<RedisPersistenceSettings> {
  try {
    const [appendonly, appendfsync, save, maxmemoryPolicy] = await Promise.all(
      ['appendonly', 'appendfsync', 'save', 'maxmemory-policy'].map((name) => configGet(redis, name)),
    );
    return { source: 'config', appendonly: appendonly === 'yes', appendfsync, save, maxmemoryPolicy };
  } catch (err) {
    // An error reply (unknown or forbidden command) means CONFIG is disabled; anything else is a fault.
    if (!(err instanceof Error && err.name === 'ReplyError')) throw err;
  }
  const [persistence, memory] = await Promise.all([redis.info('persistence'), redis.info('memory')]);
  const fields = new Map([...parseRedisInfo(persistence), ...parseRedisInfo(memory)]);
  const aofEnabled = fields.get('aof_enabled');
  if (aofEnabled === undefined) throw new Error('Redis INFO persistence has no aof_enabled field');
  return { source: 'info', appendonly: aofEnabled === '1', maxmemoryPolicy: fields.get('maxmemory_policy') };
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  const reply = await redis.config('GET', name);
  return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
}
