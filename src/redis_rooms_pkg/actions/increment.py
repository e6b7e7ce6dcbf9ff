"""increment: add to a counter atomically; ``ex`` applies only when this call created it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    NO_BOOL,
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Seconds,
    as_text,
)
from redis_rooms_pkg.actions.scripts import run_script
from redis_rooms_pkg.services.errors import AddonError

# KEYS[1] counter; ARGV[1] amount, ARGV[2] "float" or "int", ARGV[3] expiry in s or "".
# Returns {stored value as text, 1 if this call created the key} or {false, error} when the
# key holds something that cannot be incremented. Creation, increment and expiry are one
# atomic step: a counter can never be left without its expiry.
SCRIPT = """
local created = redis.call('EXISTS', KEYS[1]) == 0
local command = 'INCRBY'
if ARGV[2] == 'float' then command = 'INCRBYFLOAT' end
local reply = redis.pcall(command, KEYS[1], ARGV[1])
if type(reply) == 'table' and reply.err then
  return {false, reply.err}
end
if created and ARGV[3] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return {redis.call('GET', KEYS[1]), created and 1 or 0}
"""


Amount = Annotated[
    int | Annotated[float, Field(allow_inf_nan=False)],
    NO_BOOL,
    Field(description="Amount to add (negative to subtract); a float makes a float counter"),
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
