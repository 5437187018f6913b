"""The Lua scripts that change a target's shared health, each one atomic in Redis.

Every script takes the same three keys, which share one hash tag and so one Redis
Cluster slot: ``KEYS[1]`` the state hash (``fails``; ``open_until`` and ``cool_until`` in
ms; ``v``, the version), ``KEYS[2]`` the probe lease, and ``KEYS[3]`` the failure-rate
window (a hash of ``c:<slice>`` calls and ``f:<slice>`` failures, one slice per tenth of
the window, expiring after two windows). ``ARGV`` starts with the target id,
the channel, how long to keep a quiet state (ms) and the caller's clock (ms). Every
script returns ``{code, open_until, cool_until, probe_until, version}``, and one that
changes the state publishes ``"<tid> <open_until> <cool_until> <probe_until> <version>"``
on the channel: ``<prefix>:health`` with PUBLISH, or on a Redis Cluster the target's own
shard channel ``<prefix>:{<tid>}:health`` with SPUBLISH (Redis 7), in its keys' slot, so
that a change goes only to the node that holds them rather than to every node.

The version is Redis's own clock in microseconds at the change, so it only grows, even
across a restart or a flush of Redis, and a process can always tell a newer state from
an older one. The hash's expiry only ever grows too: it outlives the open breaker, the
cool-down and the probe lease by the quiet time.
"""

from __future__ import annotations

_COMMON = """
local now = tonumber(ARGV[4])
local function state(code)
  local s = redis.call('HMGET', KEYS[1], 'open_until', 'cool_until', 'v')
  local ttl = redis.call('PTTL', KEYS[2])
  local probe = 0
  if ttl > 0 then probe = now + ttl end
  -- The version stays a string: Lua would print a 16-digit number in exponent form.
  return {code, tonumber(s[1]) or 0, tonumber(s[2]) or 0, probe, s[3] or '0'}
end
local function keep()
  local s = state(0)
  local last = math.max(s[2], s[3], s[4], now)
  local ms = last - now + tonumber(ARGV[3])
  if redis.call('PTTL', KEYS[1]) < ms then redis.call('PEXPIRE', KEYS[1], ms) end
end
local function changed(code)
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'v', t[1] .. string.format('%06d', tonumber(t[2])))
  keep()
  local st = state(code)
  local message = table.concat({ARGV[1], st[2], st[3], st[4], st[5]}, ' ')
  -- A channel with a hash tag is a Cluster shard channel, in the slot of the keys.
  if string.find(ARGV[2], '{', 1, true) then
    redis.call('SPUBLISH', ARGV[2], message)
  else
    redis.call('PUBLISH', ARGV[2], message)
  end
  return st
end
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until')) or 0
"""

# The failure-rate window: add calls and failures to the current slice, forget slices
# older than the window, and return the window's totals.
_WINDOW = """
local function window(window_ms, calls, failures)
  local width = math.max(math.floor(window_ms / 10), 1)
  local slot = math.floor(now / width)
  if calls > 0 then redis.call('HINCRBY', KEYS[3], 'c:' .. slot, calls) end
  if failures > 0 then redis.call('HINCRBY', KEYS[3], 'f:' .. slot, failures) end
  redis.call('PEXPIRE', KEYS[3], 2 * window_ms)
  local total_calls, total_failures = 0, 0
  local fields = redis.call('HGETALL', KEYS[3])
  for i = 1, #fields, 2 do
    local at = tonumber(string.sub(fields[i], 3))
    if at == nil or at <= slot - 10 then
      redis.call('HDEL', KEYS[3], fields[i])
    elseif string.sub(fields[i], 1, 1) == 'c' then
      total_calls = total_calls + tonumber(fields[i + 1])
    else
      total_failures = total_failures + tonumber(fields[i + 1])
    end
  end
  return total_calls, total_failures
end
"""

# A counted failure (ARGV[5] fail_max, ARGV[6] reset ms), with the failure-rate rule
# (ARGV[7] this process's successes not yet counted, ARGV[8] window ms, ARGV[9] minimum
# calls, ARGV[10] failure ratio, 0: off). Code 1: the target is open.
FAIL = (
    _COMMON
    + _WINDOW
    + """
if open_until > now then return state(1) end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
local opened = fails >= tonumber(ARGV[5])
local ratio = tonumber(ARGV[10])
if ratio > 0 then
  local calls, failures = window(tonumber(ARGV[8]), 1 + tonumber(ARGV[7]), 1)
  opened = opened or (calls >= tonumber(ARGV[9]) and failures >= ratio * calls)
end
if opened then
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[6]), 'fails', 0)
  redis.call('DEL', KEYS[3])
  return changed(1)
end
keep()
return state(0)
"""
)

# Successes for the failure-rate window (ARGV[5] how many, ARGV[6] window ms), sent in
# batches rather than one write per healthy call.
SUCCESSES = (
    _COMMON
    + _WINDOW
    + """
if open_until == 0 then window(tonumber(ARGV[6]), tonumber(ARGV[5]), 0) end
return state(0)
"""
)

# The first success after this process's failures: the fleet's count starts over.
RESET = (
    _COMMON
    + """
if redis.call('HEXISTS', KEYS[1], 'fails') == 1 then
  redis.call('HSET', KEYS[1], 'fails', 0)
  keep()
end
return state(0)
"""
)

# Ask for the half-open probe (ARGV[5] token, ARGV[6] lease ms). Code 2: closed meanwhile
# (call normally); 1: this caller probes; 0: still open, or another caller probes.
PROBE = (
    _COMMON
    + """
if open_until == 0 then return state(2) end
if open_until > now then return state(0) end
if redis.call('SET', KEYS[2], ARGV[5], 'NX', 'PX', ARGV[6]) then return changed(1) end
return state(0)
"""
)

# The probe's verdict (ARGV[5] token, ARGV[6] "1" success / "0" failure, ARGV[7] reset
# ms), taken only from the caller that still holds the lease: a probe that outlived its
# lease may not undo the verdict of the probe that came after it.
VERDICT = (
    _COMMON
    + """
if redis.call('GET', KEYS[2]) ~= ARGV[5] then return state(0) end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[3])  -- calls from before the verdict say nothing after it
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'open_until', 0, 'fails', 0)
else
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[7]), 'fails', 0)
end
return changed(0)
"""
)

# A probe that ended without a verdict (cancelled) gives its lease back (ARGV[5] token).
RELEASE = (
    _COMMON
    + """
if redis.call('GET', KEYS[2]) == ARGV[5] then
  redis.call('DEL', KEYS[2])
  return changed(0)
end
return state(0)
"""
)

# Skip the target until ARGV[5] (ms), without counting a failure (429, quota, key).
COOL = (
    _COMMON
    + """
local cool = tonumber(redis.call('HGET', KEYS[1], 'cool_until')) or 0
if tonumber(ARGV[5]) > cool then
  redis.call('HSET', KEYS[1], 'cool_until', ARGV[5])
  return changed(0)
end
return state(0)
"""
)

# Read the state (after a reconnection).
READ = _COMMON + "\nreturn state(0)\n"
