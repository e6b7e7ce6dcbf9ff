"""increment: add to a counter atomically; ``ex`` applies only when this call created it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from redis_rooms_pkg.actions.base import (
    INT64_MAX,
    INT64_MIN,
    NO_BOOL,
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Seconds,
    as_text,
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


def _int64(value: Any) -> Any:
    """A whole amount must fit Redis's signed 64-bit counter (it is not turned into a float)."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value)  # a template-rendered whole number
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"a whole number must be from {INT64_MIN} to {INT64_MAX}")
    return value


Amount = Annotated[
    Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
    | Annotated[float, Field(allow_inf_nan=False)],
    NO_BOOL,
    BeforeValidator(_int64),
    Field(
        description="Amount to add (negative to subtract; a whole number fits a signed 64-bit "
        "integer); a float makes a float counter"
    ),
]


class IncrementInput(ActionInput):
    key: Key
    by: Amount = 1
    ex: Seconds | None = Field(
        default=None, description="Expiry in seconds, set only when this call creates the counter"
    )


class IncrementOutput(ActionOutput):
    key: str | None = Field(default="", description="Counter key")
    value: int | float | None = Field(
        default=None, description="Counter value after the increment (a float when by is)"
    )
    created: bool | None = Field(default=False, description="Whether this call created the counter")


def increment(ctx: ActionContext, params: IncrementInput) -> IncrementOutput:
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
    return IncrementOutput(
        key=params.key,
        value=number,
        created=bool(created),
        message=f"{params.key!r} is now {number}" + (f" (created{expiry})" if created else ""),
    )


SPEC = ActionSpec(
    name="increment",
    summary="Add to a counter atomically (by may be negative or a float); ex applies on creation.",
    input=IncrementInput,
    output=IncrementOutput,
    run=increment,
    read_only=False,
)
