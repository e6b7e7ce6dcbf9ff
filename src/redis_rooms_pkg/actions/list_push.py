"""list_push: add values to a list (a queue), capped and expiring in the same atomic step."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Count,
    Key,
    Seconds,
    check_call_size,
    encode_value,
)
from redis_rooms_pkg.actions.scripts import push

MAX_VALUES = 10_000  # values one call pushes


def _one_or_many(value: Any) -> Any:
    """A single value (a template rendered one item) becomes a list of one."""
    return value if isinstance(value, list) else [value]


class ListPushInput(ActionInput):
    key: Key
    values: Annotated[
        list[Any],
        BeforeValidator(_one_or_many),
        Field(
            min_length=1,
            max_length=MAX_VALUES,
            description="Values to push, in order; non-strings are stored as JSON text",
        ),
    ]
    side: Literal["left", "right"] = Field(
        default="right", description='"right" (tail, RPUSH) or "left" (head, LPUSH)'
    )
    max_length: Count | None = Field(
        default=None, description="Keep at most this many values (the newest are kept)"
    )
    ex: Seconds | None = Field(default=None, description="Expire the list after ex seconds")


class ListPushOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    length: int | None = Field(
        default=0, description="Length of the list after the push (and trim)"
    )


def list_push(ctx: ActionContext, params: ListPushInput) -> ListPushOutput:
    key = ctx.keys.key(params.key)
    data = [encode_value(ctx, value, "text", params.key) for value in params.values]
    check_call_size(ctx, sum(map(len, data)), "values")
    length = push(ctx, key, data, params.side, params.max_length, params.ex)
    return ListPushOutput(
        key=params.key,
        length=length,
        message=f"pushed {len(data)} value(s) to {params.key!r} (length {length})",
    )


SPEC = ActionSpec(
    name="list_push",
    summary="Push values onto a list (a queue), optionally capped at max_length and expiring.",
    input=ListPushInput,
    output=ListPushOutput,
    run=list_push,
    read_only=False,
)
