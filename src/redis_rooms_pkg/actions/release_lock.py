"""release_lock: free a lock, only for the holder of its token (compare-and-delete in Lua)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from redis_rooms_pkg.actions.base import ActionContext, ActionInput, ActionOutput, ActionSpec, Key
from redis_rooms_pkg.actions.scripts import run_script

# KEYS[1] lock, ARGV[1] token: delete only if the lock still holds this token.
SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

Token = Annotated[str, StringConstraints(min_length=1)]


class ReleaseLockInput(ActionInput):
    name: Key
    token: Token = Field(description="The token acquire_lock returned")


class ReleaseLockOutput(ActionOutput):
    name: str | None = Field(default="", description="Lock name (its Redis key)")
    released: bool | None = Field(
        default=False, description="Whether the lock was held with this token and is now free"
    )


def release_lock(ctx: ActionContext, params: ReleaseLockInput) -> ReleaseLockOutput:
    released = run_script(ctx, SCRIPT, ctx.keys.key(params.name), params.token) == 1
    message = (
        f"released {params.name!r}"
        if released
        else f"{params.name!r} is not held with this token (expired or taken by another)"
    )
    return ReleaseLockOutput(name=params.name, released=released, message=message)


SPEC = ActionSpec(
    name="release_lock",
    summary="Release a lock held with token; a stale token never frees another holder's lock.",
    input=ReleaseLockInput,
    output=ReleaseLockOutput,
    run=release_lock,
    read_only=False,
)
