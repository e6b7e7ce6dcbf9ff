"""list_length: how many values a list holds."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionInput, ActionOutput, ActionSpec, Key


class ListLengthInput(ActionInput):
    key: Key


class ListLengthOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    length: int | None = Field(
        default=0, description="Number of values (0 when the list does not exist)"
    )


def list_length(ctx: ActionContext, params: ListLengthInput) -> ListLengthOutput:
    length = ctx.client.llen(ctx.keys.key(params.key))
    return ListLengthOutput(
        key=params.key, length=length, message=f"{params.key!r} holds {length} value(s)"
    )


SPEC = ActionSpec(
    name="list_length",
    summary="Count the values of a list (0 when it does not exist).",
    input=ListLengthInput,
    output=ListLengthOutput,
    run=list_length,
    read_only=True,
)
