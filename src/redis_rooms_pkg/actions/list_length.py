"""list_length: how many values a list holds."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)


class ListLengthOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    length: int | None = Field(
        default=0, description="Number of values (0 when the list does not exist)"
    )


def list_length(ctx: ActionContext, params: Params) -> ListLengthOutput:
    length = ctx.client.llen(ctx.keys.key(params.key))
    return output(
        ListLengthOutput,
        key=params.key,
        length=length,
        message=f"{params.key!r} holds {length} value(s)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "queue-depth",
        "name": "Jobs waiting",
        "action": "redis-cache::list_length",
        "parameters": {"key": "queue:thumbnails"},
    }
]
