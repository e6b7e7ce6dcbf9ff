"""extend_lock: give a held lock a new ttl_ms, only for the holder of its token (Lua)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Milliseconds,
)
from redis_rooms_pkg.actions.scripts import run_script

# KEYS[1] lock, ARGV[1] token, ARGV[2] ttl in ms: set the expiry only if this token holds it.
SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class ExtendLockInput(ActionInput):
    name: Key
    token: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="The token acquire_lock returned"
    )
    ttl_ms: Milliseconds = Field(description="New lifetime in milliseconds, counted from now")


class ExtendLockOutput(ActionOutput):
    name: str | None = Field(default="", description="Lock name (its Redis key)")
    extended: bool | None = Field(
        default=False, description="Whether the lock was held with this token and now lasts ttl_ms"
    )


def extend_lock(ctx: ActionContext, params: ExtendLockInput) -> ExtendLockOutput:
    extended = run_script(ctx, SCRIPT, ctx.keys.key(params.name), params.token, params.ttl_ms) == 1
    message = (
        f"{params.name!r} now expires in {params.ttl_ms}ms"
        if extended
        else f"{params.name!r} is not held with this token (expired or taken by another)"
    )
    return ExtendLockOutput(name=params.name, extended=extended, message=message)


SPEC = ActionSpec(
    name="extend_lock",
    summary="Reset a held lock's lifetime to ttl_ms; refused unless the token still holds it.",
    input=ExtendLockInput,
    output=ExtendLockOutput,
    run=extend_lock,
    read_only=False,
)
