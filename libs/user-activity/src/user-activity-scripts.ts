import { RedisScript } from '@adfunnel/redis';

/**
 * The user hash (UserActivityKeys.user): `at` (updatedAt, epoch ms), the four decayed counts per
 * category as comma-separated numbers (%.17g, so a double comes back exactly), `ads` and `advertisers`
 * (comma-separated ids, most recent first), `queries` and `query-requests` (separated by the unit
 * separator \x1f, which normalizeQuery never leaves in a query), and, once the surface reported
 * organic activity, `engagements` (counts like the other four; absent before the first engagement).
 * The organic event ids folded live beside it (UserActivityKeys.organicIds), so that the read on the
 * serving path does not carry them. The scripts do what foldEvent,
 * foldQuery and foldEngagement do, in the same order of operations, so both give the same numbers.
 */
export const USER_HASH_FIELDS = {
  at: 'at',
  impression: 'impressions',
  click: 'clicks',
  hide: 'hides',
  conversion: 'conversions',
  ads: 'ads',
  advertisers: 'advertisers',
  queries: 'queries',
  queryRequests: 'query-requests',
  engagement: 'engagements',
} as const;

export const LIST_SEPARATOR = '\x1f';

const HELPERS = `
local function split(s, sep)
  local out = {}
  if not s or s == '' then return out end
  local start = 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then
      out[#out + 1] = string.sub(s, start)
      return out
    end
    out[#out + 1] = string.sub(s, start, i - 1)
    start = i + 1
  end
end
local function counts(s, n)
  local parts = split(s, ',')
  local out = {}
  for i = 1, n do out[i] = tonumber(parts[i]) or 0 end
  return out
end
local function join_numbers(t)
  local parts = {}
  for i = 1, #t do parts[i] = string.format('%.17g', t[i]) end
  return table.concat(parts, ',')
end
-- value first without another copy (late: last, if absent and there is room), at most max entries
local function remember(list, value, late, max)
  if late then
    for i = 1, #list do if list[i] == value then return list end end
    if #list >= max then return list end
    list[#list + 1] = value
    return list
  end
  local out = { value }
  for i = 1, #list do
    if list[i] ~= value and #out < max then out[#out + 1] = list[i] end
  end
  return out
end
local function without(list, value)
  local out = {}
  for i = 1, #list do if list[i] ~= value then out[#out + 1] = list[i] end end
  return out
end
local COUNT_FIELDS = { 'impressions', 'clicks', 'hides', 'conversions', 'engagements' }
-- the counts decayed from updated_at to at (unless at is earlier), plus weight on category cat of
-- target; engagements (raw[5]) only once there are some, or when they are the target
local function decayed_counts(raw, n, scale, target, cat, weight, out)
  for f = 1, 5 do
    if f < 5 or raw[f] or target == COUNT_FIELDS[f] then
      local c = counts(raw[f], n)
      for k = 1, n do c[k] = c[k] * scale end
      if COUNT_FIELDS[f] == target then c[cat] = c[cat] + weight end
      out[#out + 1] = COUNT_FIELDS[f]
      out[#out + 1] = join_numbers(c)
    end
  end
end
`;

/**
 * KEYS: user hash. ARGV: at, halfLifeMs, ttlMs, categories, count field, category index (0-based),
 * ad id, advertiser id, max recent, event type.
 */
export const FOLD_EVENT = new RedisScript(
  'user-activity-fold-event',
  `${HELPERS}
local key = KEYS[1]
local at = tonumber(ARGV[1])
local half = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local cat = tonumber(ARGV[6]) + 1
local max = tonumber(ARGV[9])
local kind = ARGV[10]
local raw = redis.call('HMGET', key, 'at', 'impressions', 'clicks', 'hides', 'conversions', 'ads', 'advertisers', 'engagements')
local updated_at = tonumber(raw[1]) or 0
local late = at < updated_at
local scale, weight = 1, 1
local out = {}
if late then
  weight = 2 ^ (-(updated_at - at) / half)
else
  if at > updated_at then scale = 2 ^ (-(at - updated_at) / half) end
  out[1] = 'at'
  out[2] = ARGV[1]
end
decayed_counts({ raw[2], raw[3], raw[4], raw[5], raw[8] }, n, scale, ARGV[5], cat, weight, out)
if kind == 'click' or kind == 'conversion' then
  out[#out + 1] = 'ads'
  out[#out + 1] = table.concat(remember(split(raw[6], ','), ARGV[7], late, max), ',')
  out[#out + 1] = 'advertisers'
  out[#out + 1] = table.concat(remember(split(raw[7], ','), ARGV[8], late, max), ',')
elseif kind == 'hide' then
  out[#out + 1] = 'ads'
  out[#out + 1] = table.concat(without(split(raw[6], ','), ARGV[7]), ',')
  out[#out + 1] = 'advertisers'
  out[#out + 1] = table.concat(without(split(raw[7], ','), ARGV[8]), ',')
end
redis.call('HSET', key, unpack(out))
redis.call('PEXPIRE', key, ARGV[3])
return 1
`,
);

/**
 * KEYS: user hash. ARGV: at, halfLifeMs, ttlMs, categories, normalized query, request id, max recent,
 * request ids remembered. Returns 0, changing nothing, when the request's query was already folded.
 */
