import { RedisScript } from '@adfunnel/redis';

/**
 * KEYS lock, last slice; ARGV owner, slice, lock ttl (ms). Takes the lock for a slice no replica has
 * committed yet, so one replica computes each slice's rates. Returns 1 when taken.
 */
export const LOCK_SLICE = new RedisScript(
  'pacing-lock',
  `
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
if last >= tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
`,
);

/**
 * KEYS lock, last slice, rates, states; ARGV owner, slice, key ttl (s), then (campaignId, rate,
 * state) triples. Replaces every rate and state at once, only while the caller still holds the lock
 * and no later slice was committed (a replica whose lock expired mid-update writes nothing).
 */
export const COMMIT_SLICE = new RedisScript(
  'pacing-commit',
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '-1') >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[3], KEYS[4])
for i = 4, #ARGV, 3 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 2])
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
for _, key in ipairs({ KEYS[3], KEYS[4] }) do redis.call('EXPIRE', key, ARGV[3]) end
redis.call('DEL', KEYS[1])
return 1
`,
);

/** KEYS lock; ARGV owner. Gives the lock back if the caller still holds it (its update failed). */
export const UNLOCK_SLICE = new RedisScript(
  'pacing-unlock',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
