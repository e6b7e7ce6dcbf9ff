"""delete_key: remove one key or a list of keys (UNLINK: memory is freed in the background)."""

from __future__ import annotations

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Key,
    Keys,
)


class DeleteKeyInput(ActionInput):
    key: Key | None = Field(default=None, description="Redis key to delete")
    keys: Keys | None = Field(
        default=None, description="Several Redis keys to delete (instead of key)"
    )

    @model_validator(mode="after")
    def _one_of(self) -> DeleteKeyInput:
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


def delete_key(ctx: ActionContext, params: DeleteKeyInput) -> DeleteKeyOutput:
    if params.key is not None:
        deleted = unlink(ctx, [params.key]) == 1
        message = f"deleted {params.key!r}" if deleted else f"{params.key!r} did not exist"
        return DeleteKeyOutput(
            key=params.key, deleted=deleted, deleted_count=int(deleted), message=message
        )
    names = list(dict.fromkeys(params.keys or []))  # a key named twice is deleted once
    count = unlink(ctx, names)
    return DeleteKeyOutput(
        deleted=count > 0,
        deleted_count=count,
        message=f"deleted {count} of {len(names)} key(s)",
    )


SPEC = ActionSpec(
    name="delete_key",
    summary="Remove a key (or a list of keys); deleted is false when none existed.",
    input=DeleteKeyInput,
    output=DeleteKeyOutput,
    run=delete_key,
    read_only=False,
    destructive=True,
)
