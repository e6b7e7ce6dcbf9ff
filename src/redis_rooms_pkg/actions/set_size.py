"""set_size: count the members of a set (SCARD)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params


class SetSizeOutput(ActionOutput):
    key: str | None = Field(default=None, description="Set key")
    size: int | None = Field(default=None, description="Number of members (0 if no set)")


def set_size(ctx: ActionContext, params: Params) -> SetSizeOutput:
    size = int(ctx.client.scard(ctx.keys.key(params.key)))
    return SetSizeOutput(key=params.key, size=size, message=f"{params.key!r} has {size} member(s)")


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "count-seen",
        "name": "How many items were seen?",
        "action": "redis-cache::set_size",
        "parameters": {"key": "seen:feed"},
    }
]
