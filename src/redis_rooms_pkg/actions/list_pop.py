"""list_pop: take values off a list (a queue), waiting up to ``wait_s`` for one to arrive."""

from __future__ import annotations

import time

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionOutput,
    Params,
)
from redis_rooms_pkg.actions.params import MAX_WAIT
from redis_rooms_pkg.services.errors import AddonError

BLOCK_MARGIN = 1.0  # s, a blocking call ends this long before the socket timeout (or halfway)
MIN_BLOCK = 0.001  # s, shortest blocking call (Redis counts block timeouts in milliseconds)


class ListPopOutput(ActionOutput):
    key: str | None = Field(default="", description="List key")
    values: list[str] | None = Field(default_factory=list, description="Values taken, in pop order")
    found: bool | None = Field(default=False, description="Whether any value was taken")


def block_slice(socket_timeout: float | None) -> float:
    """How long one blocking command may wait so its reply comes before the socket times out."""
    if socket_timeout is None:
        return MAX_WAIT
    return max(socket_timeout - BLOCK_MARGIN, socket_timeout / 2)


def _pop_now(ctx: ActionContext, key: str, side: str, count: int) -> list[bytes]:
    command = "LPOP" if side == "left" else "RPOP"
    if count == 1:
        value = ctx.client.execute_command(command, key, **RAW)
        return [] if value is None else [value]
    return ctx.client.execute_command(command, key, count, **RAW) or []


def _pop_waiting(ctx: ActionContext, key: str, side: str, wait_s: float) -> list[bytes]:
    """One value, blocking in slices shorter than the socket timeout until wait_s has passed."""
    command = "BLPOP" if side == "left" else "BRPOP"
    deadline = time.monotonic() + wait_s
    slice_s = block_slice(ctx.socket_timeout)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        timeout = max(MIN_BLOCK, round(min(remaining, slice_s), 3))
        reply = ctx.client.execute_command(command, key, timeout, **RAW)
        if reply is not None:
            return [reply[1]]


def _texts(ctx: ActionContext, key: str, side: str, values: list[bytes], name: str) -> list[str]:
    """The popped values as text; values that are not UTF-8 are put back, never lost (422)."""
    try:
        return [value.decode("utf-8") for value in values]
    except UnicodeDecodeError:
        # Back where they came from, in their order: the first popped ends nearest that end.
        (ctx.client.lpush if side == "left" else ctx.client.rpush)(key, *reversed(values))
        raise AddonError(
            422,
            f"a value taken from {name!r} is not UTF-8 text, so it cannot be returned; "
            f"the {len(values)} value(s) were put back on the list",
        ) from None


def list_pop(ctx: ActionContext, params: Params) -> ListPopOutput:
    key = ctx.keys.key(params.key)
    values = _pop_now(ctx, key, params.side, params.count)
    if not values and params.wait_s > 0:
        values = _pop_waiting(ctx, key, params.side, params.wait_s)
        if values and params.count > 1:
            values += _pop_now(ctx, key, params.side, params.count - 1)
    texts = _texts(ctx, key, params.side, values, params.key)
    message = (
        f"took {len(texts)} value(s) from {params.key!r}"
        if texts
        else f"{params.key!r} is empty" + (f" (waited {params.wait_s:g}s)" if params.wait_s else "")
    )
    return ListPopOutput(key=params.key, values=texts, found=bool(texts), message=message)


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "take-job",
        "name": "Take the next job",
        "action": "redis-cache::list_pop",
        "parameters": {"key": "queue:thumbnails", "wait_s": 5},
    }
]
