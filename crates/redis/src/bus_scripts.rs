//! The Lua scripts of the Redis message bus (see `bus.rs`): adding to a trimmed stream, a
//! message for a session's GET stream (RB-20), the claim of a GET stream and the hand-on of a
//! broadcast to the GET streams an instance holds (RB-36). Each is one atomic step in Redis.

/// Adds a message to a stream trimmed to the retention (ARGV[1], ms) by the server's clock. With
/// a second key (an instance's heartbeat), only while that instance is alive: 0 when it is gone.
pub(crate) const ADD: &str = r"
if #KEYS == 2 and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local now = redis.call('TIME')
local minid = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[1])
if minid < 0 then minid = 0 end
redis.call('XADD', KEYS[1], 'MINID', '~', minid, '*', unpack(ARGV, 2))
return 1
";

/// A message for a session's GET stream (RB-20): to the inbox of the holder the record names
/// (`go`, the JSON text of an instance id) while its heartbeat lives, else into the session's
/// GET log, kept until a GET stream claims it. KEYS: the record, the GET log. ARGV: the inbox
/// and heartbeat key prefixes, the inbox retention (ms), the session, the message, the GET
/// log's bound and expiry (ms), and for a flush (RB-20) the instance to answer, with the
/// flush's token as the message (a flush goes to the holder only, never into the log).
/// 1: sent to the holder; 2: kept; 0: the session is gone (or, for a flush, no holder).
pub(crate) const TO_GET: &str = r"
local go = redis.call('HGET', KEYS[1], 'go')
if go then
  local ok, owner = pcall(cjson.decode, go)
  if ok and type(owner) == 'string' and redis.call('EXISTS', ARGV[2] .. owner) == 1 then
    local now = redis.call('TIME')
    local minid = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[3])
    if minid < 0 then minid = 0 end
    if ARGV[8] then
      redis.call('XADD', ARGV[1] .. owner, 'MINID', '~', minid, '*', 'k', 'f', 's', ARGV[4], 'm', ARGV[5], 'a', ARGV[8])
    else
      redis.call('XADD', ARGV[1] .. owner, 'MINID', '~', minid, '*', 'k', 'g', 's', ARGV[4], 'm', ARGV[5])
    end
    return 1
  end
end
if ARGV[8] or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'm', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 2
";

/// Lua helpers of the scripts that hand broadcasts to GET streams (RB-36): `later(a, b)`,
/// whether stream entry id `a` comes after `b`; `wanted(subs, uri)`, whether a session whose
/// record has `subs` (the JSON list of its subscriptions) gets a broadcast for the subscribers
/// of `uri` (`''`: for every session).
const BROADCAST_HELPERS: &str = r"
local function later(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not am then return false end
  if not bm then return true end
  am, bm = tonumber(am), tonumber(bm)
  if am ~= bm then return am > bm end
  return tonumber(as) > tonumber(bs)
end
local function wanted(subs, uri)
  if uri == '' then return true end
  if not subs then return false end
  local ok, list = pcall(cjson.decode, subs)
  if not ok or type(list) ~= 'table' then return false end
  for _, u in ipairs(list) do
    if u == uri then return true end
  end
  return false
end
local function cursor(bc, t0)
  if bc then return bc end
  if t0 and string.match(t0, '^%d+$') then return t0 .. '-0' end
  return '0-0'
end
";

/// An instance claims a session's GET stream (RB-20): the record names it as holder (ARGV[1],
/// JSON text) and the GET log's messages are taken, in order, and removed, merged by time with
/// the broadcasts for the session that came after the record's cursor (`bc`, else its
/// creation) and that no holder took (the newest ARGV[2] of them), and the cursor moves past
/// them (RB-36). KEYS: the record, the GET log, the stream of broadcasts.
pub(crate) fn claim_get_script() -> String {
    format!("{BROADCAST_HELPERS}{CLAIM_GET_BODY}")
}

const CLAIM_GET_BODY: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], 'go', ARGV[1])
local logged = redis.call('XRANGE', KEYS[2], '-', '+')
redis.call('UNLINK', KEYS[2])
local f = redis.call('HMGET', KEYS[1], 'bc', 't0', 'init', 'subs')
local notices = redis.call('XREVRANGE', KEYS[3], '+', '(' .. cursor(f[1], f[2]), 'COUNT', tonumber(ARGV[2]))
if #notices > 0 then redis.call('HSET', KEYS[1], 'bc', notices[1][1]) end
local function message(entry)
  local m, u = nil, ''
  local fields = entry[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'm' then m = fields[j + 1] elseif fields[j] == 'u' then u = fields[j + 1] end
  end
  return m, u
end
local kept = {}
if f[3] == 'true' then
  for i = #notices, 1, -1 do
    local m, u = message(notices[i])
    if m and wanted(f[4], u) then kept[#kept + 1] = {notices[i][1], m} end
  end
end
local out = {}
local a, b = 1, 1
while a <= #logged or b <= #kept do
  if b > #kept or (a <= #logged and not later(logged[a][1], kept[b][1])) then
    local m = message(logged[a])
    if m then out[#out + 1] = m end
    a = a + 1
  else
    out[#out + 1] = kept[b][2]
    b = b + 1
  end
end
return out
";

/// Of the sessions whose records are KEYS, the (1-based) places of those that get broadcast
/// ARGV[2] from the instance ARGV[1] (JSON text) holding their GET streams: the record names
/// it as holder and the broadcast comes after the record's cursor, which moves to it (a claim
/// elsewhere then hands on only what came after); of those, the initialized ones subscribed
/// to ARGV[3] (`''`: every session). One step per broadcast and instance for all the GET
/// streams it holds (RB-36).
pub(crate) fn take_broadcast_script() -> String {
    format!("{BROADCAST_HELPERS}{TAKE_BROADCAST_BODY}")
}

const TAKE_BROADCAST_BODY: &str = r"
local out = {}
for i = 1, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'go', 'bc', 't0', 'init', 'subs')
  if f[1] == ARGV[1] and later(ARGV[2], cursor(f[2], f[3])) then
    redis.call('HSET', KEYS[i], 'bc', ARGV[2])
    if f[4] == 'true' and wanted(f[5], ARGV[3]) then out[#out + 1] = i end
  end
end
return out
";
