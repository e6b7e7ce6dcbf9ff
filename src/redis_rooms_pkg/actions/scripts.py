"""Runs the actions' Lua scripts (one declared key per call) and holds the shared ones."""

# Multi-command steps run as Lua scripts rather than MULTI pipelines: a script is atomic too, a
# failing first command (WRONGTYPE, OOM) aborts it before anything is written, and its error
# reply carries Redis's own error code without echoing the values sent (redis-py annotates a
# failed pipeline's error with the command and its arguments, values included).

from __future__ import annotations

import functools
import hashlib
from typing import Any

from redis.exceptions import NoScriptError

from redis_rooms_pkg.actions.base import INT64_MAX, MAX_EXPIRE_S, ActionContext

CHUNK = 1000  # arguments one command inside a script takes (Lua's unpack has a stack limit)

# Lua that checks a script's numeric arguments before its first write: a script is not rolled
# back, so a value Redis refuses half-way (an expiry, a trim length) would leave the first writes
# applied. The actions check the same bounds before sending (400); this is defence in depth.
# whole(text, max): text is "" or a whole number from 1 to max (both decimal strings; compared
# as text, exactly, for any number of digits). Returns a Redis error reply naming ``what``.
# denied(command, args...): a NOPERM error reply when the ACL user may not run the command
# (Redis 7+; older servers and fakeredis lack redis.acl_check_cmd and fail at the command). A
# command refused inside a script would otherwise stop it after its first writes, and Redis 7.0
# reports it as a plain ERR.
CHECKS = """
local function whole(text, max, what)
  if text == '' then return nil end
  if string.match(text, '^[1-9][0-9]*$') and (#text < #max or (#text == #max and text <= max)) then
    return nil
  end
  return redis.error_reply('ERR ' .. what .. ' must be a whole number from 1 to ' .. max)
end
local function denied(command, ...)
  if redis.acl_check_cmd and not redis.acl_check_cmd(command, ...) then
    return redis.error_reply(
      "NOPERM this user has no permissions to run the '" .. string.lower(command) .. "' command")
  end
  return nil
end
"""
EXPIRE_MAX = str(MAX_EXPIRE_S)  # largest expiry in s a script accepts
COUNT_MAX = str(INT64_MAX)  # largest count a script accepts

# Push values and cap the list, then set its expiry, in one atomic step.
# KEYS[1] list; ARGV[1] "RPUSH" or "LPUSH"; ARGV[2] max length or ""; ARGV[3] expiry in s or "";
# ARGV[4..] values. Capping keeps the newest values: the tail after RPUSH, the head after LPUSH.
# Returns the list's length afterwards.
PUSH = (
    CHECKS
    + f"""
local bad = whole(ARGV[2], '{COUNT_MAX}', 'max length') or whole(ARGV[3], '{EXPIRE_MAX}', 'expiry')
if bad then return bad end
local command = ARGV[1]
if command ~= 'RPUSH' and command ~= 'LPUSH' then
  return redis.error_reply('ERR push command must be RPUSH or LPUSH')
end
bad = denied(command, KEYS[1], 'x')
  or (ARGV[2] ~= '' and denied('LTRIM', KEYS[1], '0', '-1'))
  or (ARGV[3] ~= '' and denied('EXPIRE', KEYS[1], ARGV[3]))
if bad then return bad end
for i = 4, #ARGV, {CHUNK} do
  redis.call(command, KEYS[1], unpack(ARGV, i, math.min(i + {CHUNK - 1}, #ARGV)))
end
local length = redis.call('LLEN', KEYS[1])
-- Trim only when the list is longer than the cap: then the cap is below the length, a number
-- Lua holds exactly (the cap text itself may exceed what a Lua number holds exactly).
if ARGV[2] ~= '' and tonumber(ARGV[2]) < length then
  local keep = tonumber(ARGV[2])
  if command == 'RPUSH' then
    redis.call('LTRIM', KEYS[1], -keep, -1)
  else
    redis.call('LTRIM', KEYS[1], 0, keep - 1)
  end
  length = keep
end
if ARGV[3] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return length
"""
)


def run_script(
    ctx: ActionContext, source: str, key: str, *args: Any, also: tuple[str, ...] = ()
) -> Any:
    """Run ``source`` with the stored ``key`` as KEYS[1] (EVALSHA; the script is loaded if missing).

    Every script of the addon touches only the keys it declares: the one ``key``, or with
    ``also`` keys that share its hash slot (a queue's stream, dead-letter queue and dedupe
    markers: see ``queue_keys``), so a call never spans hash slots in cluster mode. An EVALSHA
    answered NOSCRIPT ran nothing: it is sent again once the script is loaded (as redis-py's
    ``Script`` does).
    """
    keys = (key, *also)
    sha = script_sha(source)
    try:
        return ctx.client.evalsha(sha, len(keys), *keys, *args)
    except NoScriptError:
        ctx.client.script_load(source)
        return ctx.client.evalsha(sha, len(keys), *keys, *args)


@functools.lru_cache(maxsize=64)  # the addon's own scripts: a few module constants
def script_sha(source: str) -> str:
    """The SHA1 EVALSHA names ``source`` by, computed once per script: saves ~4 us per script
    action (redis-py's ``register_script`` builds a ``Script`` and hashes the whole source on
    every call; docs/benchmarks.md)."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def push(
    ctx: ActionContext,
    key: str,
    values: list[bytes],
    side: str = "right",
    max_length: int | None = None,
    ex: int | None = None,
) -> int:
    """Push ``values`` onto the list at the stored ``key``, cap it and set its expiry atomically."""
    command = "RPUSH" if side == "right" else "LPUSH"
    return int(run_script(ctx, PUSH, key, command, max_length or "", ex or "", *values))
