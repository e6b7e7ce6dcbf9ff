"""set_key: store a value at a key, optionally expiring after ``ex`` seconds."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Seconds,
)


class SetKeyInput(ActionInput):
    key: Key
    value: str | bytes = Field(
        description="Value to store; numbers, booleans, objects and arrays are stored as JSON text"
    )
    ex: Seconds | None = Field(default=None, description="Expiration time in seconds")

    @field_validator("value", mode="before")
    @classmethod
    def _to_text(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("is required (got null); pass a string or a JSON-serialisable value")
        if isinstance(value, str | bytes):
            return value
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot be stored as JSON text ({type(value).__name__})") from exc


class SetKeyOutput(ActionOutput):
    key: str = Field(default="", description="Redis key that was set")
    success: bool = Field(default=False, description="Whether the operation was successful")


def set_key(ctx: ActionContext, params: SetKeyInput) -> SetKeyOutput:
    stored = bool(ctx.client.set(ctx.keys.key(params.key), params.value, ex=params.ex))
    expiry = f" (expires in {params.ex}s)" if params.ex else ""
    return SetKeyOutput(key=params.key, success=stored, message=f"stored {params.key!r}{expiry}")


SPEC = ActionSpec(
    name="set_key",
    summary="Store a value in Redis at a key, optionally expiring after ex seconds.",
    input=SetKeyInput,
    output=SetKeyOutput,
    run=set_key,
    read_only=False,
)
