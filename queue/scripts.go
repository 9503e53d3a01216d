package queue

import "github.com/redis/go-redis/v9"

// Every script receives the same KEYS and the same leading ARGV, built by
// (*Redis).layout, so that every key a script may touch is declared in
// KEYS (a Redis Cluster routes and checks them; all carry the
// "{<service>}" hash tag and so live in one slot):
//
//	KEYS[1]      -> <prefix>:{<service>}:calls    HASH  call ID -> call JSON
//	KEYS[2]      -> <prefix>:{<service>}:ops      HASH  operator ID -> operator JSON
//	KEYS[3]      -> <prefix>:{<service>}:offers   ZSET  call ID scored by offer expiry (ms)
//	KEYS[4]      -> <prefix>:{<service>}:wrapups  ZSET  operator ID scored by wrap-up end (ms)
//	KEYS[5]      -> <prefix>:{<service>}:langs    SET   every language ever seen
//	KEYS[4+2i]   -> <prefix>:{<service>}:waiting:<lang i>  ZSET unreserved calls scored by Enqueued (ms)
//	KEYS[5+2i]   -> <prefix>:{<service>}:avail:<lang i>    ZSET available operators with that skill scored by IdleSince (ms)
//	ARGV[1]      -> events channel "<prefix>:{<service>}:events"
//	ARGV[2]      -> n, the number of languages
//	ARGV[3..2+n] -> the languages, in the order of their KEYS
//	ARGV[3+n..]  -> the script's own arguments (listed above each script)
//
// Languages are discovered, not configured: the node passes the ones it
// knows; a script that finds a different count in KEYS[5] answers
// "LANGS" and the node reloads the set and retries. Languages are never
// removed, so equal counts mean equal sets.
//
// A call JSON is {"id","svc","lang","node","tag","enq","op","exp"} (op/exp:
// the operator it is offered to and the offer's expiry, "" and 0 when
// waiting). An operator JSON is {"id","ep","sk":[skills],"st","since",
// "idle","reason","wrap","call"}. Times are Unix milliseconds from the
// caller's clock; no script reads the server's clock.
//
// Failures a caller branches on are error replies whose first word is
// the code: UNKNOWN_CALL, UNKNOWN_OPERATOR, OFFER_LOST, BAD_STATE, LANGS.
const luaPrelude = `
local callsk, opsk, offersk, wrapk, langk = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local chan = ARGV[1]
local nl = tonumber(ARGV[2])
local langs, waitk, availk = {}, {}, {}
for i = 1, nl do
  local l = ARGV[2 + i]
  langs[i] = l
  waitk[l] = KEYS[4 + 2 * i]
  availk[l] = KEYS[5 + 2 * i]
end
local A = 2 + nl

local function emit(ev) redis.call('PUBLISH', chan, cjson.encode(ev)) end
local function nz(s) if s == '' then return nil end return s end

local function getcall(id)
  local v = redis.call('HGET', callsk, id)
  if not v then return nil end
  return cjson.decode(v)
end
local function putcall(c) redis.call('HSET', callsk, c.id, cjson.encode(c)) end
local function getop(id)
  local v = redis.call('HGET', opsk, id)
  if not v then return nil end
  return cjson.decode(v)
end
local function putop(o) redis.call('HSET', opsk, o.id, cjson.encode(o)) end
local function opev(o, at)
  emit({kind = 'operator', at = at, op = o.id, state = o.st, reason = nz(o.reason)})
end

-- before orders equal-score members bytewise, as a ZSET does (Lua's '<'
-- on strings follows the server's locale).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local function setavail(o)
  for _, s in ipairs(o.sk) do redis.call('ZADD', availk[s], o.idle, o.id) end
end
local function unavail(o)
  for _, s in ipairs(o.sk) do redis.call('ZREM', availk[s], o.id) end
end
-- free makes o available from since: no call, pause reason or wrap-up
-- left; idle (nil: kept) is the new IdleSince, which orders the offers.
local function free(o, since, idle)
  o.st = 'available'
  o.since = since
  if idle then o.idle = idle end
  o.call = ''
  o.reason = ''
  o.wrap = 0
  putop(o)
  setavail(o)
  opev(o, since)
end

-- returncall puts an offered call back in its place (its Enqueued score).
local function returncall(c, reason, now)
  local op = c.op
  c.op = ''
  c.exp = 0
  putcall(c)
  redis.call('ZREM', offersk, c.id)
  redis.call('ZADD', waitk[c.lang], c.enq, c.id)
  emit({kind = 'returned', at = now, call = c.id, op = nz(op), lang = c.lang, reason = reason})
end

-- withdraw returns the call ringing operator o, if any (o is not saved).
local function withdraw(o, reason, now)
  if o.st ~= 'ringing' then return end
  local c = getcall(o.call)
  if c and c.op == o.id then returncall(c, reason, now) end
  o.call = ''
end

-- housekeep promotes ended wrap-ups and returns expired offers as of now.
local function housekeep(now)
  local due = redis.call('ZRANGEBYSCORE', wrapk, '-inf', now)
  for _, id in ipairs(due) do
    redis.call('ZREM', wrapk, id)
    local o = getop(id)
    if o and o.st == 'wrapup' then
      free(o, o.wrap, o.wrap)
    end
  end
  local exp = redis.call('ZRANGEBYSCORE', offersk, '-inf', now)
  for _, id in ipairs(exp) do
    redis.call('ZREM', offersk, id)
    local c = getcall(id)
    if c and c.op ~= '' then
      local o = getop(c.op)
      returncall(c, 'expired', now)
      if o and o.st == 'ringing' and o.call == id then
        free(o, now, now)
      end
    end
  end
end

-- liveoffer returns the call and operator of the offer (cid, opid, exp),
-- or nil when it is no longer the live one.
local function liveoffer(cid, opid, exp)
  local c = getcall(cid)
  if not c or opid == '' or c.op ~= opid or c.exp ~= exp then return nil end
  local o = getop(opid)
  if not o or o.st ~= 'ringing' or o.call ~= cid then return nil end
  return c, o
end
`

