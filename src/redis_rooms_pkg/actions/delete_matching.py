"""delete_matching: delete the keys matching a glob pattern, in SCAN + UNLINK batches."""

from __future__ import annotations

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    Scanner,
    output,
)
from redis_rooms_pkg.actions.list_keys import SCAN_BATCH

GLOB_SPECIAL = "*?[\\"  # characters that start a wildcard, a class or an escape in a glob


def starts_with_literal(pattern: str) -> bool:
    """Whether ``pattern`` begins with a literal character: one that is not ``*``, ``?`` or
    ``[``, or an escaped one (``\\x``). Only such a pattern cannot match every name: whatever
    follows, a name must begin with that character to match."""
    if pattern[:1] == "\\":
        return len(pattern) > 1
    return pattern[:1] not in ("", *GLOB_SPECIAL)


class DeleteMatchingRules(ActionInput):
    """What delete_matching's parameters must satisfy together (its input model's base)."""

    @model_validator(mode="after")
    def _not_everything(self) -> DeleteMatchingRules:
        if not self.allow_all and not starts_with_literal(self.pattern):
            raise ValueError(
                f"pattern {self.pattern!r} does not begin with a literal character, so it may "
                'match every key: begin it with the keys\' common start (e.g. "session:*") or '
                "pass allow_all=true"
            )
        return self


class DeleteMatchingOutput(ActionOutput):
    deleted_count: int | None = Field(default=0, description="Number of keys deleted")
    truncated: bool | None = Field(
        default=False, description="Whether matching keys may remain because limit was reached"
    )


def unlink_stored(ctx: ActionContext, stored: list[bytes]) -> int:
    """UNLINK stored key names (already prefixed); the number that still existed."""
    return int(ctx.client.unlink(*stored)) if stored else 0


def delete_matching(ctx: ActionContext, params: DeleteMatchingRules) -> DeleteMatchingOutput:
    match = ctx.keys.pattern(params.pattern)
    scanner = Scanner(ctx)  # every primary, on a cluster
    position: tuple[int, int] | None = scanner.start()
    deleted, left_over = 0, False
    prefix = ctx.keys.prefix.encode()
    while position is not None:
        # Names as bytes: a key whose name is not UTF-8 text is matched and deleted like any.
        position, batch = scanner.step(position, match, SCAN_BATCH)
        stored = sorted({key for key in batch if key.startswith(prefix)})
        room = params.limit - deleted
        left_over = len(stored) > room
        deleted += unlink_stored(ctx, stored[:room])
        if deleted >= params.limit:
            break
    truncated = left_over or position is not None
    more = f" (limit {params.limit} reached: more may match)" if truncated else ""
    return output(
        DeleteMatchingOutput,
        deleted_count=deleted,
        truncated=truncated,
        message=f"deleted {deleted} key(s) matching {params.pattern!r}{more}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "clear-user-cache",
        "name": "Clear the user's cache",
        "action": "redis-cache::delete_matching",
        "parameters": {"pattern": "cache:{{payload.user_id}}:*"},
    }
]
