package queue

// The multi-node scripts take the common KEYS and leading ARGV of every
// script (see scripts.go) and three more keys at the end of KEYS, built by
// (*Redis).runNodes:
//
//	KEYS[6+2n] -> <prefix>:{<service>}:nodes  ZSET  node -> heartbeat expiry (ms, caller's clock)
//	KEYS[7+2n] -> <prefix>:{<service>}:dead   SET   nodes reaped and not yet beating again
//	KEYS[8+2n] -> <prefix>:{<service>}:hosts  HASH  operator ID -> node hosting their phone
//	KEYS[9+2n] -> <prefix>:{<service>}:via    HASH  operator ID -> "<node>\t<call ID>": rung through a trunk for that node's call
//
// The heartbeat is a ZSET score on the caller's clock rather than a key
// with a server-side TTL, like every time in the queue: nodes agree on
// what "expired" means, and tests drive it with a fake clock.
const luaNodesKeys = `
local nodesk, deadk, hostsk, viak = KEYS[6 + 2 * nl], KEYS[7 + 2 * nl], KEYS[8 + 2 * nl], KEYS[9 + 2 * nl]
`

// heartbeatScript records that a node is alive; a reaped node that beats
// again gets its unreachable operators back.
//
//	ARGV[A+1] -> node
//	ARGV[A+2] -> now (ms)
//	ARGV[A+3] -> heartbeat expiry (ms)
//	Output: the number of operators made available again
var heartbeatScript = script(luaNodesKeys+`
local node, now, exp = ARGV[A + 1], tonumber(ARGV[A + 2]), tonumber(ARGV[A + 3])
redis.call('ZADD', nodesk, exp, node)
if redis.call('SREM', deadk, node) == 0 then return 0 end
local n = 0
local h = redis.call('HGETALL', hostsk)
for i = 1, #h, 2 do
  if h[i + 1] == node then
    local o = getop(h[i])
    if o and o.st == 'paused' and o.reason == 'unreachable' then
      free(o, now, now)
      n = n + 1
    end
  end
end
return n
`, false)

// reapScript deals with every node whose heartbeat expired: its logged-in
// operators are paused "unreachable" (a ringing offer returns to its
// place, a wrap-up is dropped), then its calls leave the queue (an
// operator ringing for one becomes available again, keeping their
// IdleSince, as after a Leave), and an operator of another node busy with
// one of its calls (through the trunk, see Nodes.Remote) is available.
//
//	ARGV[A+1] -> now (ms)
//	Output: the reaped nodes, sorted
var reapScript = script(luaNodesKeys+`
local now = tonumber(ARGV[A + 1])
local dead = redis.call('ZRANGEBYSCORE', nodesk, '-inf', now)
if #dead == 0 then return {} end
local isdead = {}
for _, node in ipairs(dead) do
  isdead[node] = true
  redis.call('ZREM', nodesk, node)
  redis.call('SADD', deadk, node)
end
local h = redis.call('HGETALL', hostsk)
local ids = {}
for i = 1, #h, 2 do
  if isdead[h[i + 1]] then ids[#ids + 1] = h[i] end
end
table.sort(ids)
for _, id in ipairs(ids) do
  local o = getop(id)
  if o and o.st ~= 'logged_out' and not (o.st == 'paused' and o.reason == 'unreachable') then
    withdraw(o, 'unreachable', now)
    if o.st == 'available' then unavail(o) end
    redis.call('ZREM', wrapk, id)
    o.st = 'paused'
    o.since = now
    o.reason = 'unreachable'
    o.wrap = 0
    o.call = ''
    putop(o)
    opev(o, now)
  end
end
local gone = {}
local all = redis.call('HGETALL', callsk)
for i = 2, #all, 2 do
  local c = cjson.decode(all[i])
  if isdead[c.node] then gone[#gone + 1] = c end
end
table.sort(gone, function(a, b) return a.id < b.id end)
for _, c in ipairs(gone) do
  redis.call('HDEL', callsk, c.id)
  redis.call('ZREM', waitk[c.lang], c.id)
  redis.call('ZREM', offersk, c.id)
  emit({kind = 'left', at = now, call = c.id, op = nz(c.op), lang = c.lang, reason = 'node_down'})
  if c.op ~= '' then
    local o = getop(c.op)
    if o and o.st == 'ringing' and o.call == c.id then
      free(o, now, nil)
    end
  end
end
local v = redis.call('HGETALL', viak)
for i = 1, #v, 2 do
  local tab = string.find(v[i + 1], '\t', 1, true)
  if tab and isdead[string.sub(v[i + 1], 1, tab - 1)] then
    local cid = string.sub(v[i + 1], tab + 1)
    redis.call('HDEL', viak, v[i])
    local o = getop(v[i])
    if o and o.st == 'busy' and o.call == cid then
      free(o, now, now)
    end
  end
end
table.sort(dead)
return dead
`, false)
