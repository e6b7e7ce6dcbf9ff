"""delete_key: remove one key or a list of keys (UNLINK: memory is freed in the background)."""

from __future__ import annotations

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    output,
)


class DeleteKeyRules(ActionInput):
    """What delete_key's parameters must satisfy together (its input model's base)."""

    @model_validator(mode="after")
    def _one_of(self) -> DeleteKeyRules:
        if (self.key is None) == (self.keys is None):
            raise ValueError("give either key or keys (exactly one of them)")
        return self


class DeleteKeyOutput(ActionOutput):
    key: str | None = Field(default="", description="Redis key that was deleted")
    deleted: bool | None = Field(
        default=False, description="Whether the key existed and was deleted (with keys: any)"
    )
    deleted_count: int | None = Field(
        default=0, description="Number of keys that existed and were deleted"
    )


def unlink(ctx: ActionContext, names: list[str]) -> int:
    """UNLINK the keys the workflow calls ``names``; the number that existed."""
    return int(ctx.client.unlink(*(ctx.keys.key(name) for name in names)))


def delete_key(ctx: ActionContext, params: DeleteKeyRules) -> DeleteKeyOutput:
    if params.key is not None:
        deleted = unlink(ctx, [params.key]) == 1
        message = f"deleted {params.key!r}" if deleted else f"{params.key!r} did not exist"
        return output(
            DeleteKeyOutput,
            key=params.key,
            deleted=deleted,
            deleted_count=int(deleted),
            message=message,
        )
    names = list(dict.fromkeys(params.keys or []))  # a key named twice is deleted once
    count = unlink(ctx, names)
    return output(
        DeleteKeyOutput,
        deleted=count > 0,
        deleted_count=count,
        message=f"deleted {count} of {len(names)} key(s)",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "clear-session",
        "name": "Clear Session Data",
        "action": "redis-cache::delete_key",
        "parameters": {"key": "session:{{payload.user_id}}"},
    }
]
