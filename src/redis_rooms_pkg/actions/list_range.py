"""list_range: read a slice of a list without changing it."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    check_response,
    output,
    reply_size,
)


class ListRangeOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    values: list[str] | None = Field(default_factory=list, description="Values from start to stop")
    count: int | None = Field(default=0, description="Number of values returned")


def list_range(ctx: ActionContext, params: Params) -> ListRangeOutput:
    raw = ctx.client.lrange(ctx.keys.key(params.key), params.start, params.stop)
    check_response(ctx, reply_size(raw), "read a smaller slice (start and stop) per call")
    values = [as_text(value) for value in raw]
    return output(
        ListRangeOutput,
        key=params.key,
        values=values,
        count=len(values),
        message=f"{len(values)} value(s) of {params.key!r} [{params.start}..{params.stop}]",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "recent-events",
        "name": "Last 10 events",
        "action": "redis-cache::list_range",
        "parameters": {"key": "events:{{payload.user_id}}", "start": -10},
    }
]
