"""get_key: read the value stored at a key."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    as_text,
)


class GetKeyInput(ActionInput):
    key: Key


class GetKeyOutput(ActionOutput):
    key: str = Field(default="", description="Redis key that was retrieved")
    value: str | None = Field(default=None, description="Value stored at the key (null if absent)")
    found: bool = Field(default=False, description="Whether the key was found")


def get_key(ctx: ActionContext, params: GetKeyInput) -> GetKeyOutput:
    raw = ctx.client.get(ctx.keys.key(params.key))
    if raw is None:
        return GetKeyOutput(key=params.key, found=False, message=f"{params.key!r} not found")
    return GetKeyOutput(
        key=params.key, value=as_text(raw), found=True, message=f"found {params.key!r}"
    )


SPEC = ActionSpec(
    name="get_key",
    summary="Read the value stored at a key; found is false when the key does not exist.",
    input=GetKeyInput,
    output=GetKeyOutput,
    run=get_key,
    read_only=True,
)