// checkLangs refuses to run with a stale language list.
const luaCheckLangs = `
if redis.call('SCARD', langk) ~= nl then return redis.error_reply('LANGS stale language list') end
`

// addLangs records the caller's languages before checking: Enqueue and
// Login may introduce one.
const luaAddLangs = `
for i = 1, nl do redis.call('SADD', langk, langs[i]) end
`

func script(body string, addLangs bool) *redis.Script {
	pre := luaPrelude
	if addLangs {
		pre += luaAddLangs
	}
	return redis.NewScript(pre + luaCheckLangs + body)
}

// enqueueScript adds a call unless known.
//
//	ARGV[A+1] -> call JSON (op "" and exp 0)
//	Output: 1 if added, 0 if the call was already known (nothing changed)
var enqueueScript = script(`
local c = cjson.decode(ARGV[A + 1])
if redis.call('HEXISTS', callsk, c.id) == 1 then return 0 end
putcall(c)
redis.call('ZADD', waitk[c.lang], c.enq, c.id)
emit({kind = 'enqueued', at = c.enq, call = c.id, lang = c.lang})
return 1
`, true)

// leaveScript removes a call, freeing the operator it was offered to.
//
//	ARGV[A+1] -> call ID
//	ARGV[A+2] -> now (ms)
//	Output: the operator ID the call was offered to, or "" if waiting
//	Errors: UNKNOWN_CALL
var leaveScript = script(`
local id, now = ARGV[A + 1], tonumber(ARGV[A + 2])
local c = getcall(id)
if not c then return redis.error_reply('UNKNOWN_CALL') end
redis.call('HDEL', callsk, id)
redis.call('ZREM', waitk[c.lang], id)
redis.call('ZREM', offersk, id)
local opid = c.op
emit({kind = 'left', at = now, call = id, op = nz(opid), lang = c.lang})
if opid ~= '' then
  local o = getop(opid)
  if o and o.st == 'ringing' and o.call == id then
    -- The caller hung up: the operator keeps their IdleSince.
    free(o, now, nil)
  end
end
return opid
`, false)

// positionScript computes a call's 1-based place in its language, offered
// calls included.
//
//	ARGV[A+1] -> call ID
//	Output: the position
//	Errors: UNKNOWN_CALL
var positionScript = script(`
local id = ARGV[A + 1]
local c = getcall(id)
if not c then return redis.error_reply('UNKNOWN_CALL') end
local w = waitk[c.lang]
local pos = 1
if c.op == '' then
  pos = pos + redis.call('ZRANK', w, id)
else
  pos = pos + redis.call('ZCOUNT', w, '-inf', '(' .. c.enq)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', w, c.enq, c.enq)) do
    if before(m, id) then pos = pos + 1 end
  end
end
for _, m in ipairs(redis.call('ZRANGE', offersk, 0, -1)) do
  if m ~= id then
    local oc = getcall(m)
    if oc and oc.lang == c.lang and (oc.enq < c.enq or (oc.enq == c.enq and before(oc.id, id))) then
      pos = pos + 1
    end
  end
end
return pos
`, false)

