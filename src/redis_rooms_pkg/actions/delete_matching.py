"""delete_matching: delete the keys matching a glob pattern, in SCAN + UNLINK batches."""

from __future__ import annotations

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Scanner,
)
from redis_rooms_pkg.actions.list_keys import SCAN_BATCH

DEFAULT_LIMIT = 10_000  # keys one call deletes unless told otherwise
MAX_LIMIT = 1_000_000


class DeleteMatchingInput(ActionInput):
    pattern: str = Field(min_length=1, description='Glob pattern of the keys to delete ("*": all)')
    limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Delete at most this many keys"
    )
    allow_all: bool = Field(
        default=False, description='Allow a pattern that matches every key (such as "*")'
    )

    @model_validator(mode="after")
    def _not_everything(self) -> DeleteMatchingInput:
        if set(self.pattern) == {"*"} and not self.allow_all:
            raise ValueError(
                f"pattern {self.pattern!r} matches every key; narrow it or pass allow_all=true"
            )
        return self


class DeleteMatchingOutput(ActionOutput):
    deleted_count: int | None = Field(default=0, description="Number of keys deleted")
    truncated: bool | None = Field(
        default=False, description="Whether matching keys may remain because limit was reached"
    )


def unlink_stored(ctx: ActionContext, stored: list[str]) -> int:
    """UNLINK stored key names (already prefixed); the number that still existed."""
    return int(ctx.client.unlink(*stored)) if stored else 0


def delete_matching(ctx: ActionContext, params: DeleteMatchingInput) -> DeleteMatchingOutput:
    match = ctx.keys.pattern(params.pattern)
    scanner = Scanner(ctx)  # every primary, on a cluster
    position: tuple[int, int] | None = scanner.start()
    deleted, left_over = 0, False
    while position is not None:
        position, batch = scanner.step(position, match, SCAN_BATCH)
        stored = sorted({key for key in batch if ctx.keys.contains(key)})
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
