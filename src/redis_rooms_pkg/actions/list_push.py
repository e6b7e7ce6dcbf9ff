"""list_push: add values to a list (a queue), capped and expiring in the same atomic step."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    check_call_size,
    encode_value,
    output,
)
from redis_rooms_pkg.actions.scripts import push


class ListPushOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    length: int | None = Field(
        default=0, description="Length of the list after the push (and trim)"
    )


def list_push(ctx: ActionContext, params: Params) -> ListPushOutput:
    key = ctx.keys.key(params.key)
    data = [encode_value(ctx, value, "text", params.key) for value in params.values]
    check_call_size(ctx, sum(map(len, data)), "values")
    length = push(ctx, key, data, params.side, params.max_length, params.ex)
    return output(
        ListPushOutput,
        key=params.key,
        length=length,
        message=f"pushed {len(data)} value(s) to {params.key!r} (length {length})",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "enqueue-job",
        "name": "Queue a thumbnail job",
        "action": "redis-cache::list_push",
        "parameters": {
            "key": "queue:thumbnails",
            "values": ["{{payload.job}}"],
            "max_length": 10000,
        },
    }
]
