"""get_ttl: read how long a key has left to live."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
    ttl_seconds,
)


class GetTtlOutput(ActionOutput):
    key: str | None = Field(default="", description="Redis key that was looked at")
    found: bool | None = Field(default=False, description="Whether the key exists")
    ttl: int | None = Field(
        default=None, description="Seconds left, -1 when the key never expires (null if absent)"
    )


def get_ttl(ctx: ActionContext, params: Params) -> GetTtlOutput:
    ttl = ttl_seconds(ctx.client.ttl(ctx.keys.key(params.key)))
    if ttl is None:
        return output(GetTtlOutput, key=params.key, message=f"{params.key!r} not found")
    left = "never expires" if ttl == -1 else f"expires in {ttl}s"
    return output(
        GetTtlOutput, key=params.key, found=True, ttl=ttl, message=f"{params.key!r} {left}"
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "session-ttl",
        "name": "Time left on the session",
        "action": "redis-cache::get_ttl",
        "parameters": {"key": "session:{{payload.user_id}}"},
    }
]
