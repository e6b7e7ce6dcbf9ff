"""rate_limit: a sliding-window limiter (at most ``limit`` calls in any ``window_s`` seconds)."""

from __future__ import annotations

import uuid

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)
from redis_rooms_pkg.actions.params import RATE_MAX_LIMIT, RATE_MAX_WINDOW
from redis_rooms_pkg.actions.scripts import CHECKS, run_script

# Sliding-window log. KEYS[1] is a sorted set of the allowed calls, scored by the server's clock
# (TIME, microseconds). ARGV[1] limit, ARGV[2] window in microseconds, ARGV[3] a unique member.
# Entries older than the window are dropped; the call is counted (and allowed) only while fewer
# than `limit` remain. Denied calls are not recorded. The key expires one window after the last
# call. Returns {allowed 0/1, remaining, microseconds until the oldest counted call leaves};
# remaining is 0, never below, when the limit was lowered under the calls already counted.
# Both numbers are checked before the first write.
SCRIPT = (
    CHECKS
    + f"""
local bad = whole(ARGV[1], '{RATE_MAX_LIMIT}', 'limit')
  or whole(ARGV[2], '{RATE_MAX_WINDOW * 1_000_000}', 'window')
  or denied('ZREMRANGEBYSCORE', KEYS[1], '0', '1')
  or denied('ZADD', KEYS[1], '0', 'm')
  or denied('PEXPIRE', KEYS[1], '1')
if bad then return bad end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = tonumber(oldest[2]) + window - now
end
return {{allowed, math.max(0, limit - count), reset}}
"""
)


class RateLimitOutput(ActionOutput):
    key: str | None = Field(default="", description="Rate-limit key")
    allowed: bool | None = Field(default=False, description="Whether this call may go ahead")
    remaining: int | None = Field(
        default=0, description="Calls still allowed in the current window"
    )
    reset_in: float | None = Field(
        default=0.0,
        description="Seconds until the oldest counted call leaves the window (one more is allowed)",
    )


def rate_limit(ctx: ActionContext, params: Params) -> RateLimitOutput:
    window_us = max(1, round(params.window_s * 1_000_000))
    allowed, remaining, reset_us = run_script(
        ctx, SCRIPT, ctx.keys.key(params.key), params.limit, window_us, uuid.uuid4().hex
    )
    reset_in = round(max(0, int(reset_us)) / 1_000_000, 3)
    verdict = "allowed" if allowed else f"denied: retry in {reset_in:g}s"
    return output(
        RateLimitOutput,
        key=params.key,
        allowed=bool(allowed),
        remaining=int(remaining),
        reset_in=reset_in,
        message=f"{params.key!r} {verdict} ({remaining} of {params.limit} left)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "check-quota",
        "name": "At most 10 calls a minute",
        "action": "redis-cache::rate_limit",
        "parameters": {"key": "ratelimit:weather-api", "limit": 10, "window_s": 60},
    }
]
