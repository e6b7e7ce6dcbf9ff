"""key_type: which Redis type a key holds (TYPE), and the action that reads it."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    READER,
    ActionContext,
    ActionOutput,
    Params,
    as_text,
    output,
)


class KeyTypeOutput(ActionOutput):
    key: str | None = Field(default=None, description="Redis key that was looked at")
    found: bool | None = Field(default=None, description="Whether the key exists")
    type: str | None = Field(
        default=None,
        description='"string", "list", "hash", "set", "zset" or "stream" (null when absent)',
    )
    read_with: str | None = Field(
        default=None, description="The action of this addon that reads it (null if none does)"
    )


def key_type(ctx: ActionContext, params: Params) -> KeyTypeOutput:
    kind = as_text(ctx.client.type(ctx.keys.key(params.key)))
    if kind == "none":
        return output(
            KeyTypeOutput, key=params.key, found=False, message=f"{params.key!r} not found"
        )
    return output(
        KeyTypeOutput,
        key=params.key,
        found=True,
        type=kind,
        read_with=READER.get(kind),
        message=f"{params.key!r} holds a {kind}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "what-is-it",
        "name": "What does the key hold?",
        "action": "redis-cache::key_type",
        "parameters": {"key": "user:{{payload.user_id}}"},
    }
]
