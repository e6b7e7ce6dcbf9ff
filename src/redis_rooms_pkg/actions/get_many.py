"""get_many: read several keys in one MGET."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    check_response,
    decode_value,
    output,
    per_group,
    reply_size,
    slot_groups,
)


class GetManyOutput(ActionOutput):
    values: dict[str, str | None] | None = Field(
        default_factory=dict, description="key -> value (null when absent or not a string key)"
    )
    found_count: int | None = Field(default=0, description="Number of keys that had a value")
    data: dict[str, Any] | None = Field(
        default=None, description='With encoding "json": key -> parsed value (null if absent)'
    )


def mget_raw(ctx: ActionContext, names: list[str]) -> list[bytes | None]:
    """The stored bytes of each key, in order: one MGET (on a cluster, one per hash slot, all
    pipelined)."""
    groups = slot_groups(ctx, [ctx.keys.key(name) for name in names])
    values: dict[str, bytes | None] = {}
    for group, reply in zip(groups, per_group(ctx, "MGET", groups), strict=True):
        values.update(zip(group, reply, strict=True))
    return [values[ctx.keys.key(name)] for name in names]


def get_many(ctx: ActionContext, params: Params) -> GetManyOutput:
    names = list(dict.fromkeys(params.keys))
    values: dict[str, str | None] = {}
    data: dict[str, Any] = {}
    raws = mget_raw(ctx, names)
    check_response(ctx, reply_size(names, raws), "read fewer keys per call")
    for name, raw in zip(names, raws, strict=True):
        values[name], data[name] = (
            (None, None) if raw is None else decode_value(raw, params.encoding, name)
        )
    found = sum(value is not None for value in values.values())
    return output(
        GetManyOutput,
        values=values,
        found_count=found,
        data=data if params.encoding == "json" else None,
        message=f"found {found} of {len(names)} key(s)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "load-settings",
        "name": "Load settings",
        "action": "redis-cache::get_many",
        "parameters": {
            "keys": ["settings:theme:{{payload.user_id}}", "settings:lang:{{payload.user_id}}"],
            "encoding": "json",
        },
    }
]
