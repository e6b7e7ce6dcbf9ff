"""list_range: read a slice of a list without changing it."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Index,
    Key,
    as_text,
    check_response,
    reply_size,
)


class ListRangeInput(ActionInput):
    key: Key
    start: Index = Field(default=0, description="First index (0 is the head; -1 the last value)")
    stop: Index = Field(default=-1, description="Last index, included (-1: to the end)")


class ListRangeOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    values: list[str] | None = Field(default_factory=list, description="Values from start to stop")
    count: int | None = Field(default=0, description="Number of values returned")


def list_range(ctx: ActionContext, params: ListRangeInput) -> ListRangeOutput:
    raw = ctx.client.lrange(ctx.keys.key(params.key), params.start, params.stop)
    check_response(ctx, reply_size(raw), "read a smaller slice (start and stop) per call")
    values = [as_text(value) for value in raw]
    return ListRangeOutput(
        key=params.key,
        values=values,
        count=len(values),
        message=f"{len(values)} value(s) of {params.key!r} [{params.start}..{params.stop}]",
    )


SPEC = ActionSpec(
    name="list_range",
    summary="Read a list from start to stop, both included (negative indexes count from the end).",
    input=ListRangeInput,
    output=ListRangeOutput,
    run=list_range,
    read_only=True,
)
