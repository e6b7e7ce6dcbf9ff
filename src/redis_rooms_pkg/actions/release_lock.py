"""release_lock: free a lock, only for the holder of its token (compare-and-delete in Lua)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)
from redis_rooms_pkg.actions.scripts import run_script

# KEYS[1] lock, ARGV[1] token: delete only if the lock still holds this token.
SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ReleaseLockOutput(ActionOutput):
    name: str | None = Field(default="", description="Lock name (its Redis key)")
    released: bool | None = Field(
        default=False, description="Whether the lock was held with this token and is now free"
    )


def release_lock(ctx: ActionContext, params: Params) -> ReleaseLockOutput:
    released = run_script(ctx, SCRIPT, ctx.keys.key(params.name), params.token) == 1
    message = (
        f"released {params.name!r}"
        if released
        else f"{params.name!r} is not held with this token (expired or taken by another)"
    )
    return output(ReleaseLockOutput, name=params.name, released=released, message=message)


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "release-lock",
        "name": "Release the order lock",
        "action": "redis-cache::release_lock",
        "parameters": {
            "name": "lock:charge:{{payload.order_id}}",
            "token": "{{take-lock.output.token}}",
        },
    }
]
