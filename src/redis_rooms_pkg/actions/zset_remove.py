"""zset_remove: remove members from a sorted set (ZREM)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, output
from redis_rooms_pkg.actions.set_add import encode_members


class ZsetRemoveOutput(ActionOutput):
    key: str | None = Field(default=None, description="Sorted-set key")
    removed: int | None = Field(default=None, description="Number of members that were there")


def zset_remove(ctx: ActionContext, params: Params) -> ZsetRemoveOutput:
    data = encode_members(ctx, params.key, list(dict.fromkeys(params.members)))
    removed = int(ctx.client.zrem(ctx.keys.key(params.key), *data))
    return output(
        ZsetRemoveOutput,
        key=params.key,
        removed=removed,
        message=f"removed {removed} member(s) of {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "cancel-reminder",
        "name": "Cancel the reminder",
        "action": "redis-cache::zset_remove",
        "parameters": {"key": "reminders", "members": ["{{payload.user_id}}"]},
    }
]