// loginScript logs an operator in or updates a logged-in one's skills.
//
//	ARGV[A+1] -> operator ID
//	ARGV[A+2] -> endpoint
//	ARGV[A+3] -> skills, JSON array (non-empty)
//	ARGV[A+4] -> now (ms)
//	Output: 1
var loginScript = script(`
local id, now = ARGV[A + 1], tonumber(ARGV[A + 4])
local o = getop(id)
if not o then
  o = {id = id, st = 'logged_out', since = 0, idle = 0, reason = '', wrap = 0, call = '', sk = {}}
end
if o.st == 'available' then unavail(o) end
o.ep = ARGV[A + 2]
o.sk = cjson.decode(ARGV[A + 3])
if o.st == 'logged_out' then
  free(o, now, now)
else
  putop(o)
  if o.st == 'available' then setavail(o) end
end
return 1
`, true)

// logoutScript logs an operator out, returning a ringing offer.
//
//	ARGV[A+1] -> operator ID
//	ARGV[A+2] -> now (ms)
//	Output: 1
//	Errors: UNKNOWN_OPERATOR
var logoutScript = script(`
local id, now = ARGV[A + 1], tonumber(ARGV[A + 2])
local o = getop(id)
if not o then return redis.error_reply('UNKNOWN_OPERATOR') end
if o.st == 'logged_out' then return 1 end
withdraw(o, 'logout', now)
if o.st == 'available' then unavail(o) end
redis.call('ZREM', wrapk, id)
o.st = 'logged_out'
o.since = now
o.reason = ''
o.wrap = 0
o.call = ''
putop(o)
opev(o, now)
return 1
`, false)

// pauseScript pauses an available, wrap-up or ringing operator (or
// updates a paused one's reason).
//
//	ARGV[A+1] -> operator ID
//	ARGV[A+2] -> reason
//	ARGV[A+3] -> now (ms)
//	Output: 1
//	Errors: UNKNOWN_OPERATOR, BAD_STATE <state>
var pauseScript = script(`
local id, reason, now = ARGV[A + 1], ARGV[A + 2], tonumber(ARGV[A + 3])
local o = getop(id)
if not o then return redis.error_reply('UNKNOWN_OPERATOR') end
if o.st == 'paused' then
  if o.reason ~= reason then
    o.reason = reason
    putop(o)
    opev(o, now)
  end
  return 1
end
if o.st ~= 'available' and o.st ~= 'wrapup' and o.st ~= 'ringing' then
  return redis.error_reply('BAD_STATE ' .. o.st)
end
withdraw(o, 'paused', now)
if o.st == 'available' then unavail(o) end
redis.call('ZREM', wrapk, id)
o.st = 'paused'
o.since = now
o.reason = reason
o.wrap = 0
o.call = ''
putop(o)
opev(o, now)
return 1
`, false)

// unpauseScript makes a paused operator available.
//
//	ARGV[A+1] -> operator ID
//	ARGV[A+2] -> now (ms)
//	Output: 1
//	Errors: UNKNOWN_OPERATOR, BAD_STATE <state>
var unpauseScript = script(`
local id, now = ARGV[A + 1], tonumber(ARGV[A + 2])
local o = getop(id)
if not o then return redis.error_reply('UNKNOWN_OPERATOR') end
if o.st ~= 'paused' then return redis.error_reply('BAD_STATE ' .. o.st) end
free(o, now, now)
return 1
`, false)

