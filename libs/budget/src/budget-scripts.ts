import { RedisScript } from '@adfunnel/redis';

// Amounts cross into Lua as the decimal strings the caller sent and are written back as those same
// strings: Lua's number-to-string conversion would print 15-digit micros in exponent notation.

/** Drops a campaign-day's expired reservations (bounded per call; what is left is dropped next time). */
const DROP_EXPIRED = `
local function dropExpired(reservations, amounts, sum, now)
  local expired = redis.call('ZRANGEBYSCORE', reservations, '-inf', now, 'LIMIT', 0, 256)
  for _, member in ipairs(expired) do
    local amount = redis.call('HGET', amounts, member)
    if amount then
      redis.call('DECRBY', sum, amount)
      redis.call('HDEL', amounts, member)
    end
    redis.call('ZREM', reservations, member)
  end
end
`;

const RAISE_SPEND = `
local function raiseSpend(spend, campaign, micros)
  local current = tonumber(redis.call('HGET', spend, campaign) or '0')
  if tonumber(micros) > current then
    redis.call('HSET', spend, campaign, micros)
    return 1
  end
  return 0
end
`;

const RELEASE = `
local function release(reservations, amounts, sum, member)
  redis.call('ZREM', reservations, member)
  local amount = redis.call('HGET', amounts, member)
  if not amount then return 0 end
  redis.call('HDEL', amounts, member)
  redis.call('DECRBY', sum, amount)
  return 1
end
`;

/**
 * KEYS[1] the day's spend hash. ARGV: key ttl (s), then (campaignId, charged micros) pairs. A value
 * only ever rises, so publishers that race or arrive out of order cannot move spend backwards.
 */
export const PUBLISH_SPEND = new RedisScript(
  'publish-spend',
  `${RAISE_SPEND}
local raised = 0
for i = 2, #ARGV, 2 do
  raised = raised + raiseSpend(KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return raised
`,
);

/**
 * Per item five KEYS (spend hash, reservations, amounts, sum, the day's reservation sizes) and four
 * ARGV (campaignId, reservationId, amount, budget) after ARGV now, expiresAt, ttl (ms). Items are
 * taken in order: each sees the reservations of the items before it. A reservation id already held
 * is admitted again without a second amount, so a retried request does not reserve twice. Every
 * item's amount, admitted or not, is recorded as its campaign's latest reservation size.
 */
export const RESERVE = new RedisScript(
  'reserve',
  `${DROP_EXPIRED}
local now, expiresAt, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local admitted = {}
for i = 0, #KEYS / 5 - 1 do
  local spend, reservations, amounts, sum, sizes = KEYS[5 * i + 1], KEYS[5 * i + 2], KEYS[5 * i + 3], KEYS[5 * i + 4], KEYS[5 * i + 5]
  local campaign, member, amount, budget = ARGV[4 * i + 4], ARGV[4 * i + 5], ARGV[4 * i + 6], ARGV[4 * i + 7]
  dropExpired(reservations, amounts, sum, now)
  if redis.call('ZSCORE', reservations, member) then
    admitted[i + 1] = 1
  else
    redis.call('HSET', sizes, campaign, amount)
    if redis.call('PTTL', sizes) < ttl then redis.call('PEXPIRE', sizes, ttl) end
    local spent = tonumber(redis.call('HGET', spend, campaign) or '0')
    local reserved = tonumber(redis.call('GET', sum) or '0')
    if spent + reserved + tonumber(amount) <= tonumber(budget) then
      redis.call('ZADD', reservations, expiresAt, member)
      redis.call('HSET', amounts, member, amount)
      redis.call('INCRBY', sum, amount)
      for _, key in ipairs({ reservations, amounts, sum }) do
        if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
      end
      admitted[i + 1] = 1
    else
      admitted[i + 1] = 0
    end
  end
end
return admitted
`,
);

/** KEYS reservations, amounts, sum; ARGV[1] the reservation id. Returns 1 when it was held. */
export const RELEASE_RESERVATION = new RedisScript(
  'release',
  `${RELEASE}
return release(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
`,
);

/**
 * Per campaign-day three KEYS (reservations, amounts, sum); ARGV[1] now (ms). Drops each one's
 * expired reservations and returns what its live ones hold, one sum per triple, so a reader of
 * the budget state never counts a reservation whose impression will not come.
 */
export const LIVE_RESERVED = new RedisScript(
  'live-reserved',
  `${DROP_EXPIRED}
local sums = {}
for i = 0, #KEYS / 3 - 1 do
  local reservations, amounts, sum = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  dropExpired(reservations, amounts, sum, ARGV[1])
  sums[i + 1] = redis.call('GET', sum) or '0'
end
return sums
`,
);

/**
 * The spend rise and the release of the reservation it settles in one step, so no reader ever sees
 * the reservation gone while the spend does not include it yet. KEYS spend, reservations, amounts,
 * sum; ARGV key ttl (s), campaignId, charged micros, reservationId.
 */
export const SETTLE = new RedisScript(
  'settle',
  `${RAISE_SPEND}${RELEASE}
raiseSpend(KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return release(KEYS[2], KEYS[3], KEYS[4], ARGV[4])
`,
);

/**
 * KEYS[1] the user's hash: per campaign a count (field "<id>") and the start of its window
 * ("<id>:since"). ARGV now (ms), then (campaignId, window ms) pairs. A window starts at the first
 * serve and a serve after it ends starts a new one; the key lives as long as its longest window.
 */
export const RECORD_SERVED = new RedisScript(
  'record-served',
  `
local now = tonumber(ARGV[1])
local keep = 0
local ads, halfLife = tonumber(ARGV[2]), tonumber(ARGV[3])
if ads > 0 then
  -- The user's ad exposure: a count decayed by half every halfLife ms, stamped with when it was.
  local state = redis.call('HMGET', KEYS[1], 'exposure:n', 'exposure:at')
  local n, at = tonumber(state[1] or '') or 0, tonumber(state[2] or '') or now
  local t = math.max(now, at)
  n = n * math.pow(2, -(t - at) / halfLife) + ads
  redis.call('HSET', KEYS[1], 'exposure:n', string.format('%.9g', n), 'exposure:at', string.format('%d', t))
  keep = 10 * halfLife
end
for i = 4, #ARGV, 2 do
  local campaign, window = ARGV[i], tonumber(ARGV[i + 1])
  local sinceField = campaign .. ':since'
  local since = tonumber(redis.call('HGET', KEYS[1], sinceField) or '')
  if since == nil or now >= since + window then
    redis.call('HSET', KEYS[1], campaign, 1, sinceField, ARGV[1])
    since = now
  else
    redis.call('HINCRBY', KEYS[1], campaign, 1)
  end
  if since + window - now > keep then keep = since + window - now end
end
if keep > 0 and redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return keep
`,
);
