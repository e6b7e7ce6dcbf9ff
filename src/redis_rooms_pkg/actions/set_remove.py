"""set_remove: remove members from a set (SREM)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, output
from redis_rooms_pkg.actions.set_add import encode_members


class SetRemoveOutput(ActionOutput):
    key: str | None = Field(default=None, description="Set key")
    removed: int | None = Field(default=None, description="Number of members that were there")


def set_remove(ctx: ActionContext, params: Params) -> SetRemoveOutput:
    data = encode_members(ctx, params.key, list(dict.fromkeys(params.members)))
    removed = int(ctx.client.srem(ctx.keys.key(params.key), *data))
    return output(
        SetRemoveOutput,
        key=params.key,
        removed=removed,
        message=f"removed {removed} member(s) of {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "forget-item",
        "name": "Forget an item",
        "action": "redis-cache::set_remove",
        "parameters": {"key": "seen:feed", "members": ["{{payload.item_id}}"]},
    }
]
