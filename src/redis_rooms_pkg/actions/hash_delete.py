"""hash_delete: remove fields from a record (a Redis hash)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Name,
)

MAX_FIELDS = 10_000  # fields one call removes


def _one_or_many(value: Any) -> Any:
    """A single field name (a template rendered one) becomes a list of one."""
    return [value] if isinstance(value, str) else value


class HashDeleteInput(ActionInput):
    key: Key
    fields: Annotated[
        list[Name],
        BeforeValidator(_one_or_many),
        Field(min_length=1, max_length=MAX_FIELDS, description="Fields to remove"),
    ]


class HashDeleteOutput(ActionOutput):
    key: str | None = Field(default="", description="Hash key")
    deleted_count: int | None = Field(
        default=0, description="Number of fields that existed and were removed"
    )


def hash_delete(ctx: ActionContext, params: HashDeleteInput) -> HashDeleteOutput:
    key = ctx.keys.key(params.key)
    for name in params.fields:
        ctx.keys.check_name(name, "hash field")
    deleted = ctx.client.hdel(key, *params.fields)
    return HashDeleteOutput(
        key=params.key,
        deleted_count=deleted,
        message=f"removed {deleted} of {len(params.fields)} field(s) from {params.key!r}",
    )


SPEC = ActionSpec(
    name="hash_delete",
    summary="Remove fields from a hash; deleted_count says how many existed.",
    input=HashDeleteInput,
    output=HashDeleteOutput,
    run=hash_delete,
    read_only=False,
    destructive=True,
)
