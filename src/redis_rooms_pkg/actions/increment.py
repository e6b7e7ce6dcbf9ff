"""increment: add to a counter atomically; ``ex`` applies only when this call created it."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    output,
)
from redis_rooms_pkg.actions.scripts import CHECKS, EXPIRE_MAX, run_script
from redis_rooms_pkg.services.errors import AddonError

# KEYS[1] counter; ARGV[1] amount, ARGV[2] "float" or "int", ARGV[3] expiry in s or "".
# Returns {stored value as text, 1 if this call created the key}, or {false, error} when the
# string there cannot be incremented (ERR: not a number, or the sum would overflow). Any other
# error (WRONGTYPE, OOM, READONLY, NOPERM...) is returned as Redis's own error reply, so it is
# mapped like any command's. The expiry is checked before the first write;
# creation, increment and expiry are one atomic step: a counter is never left without expiry.
SCRIPT = (
    CHECKS
    + f"""
local command = 'INCRBY'
if ARGV[2] == 'float' then command = 'INCRBYFLOAT' end
local bad = whole(ARGV[3], '{EXPIRE_MAX}', 'expiry')
  or denied(command, KEYS[1], ARGV[1])
  or (ARGV[3] ~= '' and denied('EXPIRE', KEYS[1], ARGV[3]))
if bad then return bad end
local created = redis.call('EXISTS', KEYS[1]) == 0
local reply = redis.pcall(command, KEYS[1], ARGV[1])
if type(reply) == 'table' and reply.err then
  local code = string.match(tostring(reply.err), '^%S+')
  if code == 'ERR' then
    return {{false, reply.err}}
  end
  return redis.error_reply(tostring(reply.err))
end
if created and ARGV[3] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return {{redis.call('GET', KEYS[1]), created and 1 or 0}}
"""
)


class IncrementOutput(ActionOutput):
    key: str | None = Field(default="", description="Counter key")
    value: int | float | None = Field(
        default=None, description="Counter value after the increment (a float when by is)"
    )
    created: bool | None = Field(default=False, description="Whether this call created the counter")


def increment(ctx: ActionContext, params: Params) -> IncrementOutput:
    is_float = isinstance(params.by, float)
    value, created = run_script(
        ctx,
        SCRIPT,
        ctx.keys.key(params.key),
        repr(params.by) if is_float else params.by,
        "float" if is_float else "int",
        params.ex or "",
    )
    if value is None:
        raise AddonError(
            409,
            f"{params.key!r} holds a value that cannot be incremented by {params.by} "
            f"(Redis said: {as_text(created)})",
        )
    text = as_text(value)
    number: int | float = float(text) if is_float else int(text)
    expiry = f", expires in {params.ex}s" if created and params.ex else ""
    return output(
        IncrementOutput,
        key=params.key,
        value=number,
        created=bool(created),
        message=f"{params.key!r} is now {number}" + (f" (created{expiry})" if created else ""),
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "count-call",
        "name": "Count LLM calls per user and day",
        "action": "redis-cache::increment",
        "parameters": {"key": "usage:{{payload.user_id}}:{{payload.day}}", "ex": 86400},
    }
]
