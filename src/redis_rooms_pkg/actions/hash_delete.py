"""hash_delete: remove fields from a record (a Redis hash)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)


class HashDeleteOutput(ActionOutput):
    key: str | None = Field(default="", description="Hash key")
    deleted_count: int | None = Field(
        default=0, description="Number of fields that existed and were removed"
    )


def hash_delete(ctx: ActionContext, params: Params) -> HashDeleteOutput:
    key = ctx.keys.key(params.key)
    for name in params.fields:
        ctx.keys.check_name(name, "hash field")
    deleted = ctx.client.hdel(key, *params.fields)
    return output(
        HashDeleteOutput,
        key=params.key,
        deleted_count=deleted,
        message=f"removed {deleted} of {len(params.fields)} field(s) from {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "drop-draft",
        "name": "Forget the draft",
        "action": "redis-cache::hash_delete",
        "parameters": {"key": "user:{{payload.user_id}}", "fields": ["draft"]},
    }
]