export const FOLD_QUERY = new RedisScript(
  'user-activity-fold-query',
  `${HELPERS}
local key = KEYS[1]
local at = tonumber(ARGV[1])
local half = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local max = tonumber(ARGV[7])
local raw = redis.call('HMGET', key, 'at', 'impressions', 'clicks', 'hides', 'conversions', 'queries', 'query-requests', 'engagements')
local requests = split(raw[7], '\\31')
for i = 1, #requests do
  if requests[i] == ARGV[6] then return 0 end
end
local updated_at = tonumber(raw[1]) or 0
local late = at < updated_at
local scale = 1
local out = {}
if not late then
  if at > updated_at then scale = 2 ^ (-(at - updated_at) / half) end
  out[1] = 'at'
  out[2] = ARGV[1]
end
decayed_counts({ raw[2], raw[3], raw[4], raw[5], raw[8] }, n, scale, '', 1, 0, out)
out[#out + 1] = 'queries'
out[#out + 1] = table.concat(remember(split(raw[6], '\\31'), ARGV[5], late, max), '\\31')
out[#out + 1] = 'query-requests'
out[#out + 1] = table.concat(remember(requests, ARGV[6], false, tonumber(ARGV[8])), '\\31')
redis.call('HSET', key, unpack(out))
redis.call('PEXPIRE', key, ARGV[3])
return 1
`,
);

/**
 * KEYS: user hash, the user's organic event ids (sorted set, id -> its event's time). ARGV:
 * halfLifeMs, ttlMs, categories, max recent, event ids remembered, then per event four values: id,
 * kind (`engagement` or `search`), at, and the category index (0-based) or the normalized query.
 * Folds the events in order as foldEngagement and foldQuery would, skipping each whose id is in the
 * set (a retried report, or an id twice in one); one write of the hash at the end; the set keeps the
 * ids of the latest events, at most the number remembered. Returns { folded, duplicates }.
 */
export const FOLD_ORGANIC = new RedisScript(
  'user-activity-fold-organic',
  `${HELPERS}
local key = KEYS[1]
local half = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local remembered = tonumber(ARGV[5])
local raw = redis.call('HMGET', key, 'at', 'impressions', 'clicks', 'hides', 'conversions', 'engagements', 'queries')
local updated_at = tonumber(raw[1]) or 0
local c = {}
for f = 1, 4 do c[f] = counts(raw[f + 1], n) end
if raw[6] then c[5] = counts(raw[6], n) end
local queries = split(raw[7], '\\31')
local folded, duplicates = 0, 0
for i = 6, #ARGV, 4 do
  local id, kind, at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('ZSCORE', KEYS[2], id) then
    duplicates = duplicates + 1
  else
    local late = at < updated_at
    local weight = 1
    if late then
      weight = 2 ^ (-(updated_at - at) / half)
    elseif at > updated_at then
      local scale = 2 ^ (-(at - updated_at) / half)
      for f = 1, 5 do
        if c[f] then for k = 1, n do c[f][k] = c[f][k] * scale end end
      end
      updated_at = at
    end
    if kind == 'engagement' then
      local cat = tonumber(ARGV[i + 3]) + 1
      if not c[5] then c[5] = counts(false, n) end
      c[5][cat] = c[5][cat] + weight
    else
      queries = remember(queries, ARGV[i + 3], late, max)
    end
    redis.call('ZADD', KEYS[2], ARGV[i + 2], id)
    folded = folded + 1
  end
end
if folded > 0 then
  local out = { 'at', string.format('%d', updated_at) }
  for f = 1, 5 do
    if c[f] then
      out[#out + 1] = COUNT_FIELDS[f]
      out[#out + 1] = join_numbers(c[f])
    end
  end
  out[#out + 1] = 'queries'
  out[#out + 1] = table.concat(queries, '\\31')
  redis.call('HSET', key, unpack(out))
  redis.call('PEXPIRE', key, ARGV[2])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(remembered + 1))
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return { folded, duplicates }
`,
);

/**
 * KEYS: trending sorted set, its epoch. ARGV: at, halfLifeMs, max ads, ttlMs, ad id. Adds
 * 2^((at - epoch) / halfLife) to the ad: every score then decays at the same rate, so the order is
 * the order of decayed clicks, with no write to the other members. The first click sets the epoch;
 * once a score would pass 2^64 every score is rescaled to a new epoch (`at`), which keeps them
 * finite and exact enough whatever the clock.
 */
export const BUMP_TRENDING = new RedisScript(
  'user-activity-bump-trending',
  `
local at = tonumber(ARGV[1])
local half = tonumber(ARGV[2])
local epoch = tonumber(redis.call('GET', KEYS[2]))
if not epoch then
  epoch = at
  redis.call('SET', KEYS[2], ARGV[1])
end
local e = (at - epoch) / half
if e > 64 then
  local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local f = 2 ^ (-e)
  for i = 1, #items, 2 do
    redis.call('ZADD', KEYS[1], string.format('%.17g', tonumber(items[i + 1]) * f), items[i])
  end
  redis.call('SET', KEYS[2], ARGV[1])
  e = 0
end
redis.call('ZINCRBY', KEYS[1], string.format('%.17g', 2 ^ e), ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`,
);
