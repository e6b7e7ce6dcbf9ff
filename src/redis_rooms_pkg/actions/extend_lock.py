"""extend_lock: give a held lock a new ttl_ms, only for the holder of its token (Lua)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)
from redis_rooms_pkg.actions.scripts import run_script

# KEYS[1] lock, ARGV[1] token, ARGV[2] ttl in ms: set the expiry only if this token holds it.
SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class ExtendLockOutput(ActionOutput):
    name: str | None = Field(default="", description="Lock name (its Redis key)")
    extended: bool | None = Field(
        default=False, description="Whether the lock was held with this token and now lasts ttl_ms"
    )


def extend_lock(ctx: ActionContext, params: Params) -> ExtendLockOutput:
    extended = run_script(ctx, SCRIPT, ctx.keys.key(params.name), params.token, params.ttl_ms) == 1
    message = (
        f"{params.name!r} now expires in {params.ttl_ms}ms"
        if extended
        else f"{params.name!r} is not held with this token (expired or taken by another)"
    )
    return output(ExtendLockOutput, name=params.name, extended=extended, message=message)


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "keep-lock",
        "name": "Keep the lock during a long step",
        "action": "redis-cache::extend_lock",
        "parameters": {
            "name": "lock:charge:{{payload.order_id}}",
            "token": "{{take-lock.output.token}}",
            "ttl_ms": 60000,
        },
    }
]