// assignScript promotes due wrap-ups, returns expired offers, then offers
// the oldest waiting call whose language has an available operator to
// the longest-idle such operator.
//
//	ARGV[A+1] -> now (ms)
//	ARGV[A+2] -> reservation TTL (ms)
//	Output: {call ID, operator ID, endpoint, language, node, expiry ms},
//	        or nil (false) when nothing matches
var assignScript = script(`
local now, ttl = tonumber(ARGV[A + 1]), tonumber(ARGV[A + 2])
housekeep(now)
local bc, bs, bl
for _, l in ipairs(langs) do
  if redis.call('ZCARD', availk[l]) > 0 then
    local w = redis.call('ZRANGE', waitk[l], 0, 0, 'WITHSCORES')
    if #w > 0 then
      local s = tonumber(w[2])
      if not bc or s < bs or (s == bs and before(w[1], bc)) then
        bc, bs, bl = w[1], s, l
      end
    end
  end
end
if not bc then return false end
local opid = redis.call('ZRANGE', availk[bl], 0, 0)[1]
local o = getop(opid)
local c = getcall(bc)
unavail(o)
redis.call('ZREM', waitk[bl], bc)
local exp = now + ttl
c.op = opid
c.exp = exp
putcall(c)
redis.call('ZADD', offersk, exp, bc)
o.st = 'ringing'
o.since = now
o.call = bc
putop(o)
emit({kind = 'offered', at = now, call = bc, op = opid, lang = bl, state = 'ringing'})
return {bc, opid, o.ep or '', bl, c.node or '', exp}
`, false)

// answeredScript confirms a live offer: the call leaves, the operator is
// busy.
//
//	ARGV[A+1] -> call ID
//	ARGV[A+2] -> operator ID
//	ARGV[A+3] -> offer expiry (ms), part of the offer's identity
//	ARGV[A+4] -> now (ms)
//	Output: 1
//	Errors: OFFER_LOST
var answeredScript = script(`
local cid, opid, exp, now = ARGV[A + 1], ARGV[A + 2], tonumber(ARGV[A + 3]), tonumber(ARGV[A + 4])
housekeep(now)
local c, o = liveoffer(cid, opid, exp)
if not c then return redis.error_reply('OFFER_LOST') end
redis.call('HDEL', callsk, cid)
redis.call('ZREM', offersk, cid)
o.st = 'busy'
o.since = now
putop(o)
emit({kind = 'answered', at = now, call = cid, op = opid, lang = c.lang, state = 'busy'})
return 1
`, false)

// ringFailedScript returns the call of a live offer to its place and
// pauses or frees the operator.
//
//	ARGV[A+1] -> call ID
//	ARGV[A+2] -> operator ID
//	ARGV[A+3] -> offer expiry (ms)
//	ARGV[A+4] -> "1" to pause the operator, "0" to make them available
//	ARGV[A+5] -> pause reason
//	ARGV[A+6] -> now (ms)
//	Output: 1
//	Errors: OFFER_LOST
var ringFailedScript = script(`
local cid, opid, exp = ARGV[A + 1], ARGV[A + 2], tonumber(ARGV[A + 3])
local pause, reason, now = ARGV[A + 4] == '1', ARGV[A + 5], tonumber(ARGV[A + 6])
housekeep(now)
local c, o = liveoffer(cid, opid, exp)
if not c then return redis.error_reply('OFFER_LOST') end
returncall(c, 'ring_failed', now)
o.call = ''
o.since = now
if pause then
  o.st = 'paused'
  o.reason = reason
  putop(o)
else
  o.st = 'available'
  o.idle = now
  putop(o)
  setavail(o)
end
opev(o, now)
return 1
`, false)

// finishScript ends a busy operator's call: wrap-up or available.
//
//	ARGV[A+1] -> operator ID
//	ARGV[A+2] -> wrap-up end (ms)
//	ARGV[A+3] -> now (ms)
//	Output: 1
//	Errors: UNKNOWN_OPERATOR, BAD_STATE <state>
var finishScript = script(`
local id, wrap, now = ARGV[A + 1], tonumber(ARGV[A + 2]), tonumber(ARGV[A + 3])
local o = getop(id)
if not o then return redis.error_reply('UNKNOWN_OPERATOR') end
if o.st ~= 'busy' then return redis.error_reply('BAD_STATE ' .. o.st) end
o.call = ''
o.since = now
if wrap > now then
  o.st = 'wrapup'
  o.wrap = wrap
  putop(o)
  redis.call('ZADD', wrapk, wrap, id)
else
  o.st = 'available'
  o.idle = now
  putop(o)
  setavail(o)
end
opev(o, now)
return 1
`, false)

// snapshotScript brings the queue up to now and returns all of it.
//
//	ARGV[A+1] -> now (ms)
//	Output: {{call JSON...}, {operator JSON...}}
var snapshotScript = script(`
housekeep(tonumber(ARGV[A + 1]))
return {redis.call('HVALS', callsk), redis.call('HVALS', opsk)}
`, false)
