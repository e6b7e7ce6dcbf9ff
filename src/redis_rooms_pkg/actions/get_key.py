"""get_key: read the value stored at a key, as text, parsed JSON or base64, with its TTL."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionOutput,
    Params,
    check_response,
    decode_value,
    output,
    ttl_seconds,
)


class GetKeyOutput(ActionOutput):
    key: str | None = Field(default="", description="Redis key that was retrieved")
    value: str | None = Field(default=None, description="Value stored at the key (null if absent)")
    found: bool | None = Field(default=False, description="Whether the key was found")
    data: Any = Field(
        default=None, description='With encoding "json": the parsed value (null otherwise)'
    )
    ttl: int | None = Field(
        default=None,
        description="With with_ttl: seconds left, -1 when the key never expires (null if absent)",
    )


def get_key(ctx: ActionContext, params: Params) -> GetKeyOutput:
    stored = ctx.keys.key(params.key)
    if params.with_ttl:
        # GET and TTL pipelined in one round trip (raw replies need a non-transactional pipeline)
        pipe = ctx.client.pipeline(transaction=False)
        pipe.execute_command("GET", stored, **RAW)
        pipe.ttl(stored)
        raw, ttl = pipe.execute()
        ttl = ttl_seconds(ttl)
    else:
        raw, ttl = ctx.client.execute_command("GET", stored, **RAW), None
    if raw is None:
        message = f"{params.key!r} not found"
        return output(GetKeyOutput, key=params.key, found=False, message=message)
    check_response(ctx, len(raw), "the value is larger than max_response_bytes: raise the limit")
    value, data = decode_value(raw, params.encoding, params.key)
    return output(
        GetKeyOutput,
        key=params.key,
        value=value,
        found=True,
        data=data,
        ttl=ttl,
        message=f"found {params.key!r}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "retrieve-session",
        "name": "Retrieve Session Data",
        "action": "redis-cache::get_key",
        "parameters": {"key": "session:{{payload.user_id}}", "with_ttl": True, "encoding": "json"},
    }
]
