"""hash_set: store fields of a record (a Redis hash), optionally expiring, in one transaction."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Seconds,
    encode_value,
)

MAX_FIELDS = 10_000  # fields one call sets


class HashSetInput(ActionInput):
    key: Key
    fields: dict[str, Any] = Field(
        min_length=1,
        max_length=MAX_FIELDS,
        description="Field -> value; non-string values are stored as JSON text",
    )
    ex: Seconds | None = Field(default=None, description="Expire the whole hash after ex seconds")

    @field_validator("fields")
    @classmethod
    def _names(cls, fields: dict[str, Any]) -> dict[str, Any]:
        if "" in fields:
            raise ValueError("field names must not be empty")
        return fields


class HashSetOutput(ActionOutput):
    key: str = Field(default="", description="Hash key")
    added: int = Field(default=0, description="Number of fields that did not exist before")


def hash_set(ctx: ActionContext, params: HashSetInput) -> HashSetOutput:
    key = ctx.keys.key(params.key)
    mapping = {
        name: encode_value(ctx, value, "text", f"{params.key}.{name}")
        for name, value in params.fields.items()
    }
    with ctx.client.pipeline(transaction=True) as tx:  # MULTI/EXEC on the one key
        tx.hset(key, mapping=mapping)
        if params.ex is not None:
            tx.expire(key, params.ex)
        added = tx.execute()[0]
    return HashSetOutput(
        key=params.key,
        added=added,
        message=f"set {len(mapping)} field(s) of {params.key!r} ({added} new)",
    )


SPEC = ActionSpec(
    name="hash_set",
    summary="Set fields of a hash (a record), optionally expiring it after ex seconds.",
    input=HashSetInput,
    output=HashSetOutput,
    run=hash_set,
    read_only=False,
)
