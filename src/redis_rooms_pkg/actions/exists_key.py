"""exists_key: tell which of some keys exist."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    output,
)


class ExistsKeyOutput(ActionOutput):
    exists: dict[str, bool] | None = Field(
        default_factory=dict, description="key -> whether it exists"
    )
    count: int | None = Field(default=0, description="Number of the given keys that exist")


def exists_each(ctx: ActionContext, names: list[str]) -> list[bool]:
    """EXISTS per key, pipelined in one round trip (each command names one key)."""
    pipe = ctx.client.pipeline(transaction=False)
    for name in names:
        pipe.exists(ctx.keys.key(name))
    return [bool(reply) for reply in pipe.execute()]


def exists_key(ctx: ActionContext, params: Params) -> ExistsKeyOutput:
    names = list(dict.fromkeys(params.keys))
    exists = dict(zip(names, exists_each(ctx, names), strict=True))
    count = sum(exists.values())
    return output(
        ExistsKeyOutput, exists=exists, count=count, message=f"{count} of {len(names)} key(s) exist"
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "check-profiles",
        "name": "Check cached profiles",
        "action": "redis-cache::exists_key",
        "parameters": {"keys": ["profile:{{payload.user_id}}", "prefs:{{payload.user_id}}"]},
    }
]
