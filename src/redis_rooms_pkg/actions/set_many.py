"""set_many: store several keys in one pipelined round trip."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionOutput,
    Params,
    check_call_size,
    encode_value,
    output,
    per_group,
    slot_groups,
)


class SetManyOutput(ActionOutput):
    count: int | None = Field(default=0, description="Number of keys written")
    success: bool = Field(default=False, description="Whether the operation was successful")
    skipped: list[str] | None = Field(
        default_factory=list, description="With nx: the keys left alone because they existed"
    )


def mset(ctx: ActionContext, data: dict[str, bytes]) -> None:
    """All keys in one MSET (atomic, no expiry); on a cluster one MSET per hash slot, pipelined
    (atomic per slot only)."""
    stored = {ctx.keys.key(name): value for name, value in data.items()}
    groups = slot_groups(ctx, list(stored))
    per_group(
        ctx, "MSET", [[part for key in group for part in (key, stored[key])] for group in groups]
    )


def set_each(ctx: ActionContext, data: dict[str, bytes], ex: int | None, nx: bool) -> list[bool]:
    """One SET per key (value, expiry and condition atomic per key), pipelined in one trip."""
    options = (["EX", ex] if ex is not None else []) + (["NX"] if nx else [])
    pipe = ctx.client.pipeline(transaction=False)
    for name, value in data.items():  # redis-py's set() would build the same SET (~3 us each)
        pipe.execute_command("SET", ctx.keys.key(name), value, *options)
    return [bool(reply) for reply in pipe.execute()]


def set_many(ctx: ActionContext, params: Params) -> SetManyOutput:
    # Every value is encoded and size-checked before anything is sent: all or nothing on 400/413.
    data = {name: encode_value(ctx, v, params.encoding, name) for name, v in params.items.items()}
    size = sum(len(name.encode()) + len(value) for name, value in data.items())
    check_call_size(ctx, size, "items")
    if params.ex is None and not params.nx:
        mset(ctx, data)
        written = list(data)
    else:
        replies = set_each(ctx, data, params.ex, params.nx)
        written = [name for name, ok in zip(data, replies, strict=True) if ok]
    done = set(written)
    skipped = [name for name in data if name not in done]
    note = f" ({len(skipped)} existed, left alone)" if skipped else ""
    return output(
        SetManyOutput,
        count=len(written),
        success=True,
        skipped=skipped,
        message=f"stored {len(written)} of {len(data)} key(s){note}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "cache-results",
        "name": "Cache the search results",
        "action": "redis-cache::set_many",
        "parameters": {
            "items": {
                "search:{{payload.query_id}}:results": "{{search.output.results}}",
                "search:{{payload.query_id}}:count": "{{search.output.count}}",
            },
            "ex": 600,
        },
    }
]
