"""delete_matching: delete the keys matching a glob pattern, in SCAN + UNLINK batches."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    NO_BOOL,
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Scanner,
)
from redis_rooms_pkg.actions.list_keys import SCAN_BATCH

DEFAULT_LIMIT = 10_000  # keys one call deletes unless told otherwise
MAX_LIMIT = 1_000_000
GLOB_SPECIAL = "*?[\\"  # characters that start a wildcard, a class or an escape in a glob


def starts_with_literal(pattern: str) -> bool:
    """Whether ``pattern`` begins with a literal character: one that is not ``*``, ``?`` or
    ``[``, or an escaped one (``\\x``). Only such a pattern cannot match every name: whatever
    follows, a name must begin with that character to match."""
    if pattern[:1] == "\\":
        return len(pattern) > 1
    return pattern[:1] not in ("", *GLOB_SPECIAL)


class DeleteMatchingInput(ActionInput):
    pattern: str = Field(
        min_length=1,
        description="Glob pattern of the keys to delete; it must begin with a literal character "
        '(not *, ? or [) unless allow_all is true, e.g. "session:*"',
    )
    limit: Annotated[int, NO_BOOL] = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Delete at most this many keys"
    )
    allow_all: bool = Field(
        default=False,
        description='Allow a pattern that may match every key (such as "*" or "?*")',
    )

    @model_validator(mode="after")
    def _not_everything(self) -> DeleteMatchingInput:
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


def delete_matching(ctx: ActionContext, params: DeleteMatchingInput) -> DeleteMatchingOutput:
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
    return DeleteMatchingOutput(
        deleted_count=deleted,
        truncated=truncated,
        message=f"deleted {deleted} key(s) matching {params.pattern!r}{more}",
    )


SPEC = ActionSpec(
    name="delete_matching",
    summary="Delete the keys matching a glob pattern, at most limit per call (SCAN + UNLINK).",
    input=DeleteMatchingInput,
    output=DeleteMatchingOutput,
    run=delete_matching,
    read_only=False,
    destructive=True,
)
