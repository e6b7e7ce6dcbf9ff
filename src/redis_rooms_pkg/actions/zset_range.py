"""zset_range: read a sorted set by rank or by score (ZRANGE, Redis 6.2+ form), bounded by limit."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    INT64_MAX,
    INT64_MIN,
    RAW,
    ActionContext,
    ActionInput,
    ActionOutput,
    Params,
    check_response,
    output,
    reply_size,
)
from redis_rooms_pkg.actions.zset_add import score_text

_INTEGER = re.compile(r"^[+-]?[0-9]{1,19}$")
_INFINITE = {"-inf": "-inf", "+inf": "+inf", "inf": "+inf"}


def rank_of(value: Any, what: str) -> int:
    """A rank given as a whole number or its text; ValueError otherwise."""
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f'{what} must be a whole number (a rank) when by is "rank"')
    return value


def score_bound(value: Any, what: str) -> str:
    """A score bound as ZRANGE BYSCORE reads it: a finite number, -inf/+inf, or "(" + number."""
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f'{what} must be a finite number, "-inf" or "+inf"')
        return score_text(float(value))
    text = value.strip().lower()
    if text in _INFINITE:
        return _INFINITE[text]
    exclusive = text.startswith("(")
    try:
        number = float(text[1:] if exclusive else text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(
            f'{what} must be a finite number, "-inf", "+inf", or "(" before a number (exclusive)'
        )
    return ("(" if exclusive else "") + score_text(number)


class ZsetRangeRules(ActionInput):
    """start and stop are ranks or score bounds, as by says."""

    @model_validator(mode="after")
    def _bounds_fit_by(self) -> ZsetRangeRules:
        for what in ("start", "stop"):
            value = getattr(self, what)
            if value is not None:
                (rank_of if self.by == "rank" else score_bound)(value, what)
        return self


class ZsetRangeOutput(ActionOutput):
    key: str | None = Field(default=None, description="Sorted-set key")
    members: list[str] | None = Field(default=None, description="Members, in range order")
    scores: list[float] | None = Field(
        default=None, description="With with_scores: each member's score, in the same order"
    )
    count: int | None = Field(default=None, description="Number of members returned")
    truncated: bool | None = Field(
        default=None, description="Whether more members matched than limit"
    )


def _rank_args(ctx: ActionContext, key: str, params: Params) -> list[Any] | None:
    """ZRANGE arguments for a rank range, one member past limit (to tell truncated); None when
    the range is empty."""
    start = 0 if params.start is None else rank_of(params.start, "start")
    stop = -1 if params.stop is None else rank_of(params.stop, "stop")
    if start < 0 or stop < 0:
        size = int(ctx.client.zcard(key))
        start = max(0, start + size) if start < 0 else start
        stop = stop + size if stop < 0 else stop
    if stop < start:
        return None
    return [start, min(stop, start + params.limit)] + (["REV"] if params.reverse else [])


def _score_args(params: Params) -> list[Any]:
    low = "-inf" if params.start is None else score_bound(params.start, "start")
    high = "+inf" if params.stop is None else score_bound(params.stop, "stop")
    bounds = [high, low, "BYSCORE", "REV"] if params.reverse else [low, high, "BYSCORE"]
    return [*bounds, "LIMIT", 0, params.limit + 1]


def _pairs(reply: list[Any], with_scores: bool) -> list[tuple[bytes, Any]]:
    """(member, score) pairs of a ZRANGE reply: flat with WITHSCORES on RESP2, already paired
    by redis-py on some versions and RESP3; score None without WITHSCORES."""
    if not with_scores:
        return [(member, None) for member in reply]
    if reply and isinstance(reply[0], list | tuple):
        return [(member, score) for member, score in reply]
    return list(zip(reply[::2], reply[1::2], strict=True))


def zset_range(ctx: ActionContext, params: Params) -> ZsetRangeOutput:
    key = ctx.keys.key(params.key)
    args = _rank_args(ctx, key, params) if params.by == "rank" else _score_args(params)
    reply: list[Any] = []
    if args is not None:
        scores_arg = ["WITHSCORES"] if params.with_scores else []
        reply = ctx.client.execute_command("ZRANGE", key, *args, *scores_arg, **RAW) or []
    pairs = _pairs(reply, params.with_scores)
    truncated = len(pairs) > params.limit
    pairs = pairs[: params.limit]
    check_response(
        ctx,
        reply_size([member for member, _ in pairs]),
        "ask for fewer members (limit) or a narrower range (start, stop)",
    )
    members = [bytes(member).decode("utf-8", "replace") for member, _ in pairs]
    scores = [float(score) for _, score in pairs] if params.with_scores else None
    more = " (more matched: narrow the range or raise limit)" if truncated else ""
    return output(
        ZsetRangeOutput,
        key=params.key,
        members=members,
        scores=scores,
        count=len(members),
        truncated=truncated,
        message=f"{len(members)} member(s) of {params.key!r}{more}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "top-ten",
        "name": "The ten best players",
        "action": "redis-cache::zset_range",
        "parameters": {
            "key": "leaderboard",
            "start": 0,
            "stop": 9,
            "reverse": True,
            "with_scores": True,
        },
    }
]
